"""Issuing the WP final reports and the joint final report: versions, rendering, sending.

The same rules as a milestone report (`wpflow.milestone.report_stage`), one level up. A report's identity is
its content — the story it tells, read from the store, and its template — never the day it was
made: the newest version's content another day is that version, a changed one (or an earlier
one come back) is the next (v2 says what changed). Before the WP's (project's) end the report
is a draft in `reports/drafts/`, sent to nobody; from then on each version goes by e-mail once
per recipient: a WP report to the WP's partners and co-ordinator, the joint final report to
every partner and observer, the lead partner in copy as the project's policy says. Versions
live in `report_versions` beside the milestones' (report id "WP4", "final").
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from schemas.final import FinalIssue, ProjectStory, WPStory
from schemas.project import Participant, Project
from schemas.records import Notice, PartnerState, ReportRef, ReportStatus, ReportVersion, VersionContents
from wpflow.files import file_sha256
from wpflow.final.project_story import FINAL
from wpflow.final.render import FINAL_TEMPLATE, WP_TEMPLATE, Issue, render_story
from wpflow.issue.content import digest, sent_as, version_label
from wpflow.mail.idempotency import final_report_key
from wpflow.milestone.report_stage import DRAFTS, HISTORY, STAGING, earlier_versions
from wpflow.report.plain_words import format_value, kind_title, long_date
from wpflow.store.issued import About
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)

Story = WPStory | ProjectStory
STATUSES = ("on time", "late", "missing", "invalid")


def report_id(story: Story) -> str:
    return story.wp_id if isinstance(story, WPStory) else FINAL


def report_name(report: str) -> str:
    """ "WP4 final report", "joint final report": what a line or a subject calls it."""
    return "joint final report" if report == FINAL else f"{report} final report"


# -- what a version is --------------------------------------------------------------------------
def story_fingerprint(story: Story, template_sha256: str) -> str:
    """The story without the days it was told on, and the template's bytes."""
    if isinstance(story, WPStory):
        told = story.model_dump(mode="json", exclude={"as_of"})
    else:
        told = story.model_dump(mode="json", exclude={"as_of": True, "wps": {"__all__": {"as_of"}}})
    return digest({"story": told, "template": template_sha256})


def story_contents(story: Story) -> VersionContents:
    """Every input's status (kind prefixed with its milestone: "WP4-M3/seed_funding") and every
    merged table's totals: what the next version is compared with."""
    wps = [story] if isinstance(story, WPStory) else story.wps
    states = [
        PartnerState(
            partner=d.partner,
            city=d.city,
            kind=f"{m.milestone_id}/{d.kind}",
            status=d.status if d.status in STATUSES else "missing",
            file_name=d.file_name,
            version=d.version,
            sha256=d.sha256,
        )
        for w in wps
        for m in w.milestones
        for d in m.deliveries
    ]
    totals = {f"{w.wp_id} · {t.table.label}": dict(t.table.totals) for w in wps for t in w.tables}
    return VersionContents(states=states, totals=totals)


def story_changes(before: VersionContents, after: VersionContents) -> list[str]:
    """What changed since the version before, one sentence per line: statuses and totals."""
    old = {(s.partner, s.kind): s for s in before.states}
    lines = []
    for s in after.states:
        prev = old.get((s.partner, s.kind))
        milestone, _, kind = s.kind.partition("/")
        if prev is None or prev.status != s.status or prev.sha256 != s.sha256:
            status_was = prev.status if prev is not None else "not asked"
            now = s.status if prev is None or prev.status != s.status else f"{s.status}, a newer file"
            lines.append(f"{milestone}, {s.city} ({kind_title(kind)}): {status_was} → {now}.")
    for label, totals in after.totals.items():
        for measure, value in totals.items():
            total_was = before.totals.get(label, {}).get(measure)
            if total_was != value:
                shown = "nothing" if total_was is None else format_value(total_was)
                lines.append(f"{label}, {measure}: {shown} → {format_value(value)}.")
    return lines


def template_path(ws: Workspace, story: Story) -> Path:
    return ws.settings.templates / (WP_TEMPLATE if isinstance(story, WPStory) else FINAL_TEMPLATE)


def recipients(project: Project, story: Story) -> list[Participant]:
    """A WP report: whoever received one of its milestones' reports (the partners asked for
    inputs, the co-ordinator); the joint final report: every partner and observer."""
    if isinstance(story, ProjectStory):
        return list(project.participants)
    wanted = {p.id for m in project.work_package(story.wp_id).milestones for p in project.recipients(m)}
    return [p for p in project.participants if p.id in wanted]


# -- issue --------------------------------------------------------------------------------------
def issue_story(ws: Workspace, story: Story) -> FinalIssue:
    """A draft before the end (nothing sent); from the end on the version for this content,
    rendered only when new (or when its render was interrupted)."""
    rid = report_id(story)
    reports = ws.settings.reports_dir
    fingerprint = story_fingerprint(story, file_sha256(template_path(ws, story)))
    if story.status == "draft":
        ref = render_staged(ws, story, Issue("draft"), reports / DRAFTS, f"{rid}.docx")
        return FinalIssue(
            report=rid,
            release="draft",
            fingerprint=fingerprint,
            path=ref[0],
            pdf_path=ref[1],
            message=f"{report_name(rid)}: not final until {long_date(story.end)}; draft in {DRAFTS}/, nothing sent",
        )
    version, new = ws.store.issue_version(
        ws.project.name,
        rid,
        fingerprint=fingerprint,
        status=ReportStatus.final,
        as_of=story.as_of,
        contents=story_contents(story),
    )
    if version.report is None or not Path(version.report.path).is_file():
        version, new = render_version(ws, story, version), True
    assert version.report is not None
    message = (
        f"{report_name(rid)} v{version.version} issued"
        if new
        else f"{report_name(rid)} unchanged since {version_label(version.version, version.as_of)}"
    )
    return FinalIssue(
        report=rid,
        release="report",
        version=version.version,
        new_version=new,
        fingerprint=fingerprint,
        path=str(reports / f"{rid}.docx"),
        pdf_path=version.report.pdf_path,
        message=message,
    )


def before_of(ws: Workspace, version: ReportVersion) -> ReportVersion | None:
    earlier = earlier_versions(ws, version)
    return earlier[-1] if earlier else None


def render_version(ws: Workspace, story: Story, version: ReportVersion) -> ReportVersion:
    """Version N into `history/<id>.vN.docx`, saying what changed since N-1; then `<id>.docx`."""
    rid = report_id(story)
    before = before_of(ws, version)
    issue = Issue(
        str(version.version),
        changes_since=f"v{before.version} of {long_date(before.as_of)}" if before else "",
        changes=tuple(story_changes(before.contents, version.contents)) if before else (),
    )
    reports = ws.settings.reports_dir
    docx, pdf = render_staged(ws, story, issue, reports / HISTORY, f"{rid}.v{version.version}.docx")
    ref = ReportRef(
        milestone_id=rid,
        path=docx,
        sha256=file_sha256(Path(docx)),
        template_sha256=file_sha256(template_path(ws, story)),
        generated_at=datetime.combine(story.as_of, datetime.min.time(), tzinfo=UTC),
        version=version.version,
        fingerprint=version.fingerprint,
        pdf_path=pdf,
    )
    stored = ws.store.set_version_report(ws.project.name, rid, version.version, ref)
    latest = ws.store.latest_version(ws.project.name, rid)
    if latest is not None and latest.version == version.version:
        for made in Path(docx).parent.glob(f"{rid}.v{version.version}.*"):
            shutil.copyfile(made, reports / f"{rid}{made.suffix}")
    return stored


def render_staged(ws: Workspace, story: Story, issue: Issue, folder: Path, name: str) -> tuple[str, str | None]:
    """Render in a staging folder, then move the DOCX (and its PDF) to `folder/name`: a
    half-written file never has the final name. Returns (docx, pdf or None)."""
    staging = ws.settings.reports_dir / STAGING / f"{report_id(story)}.{name}"
    made = render_story(story, issue, staging / name, templates_dir=ws.settings.templates, pdf=ws.settings.report_pdf)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    for f in staging.glob(f"{Path(name).stem}.*"):
        f.replace(target.with_suffix(f.suffix))
    shutil.rmtree(staging, ignore_errors=True)
    pdf = target.with_suffix(".pdf")
    return str(target), str(pdf) if made.pdf_path and pdf.is_file() else None


# -- send ---------------------------------------------------------------------------------------
def send_story(ws: Workspace, story: Story, issued: FinalIssue) -> list[Notice]:
    """The version to each recipient once (per report, recipient and content); a draft to nobody."""
    from wpflow.final.mail import compose_final_email
    from wpflow.mail.transports import notify_once

    if issued.release != "report" or issued.version is None:
        return []
    project = ws.project
    lead = project.participant(project.lead)
    version = ws.store.latest_version(project.name, issued.report)
    assert version is not None and version.report is not None, "a version is rendered before it is sent"
    earlier = earlier_versions(ws, version)
    before = earlier[-1] if earlier else None
    changes = story_changes(before.contents, version.contents) if before else []
    attach = [Path(version.report.pdf_path)] if project.reports.attach_pdf and version.report.pdf_path else []
    kind = "final-report" if issued.report == FINAL else "wp-report"
    content = sent_as(version, earlier)
    notices = []
    for person in recipients(project, story):
        email = person.emails[0]
        key = final_report_key(project.name, issued.report, email, content)
        if ws.store.was_sent(key):
            notices.append(Notice(key=key, to=[email], subject="", sent=False))
            continue
        cc = list(lead.emails) if project.reports.lead_in_copy and person.id != lead.id else []
        msg = compose_final_email(
            project,
            story,
            version.report,
            person,
            key=key,
            cc=cc,
            since=version_label(before.version, before.as_of) if before else None,
            changes=changes,
            attach=attach,
        )
        notices.append(
            notify_once(
                ws.store,
                ws.mailer,
                msg,
                key=key,
                project=project.name,
                milestone=issued.report,
                recipient=email,
                kind=kind,
                about=About(report_version=version.version, fingerprint=version.fingerprint),
            )
        )
    return notices


def issue_line(issued: FinalIssue, notices: list[Notice]) -> str:
    """What the run did, in one line (the state message and what `wpflow report` prints)."""
    sent = sum(1 for n in notices if n.sent)
    if issued.release == "draft":
        return issued.message
    if sent:
        skipped = len(notices) - sent
        return f"{issued.message}; {sent} e-mail(s) sent" + (f", {skipped} already sent" if skipped else "")
    return f"{issued.message}, nothing sent" if notices else issued.message
