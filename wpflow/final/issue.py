"""Issuing the WP final reports and the joint final report through the lifecycle every issued
document shares (`wpflow.issue.lifecycle`), one level above the milestones.

A report's identity is its content — the story it tells, read from the store, and its
template — never the day it was made. Before the WP's (project's) end the report is a draft in
`reports/drafts/`, sent to nobody; from then on each version goes by e-mail once per recipient:
a WP report to the WP's partners and co-ordinator, the joint final report to every partner and
observer. Versions live in `report_versions` beside the milestones' (report id "WP4", "final").
`FinalReport` is what the lifecycle knows of these reports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from schemas.final import FinalIssue, ProjectStory, WPStory
from schemas.project import Participant
from schemas.records import Notice, PartnerState, ReportRef, ReportStatus, ReportVersion, VersionContents
from wpflow.files import file_sha256
from wpflow.final.project_story import FINAL
from wpflow.final.render import FINAL_TEMPLATE, WP_TEMPLATE, Issue, render_story
from wpflow.issue import lifecycle
from wpflow.issue.content import digest, total_changes, version_label
from wpflow.issue.lifecycle import DRAFTS, Edition, Particulars
from wpflow.mail.idempotency import final_report_key
from wpflow.report.plain_words import kind_title, long_date
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
    # the emblem's path is this machine's, not content (its SHA-256 is); what the tables and
    # chapters carry of their input kinds (titles, units) is the project's kinds, not the story
    kinds = {"measure_units", "field_units", "summed", "chart", "category", "personal"}
    local: dict[str, Any] = {
        "as_of": True,
        "frame": {"emblem_path": True},
        "milestones": {"__all__": {"kind_titles"}},
        "tables": {"__all__": {"table": kinds}},
    }
    if isinstance(story, WPStory):
        told = story.model_dump(mode="json", exclude=local)
    else:
        told = story.model_dump(mode="json", exclude={**local, "wps": {"__all__": local}})
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


def story_changes(before: VersionContents, after: VersionContents, titles: Mapping[str, str]) -> list[str]:
    """What changed since the version before, one sentence per line: statuses and totals."""
    old = {(s.partner, s.kind): s for s in before.states}
    lines = []
    for s in after.states:
        prev = old.get((s.partner, s.kind))
        milestone, _, kind = s.kind.partition("/")
        if prev is None or prev.status != s.status or prev.sha256 != s.sha256:
            status_was = prev.status if prev is not None else "not asked"
            now = s.status if prev is None or prev.status != s.status else f"{s.status}, a newer file"
            lines.append(f"{milestone}, {s.city} ({kind_title(kind, titles)}): {status_was} → {now}.")
    return lines + total_changes(before, after)


@dataclass(frozen=True)
class FinalReport:
    """A WP report or the joint final report for one story, as the issuing lifecycle sees it."""

    ws: Workspace
    story: Story

    @property
    def report_id(self) -> str:
        return report_id(self.story)

    @property
    def mail_kind(self) -> str:
        return "final-report" if self.report_id == FINAL else "wp-report"

    @property
    def status(self) -> ReportStatus:
        return ReportStatus.final

    @property
    def as_of(self) -> date:
        return self.story.as_of

    @property
    def template(self) -> Path:
        return self.ws.settings.templates / (WP_TEMPLATE if isinstance(self.story, WPStory) else FINAL_TEMPLATE)

    def fingerprint(self, template_sha256: str) -> str:
        return story_fingerprint(self.story, template_sha256)

    def contents(self) -> VersionContents:
        return story_contents(self.story)

    def changes(self, before: VersionContents, after: VersionContents) -> list[str]:
        return story_changes(before, after, self.ws.project.kind_titles)

    def keep(self, version: ReportVersion) -> None:
        """Nothing beside the version: the story is read from the store again any day."""

    def render(self, edition: Edition, out: Path) -> ReportRef:
        issue = Issue(
            "draft" if edition.version is None else str(edition.version),
            changes_since=edition.changes_since or "",
            changes=edition.changes,
        )
        settings = self.ws.settings
        return render_story(self.story, issue, out, templates_dir=settings.templates, pdf=settings.report_pdf)

    def recipients(self) -> list[Participant]:
        """A WP report: whoever received one of its milestones' reports (the partners asked for
        inputs, the co-ordinator); the joint final report: every partner and observer."""
        project = self.ws.project
        if isinstance(self.story, ProjectStory):
            return list(project.participants)
        wanted = {p.id for m in project.work_package(self.story.wp_id).milestones for p in project.recipients(m)}
        return [p for p in project.participants if p.id in wanted]

    def key(self, email: str, content: str) -> str:
        return final_report_key(self.ws.project.name, self.report_id, email, content)

    def compose(self, person: Participant, report: ReportRef, particulars: Particulars) -> EmailMessage:
        from wpflow.final.mail import compose_final_email

        return compose_final_email(self.ws.project, self.story, report, person, **particulars)


# -- issue --------------------------------------------------------------------------------------
def issue_story(ws: Workspace, story: Story) -> FinalIssue:
    """A draft before the end (nothing sent); from the end on the version for this content,
    rendered only when new (or when its render was interrupted)."""
    doc = FinalReport(ws, story)
    rid = doc.report_id
    if story.status == "draft":
        ref = lifecycle.draft(doc)
        return FinalIssue(
            report=rid,
            release="draft",
            fingerprint=doc.fingerprint(file_sha256(doc.template)),
            path=ref.path,
            pdf_path=ref.pdf_path,
            message=f"{report_name(rid)}: not final until {long_date(story.end)}; draft in {DRAFTS}/, nothing sent",
        )
    try:
        version, new = lifecycle.issue(doc)
    except lifecycle.IssuedElsewhere as held:  # a run at the same moment renders and sends it
        return FinalIssue(
            report=rid,
            release="report",
            version=held.version.version,
            fingerprint=held.version.fingerprint,
            path=str(ws.settings.reports_dir / f"{rid}.docx"),
            message=f"{report_name(rid)} {held}; it sends the e-mails",
        )
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
        fingerprint=version.fingerprint,
        path=str(ws.settings.reports_dir / f"{rid}.docx"),
        pdf_path=version.report.pdf_path,
        message=message,
    )


# -- send ---------------------------------------------------------------------------------------
def send_story(ws: Workspace, story: Story, issued: FinalIssue) -> list[Notice]:
    """The version to each recipient once (per report, recipient and content); a draft to nobody."""
    if issued.release != "report" or issued.version is None:
        return []
    version = ws.store.latest_version(ws.project.name, issued.report)
    assert version is not None, "a version is issued before it is sent"
    if version.report is None:  # being rendered by a run at the same moment, which sends it
        return []
    return lifecycle.send(FinalReport(ws, story), version)


def issue_line(issued: FinalIssue, notices: list[Notice]) -> str:
    """What the run did, in one line (the state message and what `wpflow report` prints)."""
    return issued.message if issued.release == "draft" else lifecycle.sent_line(issued.message, notices)
