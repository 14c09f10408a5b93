"""Quarantine: where a person looks for a refused file and why. Per invalid file, in
`quarantine/<project>/<partner>/<milestone>/`, an entry per version and content: a note (the
file, its hash, where its bytes are archived, the first problems), the full problem list when
the note could not hold it, and the annotated copy of a file the gate let through.

An entry's name is made from the partner's file name, escaped (`shown_name`) and bounded
(`bounded_name`) so that every name of the entry, its longest suffix included, is a name the
filesystem takes: a partner's name of 255 bytes was allowed in the inbox and must not block the
milestone here. A failed write says what it was writing and where (`wpflow.files.WriteFailed`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from schemas.inputs import InputKind
from schemas.records import Submission, ValidationResult
from wpflow.file_names import MAX_NAME_BYTES, bounded_name, name_bytes, shown_name
from wpflow.files import WriteFailed, writing

log = logging.getLogger(__name__)

NOTE, PROBLEMS_CSV, ANNOTATED = ".txt", ".problems.csv", ".annotated.xlsx"
LONGEST_SUFFIX = max(name_bytes(s) for s in (NOTE, PROBLEMS_CSV, ANNOTATED))


def quarantine_stem(sub: Submission) -> str:
    """`seed_funding_riga.v2.0123456789ab`: one entry per version and content; the name is
    escaped (a stem with a newline would be a file name nobody can type) and shortened to leave
    room for the version, the hash and the longest suffix."""
    tail = f".v{sub.version}.{sub.sha256[:12]}"
    room = MAX_NAME_BYTES - name_bytes(tail) - LONGEST_SUFFIX
    return bounded_name(shown_name(Path(sub.file_name).stem), room, suffix="") + tail


def annotated_copy_path(folder: Path, sub: Submission) -> Path:
    return folder / f"{quarantine_stem(sub)}{ANNOTATED}"


def write_quarantine_entry(
    folder: Path, sub: Submission, result: ValidationResult, *, annotate: bool, kind: InputKind | None
) -> Path:
    """Write the entry of an invalid file into `folder` and return its note. `annotate`: the
    gate let the file through, so its annotated copy is made (opening a refused file with
    openpyxl is what the gate prevents). A copy openpyxl cannot make is logged and left out; a
    copy the disk cannot take fails the run like any write, so the next run makes it."""
    from wpflow.inputs.problems import first_problems, more_line, problems_csv

    with writing(folder, "the quarantine folder"):
        folder.mkdir(parents=True, exist_ok=True)
    stem = quarantine_stem(sub)
    shown, more = first_problems(result.issues)
    lines = [f"File: {shown_name(sub.file_name)}", f"SHA-256: {sub.sha256}", f"Archived at: {sub.archive_path}", ""]
    lines += [str(issue) for issue in shown]
    if more:
        lines.append(more_line(more, f"{stem}{PROBLEMS_CSV}"))
        with writing(folder / f"{stem}{PROBLEMS_CSV}", "the quarantine problem list") as path:
            path.write_bytes(problems_csv(result.issues))
    with writing(folder / f"{stem}{NOTE}", "the quarantine note") as note:
        note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if not annotate:
        return note
    from wpflow.inputs.annotate import write_annotated_copy

    try:
        write_annotated_copy(Path(sub.archive_path), result, annotated_copy_path(folder, sub), kind)
    except WriteFailed:
        raise
    except Exception as exc:
        log.warning("no annotated copy for %s: %s", shown_name(sub.file_name), exc)
    return note
