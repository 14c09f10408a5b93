"""The milestone's stages as plain functions over a `Workspace` (`wpflow.workspace`: settings,
project, store, mailer).

Prefect tasks in `tasks/` are thin wrappers around these; the CLI's direct mode and the
benchmarks' baseline call them unchanged, so "with Prefect" and "without" differ by the
orchestration only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.project import Milestone, Project
from schemas.records import (
    CheckedSubmission,
    Notice,
    PartnerStatus,
    Submission,
    ValidationResult,
    WPSummary,
)
from wpflow.file_names import shown_name
from wpflow.inputs.gate import GateVerdict
from wpflow.report.plain_words import format_value, long_date
from wpflow.workspace import Workspace

if TYPE_CHECKING:
    from wpflow.mail.send_once import Outgoing


# -- collect ----------------------------------------------------------------------------
def collect_stage(ws: Workspace, milestone: Milestone, as_of: date | None) -> list[Submission]:
    """Archive the milestone's inbox files, record them, and return the stored submissions
    (new and earlier ones: a partner may have removed a file we already hold)."""
    from wpflow.milestone.collect import collect_milestone

    found = collect_milestone(
        ws.project,
        milestone,
        inbox_root=ws.settings.inbox_root,
        archive_dir=ws.settings.archive_dir,
        as_of=as_of,
        stable_seconds=ws.settings.stable_seconds,
    )
    ws.store.add_submissions(found)
    stored = ws.store.submissions(ws.project.name, milestone=milestone.id)
    if as_of is not None:
        stored = [s for s in stored if s.modified_at.date() <= as_of]
    return stored


# -- validate ---------------------------------------------------------------------------
RECORD_EVERY = 200  # files judged per store transaction: few commits, a write lock held briefly


def validate_submission(ws: Workspace, sub: Submission, expected: list[str]) -> CheckedSubmission:
    """Validate one archived file (`validate_stage` for one, as a received upload is)."""
    return validate_submissions(ws, [sub], expected)[0]


def validate_stage(ws: Workspace, milestone: Milestone, subs: Iterable[Submission]) -> list[CheckedSubmission]:
    return validate_submissions(ws, list(subs), [r.kind for r in milestone.inputs])


def validate_submissions(ws: Workspace, subs: list[Submission], expected: list[str]) -> list[CheckedSubmission]:
    """Judge each archived file, record the results a chunk at a time (one transaction each:
    recording file by file was most of the stage at 500 partners), then write the quarantine
    receipts, which name the version the store settled."""
    checked: list[CheckedSubmission] = []
    for start in range(0, len(subs), RECORD_EVERY):
        judged = [(sub, *judge_submission(ws, sub, expected)) for sub in subs[start : start + RECORD_EVERY]]
        stored = ws.store.record_results([(sub, result) for sub, result, _ in judged])
        for sub, (_, result, parsed) in zip(stored, judged, strict=True):
            if not result.valid:
                write_quarantine_receipt(ws, sub, result, annotate=parsed)
            checked.append(CheckedSubmission(submission=sub, result=result))
    return checked


def judge_submission(ws: Workspace, sub: Submission, expected: list[str]) -> tuple[ValidationResult, bool]:
    """One archived file's result (never the inbox copy, which the partner may change) and
    whether it was parsed. The gate decides first; a file it refuses gets its reason and is
    never parsed (nor annotated: opening it is what the gate prevents)."""
    from wpflow.inputs.safety import InputLimits
    from wpflow.inputs.validate import validate_file

    partner = ws.project.participant(sub.partner)
    verdict = gate_submission(ws, sub)
    if not verdict.accepted:
        return verdict.result(ws.project.input_kinds, expected), False
    result = validate_file(
        Path(sub.archive_path),
        sub.kind,
        kinds=ws.project.input_kinds,
        expected=expected,
        display_name=shown_name(sub.file_name),
        city=partner.city,
        region=partner.region,
        gated=True,
        limits=InputLimits.of(ws.settings),
    )
    return result, True


def gate_submission(ws: Workspace, sub: Submission) -> GateVerdict:
    """The gate for an archived file, with the settings' size limit and the partner whose
    folder it came from."""
    from wpflow.inputs.gate import gate_file
    from wpflow.inputs.safety import InputLimits

    return gate_file(
        Path(sub.archive_path),
        name=sub.file_name,
        max_bytes=ws.settings.max_file_bytes,
        partner=sub.partner,
        milestone=sub.milestone,
        limits=InputLimits.of(ws.settings),
    )


def write_quarantine_receipt(
    ws: Workspace, sub: Submission, result: ValidationResult, *, annotate: bool = True
) -> Path:
    """Keep an invalid file's receipt, its full problem list and (for a file the gate let
    through: `annotate`) its annotated copy beside its quarantine entry
    (`wpflow.inputs.quarantine`). The original bytes stay in the archive under their hash."""
    from wpflow.inputs.quarantine import write_quarantine_entry

    return write_quarantine_entry(
        quarantine_folder(ws, sub), sub, result, annotate=annotate, kind=ws.project.input_kinds.get(result.kind or "")
    )


def quarantine_folder(ws: Workspace, sub: Submission) -> Path:
    return ws.settings.quarantine_dir / sub.partner / sub.milestone


# -- merge, render, notify --------------------------------------------------------------
def merge_stage(ws: Workspace, milestone: Milestone, checked: list[CheckedSubmission], as_of: date) -> WPSummary:
    from wpflow.milestone.merge import merge_summary

    return merge_summary(ws.project, milestone, checked, as_of, folder=ws.settings.project)


def summary_lines(summary: WPSummary) -> list[str]:
    """A few lines for the e-mail body: status, who is missing, the headline numbers."""
    states = summary.partners
    delivered = sum(1 for s in states if s.status.delivered)
    lines = [f"Status: {summary.status} — {delivered} of {len(states)} required inputs delivered and valid."]
    if summary.missing:
        lines.append("Missing: " + ", ".join(summary.missing) + ".")
    invalid = sorted({s.city for s in states if s.status == PartnerStatus.invalid})
    if invalid:
        lines.append("Invalid (to be corrected): " + ", ".join(invalid) + ".")
    for table in summary.tables:
        first = table.columns[0] if table.columns else None
        if first:
            lines.append(
                f"{table.label}: {format_value(table.totals[first])} {first.lower()} across {len(table.rows)} cities."
            )
    return lines


def expected_kinds(project: Project, milestone: Milestone) -> list[str]:
    return [r.kind for r in milestone.inputs if r.kind in project.input_kinds]


def send_receipts(
    ws: Workspace,
    milestone: Milestone,
    checked: list[CheckedSubmission],
    promise: str | None = None,
    as_of: date | None = None,
) -> list[Notice]:
    """A receipt per submission to its partner: what was received, valid or its problems, and
    what will happen with it (`promise`: what `receipt_promise` said before this run issued a
    version — the pipeline sends receipts after rendering, so a mail outage never blocks the report).

    Keyed by the file's hash, so each distinct upload gets exactly one receipt however often
    the pipeline runs. `as_of`: the day a rehearsal speaks of (a receipt then says it is one).
    """
    from wpflow.mail.send_once import attempted, send_once

    return attempted(
        send_once(ws.store, ws.mailer, ws.project.name, (receipt(ws, milestone, c, promise, as_of) for c in checked))
    )


def receipt(
    ws: Workspace, milestone: Milestone, checked: CheckedSubmission, promise: str | None, as_of: date | None = None
) -> Outgoing:
    """The receipt for one checked file, to the partner it came from."""
    from wpflow.mail.idempotency import receipt_key
    from wpflow.mail.receipts import compose_receipt_email
    from wpflow.mail.send_once import Outgoing
    from wpflow.store.issued import About

    sub, result = checked.submission, checked.result
    partner = ws.project.participant(sub.partner)
    key = receipt_key(ws.project.name, milestone.id, partner.emails[0], sub.sha256)
    return Outgoing(
        key=key,
        recipient=partner.emails[0],
        kind="receipt",
        milestone=milestone.id,
        about=About(submission_sha256=sub.sha256),
        compose=lambda: compose_receipt_email(
            ws.project,
            milestone,
            sub,
            result,
            partner,
            key=key,
            promise=promise or receipt_promise(ws, milestone),
            annotated=None if result.valid else _annotated_copy_path(ws, sub),
            as_of=as_of,
        ),
    )


def receipt_promise(ws: Workspace, milestone: Milestone) -> str:
    """What will happen with a valid file, and nothing more: a report already sent gets an
    updated version; before that, the report goes out at the due date (or once complete)."""
    latest = ws.store.latest_version(ws.project.name, milestone.id)
    if latest is not None:
        return f"It will be in the updated {milestone.id} report, v{latest.version + 1}."
    if ws.project.reports.release == "due-or-complete":
        return (
            f"It will be in the {milestone.id} report, which goes out on {long_date(milestone.due)} "
            "or as soon as every partner's input has arrived."
        )
    return f"It will be in the {milestone.id} report, which goes out on {long_date(milestone.due)}."


def _annotated_copy_path(ws: Workspace, sub: Submission) -> Path | None:
    from wpflow.inputs.quarantine import annotated_copy_path

    path = annotated_copy_path(quarantine_folder(ws, sub), sub)
    return path if path.exists() else None
