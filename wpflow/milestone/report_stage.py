"""Issuing a milestone report: the release rule, report versions, rendering and sending.

The pipeline's last stages as plain functions over a `Workspace` (Prefect tasks in `tasks/`
wrap them; `wpflow run --direct` calls them as they are):

- `release_stage` applies the project's rule (`reports:` in project.yaml, see
  `wpflow.issue.content.release_decision`): wait (a draft, nothing sent), tell the coordinator and
  the lead that nothing arrived, or issue the report. A report's identity is its content
  fingerprint: the newest version's content on another day is that version, rendered once;
  any other content — an earlier one that came back included — is the next version, rendered
  with what changed since the one before.
- `notify_stage` sends the version to each recipient once per fingerprint, or the "nothing
  arrived" notice once per milestone to the coordinator and the lead.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from schemas.project import Milestone
from schemas.records import Notice, ReportOutcome, ReportRef, ReportVersion, WPSummary
from wpflow.files import file_sha256
from wpflow.issue.content import (
    Release,
    changes_between,
    contents_of,
    inputs_digest,
    release_decision,
    report_fingerprint,
    sent_as,
    version_label,
)
from wpflow.mail.idempotency import empty_key, report_key
from wpflow.milestone.stages import summary_lines
from wpflow.report.plain_words import kind_title, long_date
from wpflow.store.issued import About
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)

HISTORY = "history"
DRAFTS = "drafts"
STAGING = ".rendering"


# -- release ------------------------------------------------------------------------------
def release_stage(ws: Workspace, milestone: Milestone, summary: WPSummary) -> ReportOutcome:
    """Decide, and issue or reuse the version for this content; render only what is new."""
    project = ws.project
    decision = release_decision(project, milestone, summary.partners, summary.as_of)
    if decision is Release.WAIT:
        draft = render_into(ws, summary, ws.settings.reports_dir / DRAFTS, f"{milestone.id}.docx")
        owed = sum(1 for s in summary.partners if not s.status.delivered)
        return ReportOutcome(
            milestone_id=milestone.id,
            release="wait",
            draft=draft,
            message=(
                f"{milestone.id}: not due until {milestone.due} and {owed} of {len(summary.partners)} inputs "
                f"outstanding; draft in {Path(draft.path).parent.name}/, nothing sent"
            ),
        )
    if decision is Release.EMPTY:
        return ReportOutcome(
            milestone_id=milestone.id,
            release="empty",
            message=(
                f"{milestone.id}: nothing usable arrived by {milestone.due}; no report to the partners, "
                "the WP coordinator and the lead are told instead"
            ),
        )
    fingerprint = report_fingerprint(summary.partners, milestone, template_sha256(ws, milestone))
    version, new = ws.store.issue_version(
        project.name,
        milestone.id,
        fingerprint=fingerprint,
        status=summary.status,
        as_of=summary.as_of,
        contents=contents_of(summary),
    )
    if version.report is None or not Path(version.report.path).is_file():  # new, or its render was interrupted
        version, new = render_version(ws, summary, version), True
    label = version_label(version.version, version.as_of)
    message = (
        f"{milestone.id}: report v{version.version} issued ({version.status})"
        if new
        else f"{milestone.id}: report unchanged since {label}"
    )
    return ReportOutcome(milestone_id=milestone.id, release="report", new_version=new, version=version, message=message)


def template_sha256(ws: Workspace, milestone: Milestone) -> str:
    """The template's version is its bytes: an edited template is new content."""
    return file_sha256(ws.settings.templates / milestone.template)


def what_changed(ws: Workspace, version: ReportVersion) -> tuple[ReportVersion | None, list[str]]:
    """The version before this one and what changed since (None and [] for v1): what the report
    and its e-mail both say."""
    if version.version <= 1:
        return None, []
    earlier = earlier_versions(ws, version)
    if not earlier:
        return None, []
    return earlier[-1], changes_between(earlier[-1].contents, version.contents)


def earlier_versions(ws: Workspace, version: ReportVersion) -> list[ReportVersion]:
    """The versions of the same report issued before this one, oldest first."""
    return [v for v in ws.store.versions(ws.project.name, version.milestone_id) if v.version < version.version]


def render_version(ws: Workspace, summary: WPSummary, version: ReportVersion) -> ReportVersion:
    """Render version N into `reports/history/<id>.vN.docx`, say what changed since N-1, and
    make it `reports/<id>.docx` when it is the newest."""
    ws.store.keep_summary(ws.project.name, summary.milestone_id, version.version, summary)  # for the final reports
    before, changes = what_changed(ws, version)
    summary = summary.model_copy(
        update={
            "version": version.version,
            "changes_since": f"v{before.version} of {long_date(before.as_of)}" if before else None,
            "changes": changes,
        }
    )
    reports = ws.settings.reports_dir
    ref = render_into(ws, summary, reports / HISTORY, f"{summary.milestone_id}.v{version.version}.docx")
    ref = ref.model_copy(update={"version": version.version, "fingerprint": version.fingerprint})
    stored = ws.store.set_version_report(ws.project.name, summary.milestone_id, version.version, ref)
    latest = ws.store.latest_version(ws.project.name, summary.milestone_id)
    if latest is not None and latest.version == version.version:
        for made in Path(ref.path).parent.glob(f"{summary.milestone_id}.v{version.version}.*"):
            shutil.copyfile(made, reports / f"{summary.milestone_id}{made.suffix}")
    return stored


def render_into(ws: Workspace, summary: WPSummary, folder: Path, name: str) -> ReportRef:
    """Render in a staging folder of its own, then move the DOCX (and whatever the renderer
    made beside it, e.g. a PDF) to `folder/name`: a half-written file never has the final name."""
    from wpflow.report.render import render_report

    milestone = ws.milestone(summary.milestone_id)
    staging = ws.settings.reports_dir / STAGING / f"{summary.milestone_id}.{name}"
    ref = render_report(
        summary, staging, templates_dir=ws.settings.templates, template=milestone.template, pdf=ws.settings.report_pdf
    )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    stem = Path(ref.path).stem
    for made in staging.glob(f"{stem}.*"):
        made.replace(target.with_suffix(made.suffix))
    shutil.rmtree(staging, ignore_errors=True)
    pdf = target.with_suffix(".pdf")
    return ref.model_copy(
        update={"path": str(target), "pdf_path": str(pdf) if ref.pdf_path and pdf.is_file() else None}
    )


# -- notify -------------------------------------------------------------------------------
def notify_stage(ws: Workspace, milestone: Milestone, summary: WPSummary, outcome: ReportOutcome) -> list[Notice]:
    """The report version to each recipient, or the "nothing arrived" notice; each once."""
    if outcome.release == "report" and outcome.version is not None:
        return send_version(ws, milestone, summary, outcome.version)
    if outcome.release == "empty":
        return send_empty_notice(ws, milestone, summary)
    return []


def send_version(ws: Workspace, milestone: Milestone, summary: WPSummary, version: ReportVersion) -> list[Notice]:
    from wpflow.mail.compose import compose_report_email
    from wpflow.mail.transports import notify_once

    project = ws.project
    report = version.report
    assert report is not None, "a version is rendered before it is sent"
    before, changes = what_changed(ws, version)
    since = version_label(before.version, before.as_of) if before else None
    lead = project.participant(project.lead)
    attach = [Path(report.pdf_path)] if project.reports.attach_pdf and report.pdf_path else []
    content = sent_as(version, earlier_versions(ws, version))
    notices = []
    for recipient in project.recipients(milestone):
        email = recipient.emails[0]
        key = report_key(project.name, milestone.id, email, content)
        if ws.store.was_sent(key):
            notices.append(Notice(key=key, to=[email], subject="", sent=False))
            continue
        cc = list(lead.emails) if project.reports.lead_in_copy and recipient.id != lead.id else []
        msg = compose_report_email(
            project,
            milestone,
            report,
            recipient,
            key=key,
            cc=cc,
            since=since,
            changes=changes,
            summary_lines=summary_lines(summary),
            attach=attach,
        )
        notices.append(
            notify_once(
                ws.store,
                ws.mailer,
                msg,
                key=key,
                project=project.name,
                milestone=milestone.id,
                recipient=email,
                kind="report",
                about=About(report_version=version.version, fingerprint=version.fingerprint),
            )
        )
    return notices


def send_empty_notice(ws: Workspace, milestone: Milestone, summary: WPSummary) -> list[Notice]:
    """Once per milestone to the WP coordinator and the lead: later states of an empty
    milestone (an invalid upload) do not repeat it; the first valid input brings the report."""
    from wpflow.mail.compose import compose_empty_email
    from wpflow.mail.transports import notify_once

    project = ws.project
    wp = project.work_package(milestone.wp_id)
    outstanding = [f"{s.city}: {kind_title(s.kind)} ({s.status})" for s in summary.partners]
    digest = inputs_digest(summary.partners)
    notices = []
    for pid in dict.fromkeys([wp.coordinator, project.lead]):
        person = project.participant(pid)
        email = person.emails[0]
        key = empty_key(project.name, milestone.id, email, "")
        if ws.store.was_sent(key):
            notices.append(Notice(key=key, to=[email], subject="", sent=False))
            continue
        msg = compose_empty_email(project, milestone, person, key=key, outstanding=outstanding, as_of=summary.as_of)
        notices.append(
            notify_once(
                ws.store,
                ws.mailer,
                msg,
                key=key,
                project=project.name,
                milestone=milestone.id,
                recipient=email,
                kind="empty",
                about=About(fingerprint=digest),
            )
        )
    return notices


def outcome_line(outcome: ReportOutcome, notices: list[Notice]) -> str:
    """What the run did, in one line: the state message in the UI and what `wpflow run` prints."""
    sent = sum(1 for n in notices if n.sent)
    skipped = len(notices) - sent
    if outcome.release == "wait":
        return outcome.message
    if outcome.release == "empty" and notices and not sent:
        return f"{outcome.message.split(';')[0]}; the WP coordinator and the lead were told before, nothing sent"
    if sent:
        return f"{outcome.message}; {sent} e-mail(s) sent" + (f", {skipped} already sent" if skipped else "")
    if notices:
        return f"{outcome.message}, nothing sent"
    return outcome.message
