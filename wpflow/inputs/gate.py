"""The one gate a partner file passes before any parser sees it — validation, the annotated
copy, the template's metadata sheet and `wpflow validate` alike.

It checks, in this order and each at most once: that the path is a regular file and not a
symlink (judged by `lstat`, so a link is refused without being read), its size against
`Settings.max_file_mb`, its container (zip bombs, encryption, damage: `wpflow.inputs.safety`),
how much it holds (what it unpacks to against `Settings.max_unpacked_mb`, each sheet's or a
CSV file's rows against `Settings.max_rows`: `InputLimits`), and for a generated template the
partner it was made for. A refused file gets a `GateVerdict` saying why and
is never opened by a parser afterwards: a 118 KB zip bomb once cost 1.2 GB when the annotated
copy re-read what validation had refused.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.inputs import InputKind
from schemas.records import Issue, ValidationResult
from wpflow.file_names import shown_name
from wpflow.inputs.safety import InputLimits

GateCode = Literal["accepted", "missing", "symlink", "not-a-file", "unreadable", "other-partner"]
# refusals that mean "cannot be read" (exit 2); "other-partner" is a readable file that is wrong (exit 1)
UNREADABLE_CODES = frozenset({"missing", "symlink", "not-a-file", "unreadable"})


class GateVerdict(BaseModel):
    """Whether a file may be parsed, and if not, why — in words a partner can act on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="The partner's file name, escaped for display (no raw control characters)")
    code: GateCode = Field(description="accepted, or which check refused the file")
    reason: str | None = Field(None, description="Why the file was refused, completing 'the file …'; None if accepted")
    claimed_partner: str | None = Field(None, description="The partner a generated template says it was made for")
    sheet: str | None = Field(None, description="The sheet that is the reason for the refusal, if one is")

    @property
    def accepted(self) -> bool:
        return self.code == "accepted"

    @property
    def unreadable(self) -> bool:
        """The file could not be read at all (CLI exit 2), rather than read and found wrong."""
        return self.code in UNREADABLE_CODES

    def issue(self) -> Issue:
        """The refusal as the single problem of a validation result."""
        if self.code == "other-partner":
            from wpflow.inputs.workbook_metadata import METADATA_SHEET

            return Issue(
                file=self.file,
                sheet=METADATA_SHEET,
                field="partner",
                value=self.claimed_partner,
                message=self.reason or "",
            )
        return Issue(file=self.file, sheet=self.sheet, message=self.reason or "")

    def result(self, kinds: Mapping[str, InputKind], expected: Sequence[str] = ()) -> ValidationResult:
        """A validation result for a refused file, its kind guessed from the name alone."""
        from wpflow.inputs.detect_kind import detect_kind

        return ValidationResult(
            file=self.file, kind=detect_kind(Path(self.file), kinds, expected), issues=[self.issue()]
        )


def gate_file(
    path: Path,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    partner: str | None = None,
    milestone: str | None = None,
    from_folder: bool = True,
    limits: InputLimits | None = None,
) -> GateVerdict:
    """Run every check once on `path` (shown as the partner's `name`; its suffix says the format).
    `partner`, when given, must be the one a generated template was made for (`from_folder`:
    the partner's inbox folder says so, else the command line). `limits` (default: the
    settings' defaults) bound what the file may hold; `max_bytes` overrides its size limit."""
    from wpflow.inputs.safety import Unreadable, check_container

    path = Path(path)
    shown = shown_name(name or path.name)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return GateVerdict(file=shown, code="missing", reason="is not there (no such file)")
    except OSError as exc:
        return GateVerdict(file=shown, code="unreadable", reason=f"cannot be read ({exc.strerror or exc})")
    if stat.S_ISLNK(mode):
        return GateVerdict(
            file=shown, code="symlink", reason="is a symbolic link; links are never followed, send the file itself"
        )
    if not stat.S_ISREG(mode):
        return GateVerdict(file=shown, code="not-a-file", reason="is not a regular file")
    try:
        suffix = Path(name or path.name).suffix.lower()
        check_container(path, suffix, max_bytes, limits)
        if suffix == ".csv":  # a .txt may be Markdown: its reader counts rows if it is a table
            from wpflow.inputs.readers import check_csv_rows

            check_csv_rows(path, (limits or InputLimits()).max_rows)
    except Unreadable as exc:
        return GateVerdict(file=shown, code="unreadable", reason=str(exc), sheet=exc.sheet)
    except OSError as exc:
        return GateVerdict(file=shown, code="unreadable", reason=f"cannot be read ({exc.strerror or exc})")
    return partner_verdict(path, shown, Path(name or path.name).suffix.lower(), partner, milestone, from_folder)


def partner_verdict(
    path: Path, shown: str, suffix: str, partner: str | None, milestone: str | None, from_folder: bool = True
) -> GateVerdict:
    """Refuse a generated template made for another partner: the folder (or `--partner`) says
    who sent it, so its data would be filed under the wrong city. Only after the container
    checks: reading the metadata sheet is a parse."""
    if partner is None:
        return GateVerdict(file=shown, code="accepted")
    from wpflow.inputs.workbook_metadata import read_metadata

    claimed = read_metadata(path, suffix).get("partner")
    if not claimed or claimed == partner:
        return GateVerdict(file=shown, code="accepted")
    fix = f"wpflow template {milestone or '<milestone>'} --partner {partner}"
    sent = f"the file was sent from {partner}'s folder" if from_folder else f"it was given as {partner}'s (--partner)"
    return GateVerdict(
        file=shown,
        code="other-partner",
        claimed_partner=claimed,
        reason=f"this template was made for {claimed}, but {sent}; fill in your own template ({fix})",
    )
