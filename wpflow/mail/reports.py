"""The e-mails about a milestone report: a version to one recipient (`report.txt.j2`), and the
word to the WP co-ordinator and the lead when nothing arrived (`empty.txt.j2`).

Each recipient's copy is its own message: a partner reads its own input's state, the WP
co-ordinator who is missing and what to forward, the lead where the WP stands and who received
the version (`wpflow.mail.audience`). Nobody is in copy of someone else's message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from schemas.project import Milestone, Participant, Project
from schemas.records import ReportRef, WPSummary
from wpflow.mail.audience import Audience, audience
from wpflow.mail.compose import DOCX_TYPE, PDF_TYPE, Attachment, compose
from wpflow.mail.words import send_by


def compose_report_email(
    project: Project,
    milestone: Milestone,
    report: ReportRef,
    recipient: Participant,
    *,
    key: str,
    summary: WPSummary | None = None,
    received: Iterable[Participant] = (),
    since: str | None = None,
    changes: list[str] | None = None,
    summary_lines: list[str] | None = None,
    attach: Iterable[Path] = (),
    thread: str | None = None,
    version: int | None = None,
    templates: Path | None = None,
) -> EmailMessage:
    """The milestone report for one recipient, DOCX attached (and the PDF when the project
    asks for it: `attach`). `since` names the version this one replaces ("v1 of 19 June 2005")
    and `changes` says what changed, so readers know to replace the copy they have;
    `received`: everyone this version goes to, named to the co-ordinator and the lead;
    `summary`: what the version was made from, which the reader-specific paragraphs speak of."""
    path = Path(report.path)
    extra = [Attachment.from_path(p, PDF_TYPE) for p in attach]
    reader = audience(project, milestone, summary, recipient, list(received)) if summary else Audience((), ())
    as_of = summary.as_of if summary else report.generated_at.date()
    return compose(
        "report",
        {
            "milestone": milestone,
            "report": report,
            "report_name": path.name,
            "update": since is not None,
            "since": since,
            "changes": changes or [],
            "summary_lines": summary_lines or [],
            "paragraphs": reader.paragraphs,
            "forward": reader.forward,
            "as_of": as_of,
        },
        project=project,
        recipient=recipient,
        templates=templates,
        key=key,
        attachments=[Attachment.from_path(path, DOCX_TYPE), *extra],
        as_of=as_of,
        wp_id=milestone.wp_id,
        version=version if version is not None else report.version,
        thread=thread,
    )


def compose_empty_email(
    project: Project,
    milestone: Milestone,
    recipient: Participant,
    *,
    key: str,
    outstanding: list[str],
    as_of: date,
    templates: Path | None = None,
) -> EmailMessage:
    """To the WP coordinator or the lead instead of an empty report: nothing usable arrived
    by the due date, so no report went to the partners."""
    return compose(
        "empty",
        {
            "milestone": milestone,
            "outstanding": outstanding,
            "as_of": as_of,
            "send_by": send_by(project, milestone, as_of),
        },
        project=project,
        recipient=recipient,
        templates=templates,
        key=key,
        as_of=as_of,
        wp_id=milestone.wp_id,
    )
