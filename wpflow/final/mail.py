"""The e-mail that carries a WP final report or the joint final report (templates/email/final_report.*)."""

from __future__ import annotations

from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path

from schemas.final import ProjectStory, WPStory
from schemas.project import Participant, Project
from schemas.records import ReportRef
from wpflow.final.deliverable import frame_context
from wpflow.final.tables import status_counts
from wpflow.mail.compose import DOCX_TYPE, PDF_TYPE, Attachment, compose
from wpflow.mail.words import names
from wpflow.report.plain_words import long_date


def story_lines(story: WPStory | ProjectStory) -> list[str]:
    """A few lines for the body: the milestones reported and how the inputs stood."""
    wps = [story] if isinstance(story, WPStory) else story.wps
    milestones = [m for w in wps for m in w.milestones]
    reported = sum(1 for m in milestones if m.standing == "reported")
    statuses = [d.status for m in milestones for d in m.deliveries]
    lines = [f"{reported} of {len(milestones)} milestones reported; inputs: {status_counts(statuses)}."]
    meetings = sum(len(w.meetings) for w in wps)
    lines.append(f"{meetings} meetings on the timeline; {sum(len(w.inputs) for w in wps)} partner files used.")
    frame = frame_context(None, story.frame, final=story.status == "final", what="", end=story.end, as_of=story.as_of)
    if frame["status_note"] and story.status == "final":  # a draft before the end is never mailed
        lines.append(frame["status_note"])
    return lines


def compose_final_email(
    project: Project,
    story: WPStory | ProjectStory,
    report: ReportRef,
    recipient: Participant,
    *,
    key: str,
    received: Iterable[Participant] = (),
    since: str | None = None,
    changes: list[str] | None = None,
    attach: Iterable[Path] = (),
    version: int | None = None,
    thread: str | None = None,
    templates: Path | None = None,
) -> EmailMessage:
    """The report for one recipient, DOCX attached (and the PDF when the project asks for it);
    the lead partner and the WP's co-ordinator also read who else received it."""
    path = Path(report.path)
    is_wp = isinstance(story, WPStory)
    wp_id = story.wp_id if isinstance(story, WPStory) else None
    answers = {project.lead} | ({project.work_package(wp_id).coordinator} if wp_id else set())
    others = [p for p in received if p.id != recipient.id] if recipient.id in answers else []
    return compose(
        "final_report",
        {
            "what": f"{story.wp_id} final report" if isinstance(story, WPStory) else "joint final report",
            "title": f"{story.wp_id} {story.wp_title}" if isinstance(story, WPStory) else story.project_title,
            "is_wp": is_wp,
            "report": report,
            "report_name": path.name,
            "end": long_date(story.end),
            "update": since is not None,
            "since": since,
            "changes": changes or [],
            "story_lines": story_lines(story),
            "received_by": names(others),
            "as_of": story.as_of,
        },
        project=project,
        recipient=recipient,
        templates=templates,
        key=key,
        as_of=story.as_of,
        wp_id=wp_id,
        version=version if version is not None else report.version,
        thread=thread,
        attachments=[
            Attachment.from_path(path, DOCX_TYPE),
            *(Attachment.from_path(p, PDF_TYPE) for p in attach),
        ],
    )
