"""The receipt for one delivered file (`receipt.txt.j2`): accepted, or what to correct — and,
either way, where a file goes next time and by when, so the partner can act on it alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from schemas.project import Milestone, Participant, Project
from schemas.records import Submission, ValidationResult
from wpflow.mail.compose import XLSX_TYPE, Attachment, compose
from wpflow.mail.words import how_to_deliver, send_by

# What a partner calls the file it sent: a CSV or a text file is not a workbook
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
ANNOTATED = " (annotated).xlsx"  # the attachment's name: the partner's own, then this


def compose_receipt_email(
    project: Project,
    milestone: Milestone,
    submission: Submission,
    result: ValidationResult,
    recipient: Participant,
    *,
    key: str,
    promise: str = "",
    cc: Iterable[str] = (),
    annotated: Path | None = None,
    templates: Path | None = None,
    as_of: date | None = None,
) -> EmailMessage:
    """A receipt for one delivered file: accepted, or the list of problems (each located as
    `file, sheet S, row 7, column D (field): 'value' message`), with the annotated copy; how to
    send a corrected file and by when."""
    from wpflow.file_names import bounded_name, shown_name
    from wpflow.inputs.problems import PROBLEMS_CSV, receipt_problems

    attachments = []
    if annotated is not None:  # a name the partner's mail program can save as a file
        name = bounded_name(f"{shown_name(Path(submission.file_name).stem)}{ANNOTATED}", suffix=ANNOTATED)
        attachments.append(Attachment.from_path(annotated, XLSX_TYPE, filename=name))
    problems = receipt_problems(result.issues)  # bounded: the first ones in full, all in problems.csv
    if problems.csv is not None:
        attachments.append(Attachment(filename=PROBLEMS_CSV, data=problems.csv, mime=("text", "csv")))
    arrived = submission.modified_at.date()
    return compose(
        "receipt",
        {
            "milestone": milestone,
            "submission": submission,
            "file_name": shown_name(submission.file_name),
            "workbook": Path(submission.file_name).suffix.lower() in WORKBOOK_SUFFIXES,
            "arrived": arrived,
            "valid": result.valid,
            "errors": problems.errors,
            "error_count": problems.error_count,
            "warnings": problems.warnings,
            "more": problems.more,
            "kind_detected": result.kind,
            "annotated": annotated is not None,
            "promise": promise,
            "deliver": how_to_deliver(project, recipient, milestone.id),
            "send_by": send_by(project, milestone, arrived),
        },
        project=project,
        recipient=recipient,
        cc=cc,
        templates=templates,
        key=key,
        attachments=attachments,
        wp_id=milestone.wp_id,
        as_of=as_of,
    )
