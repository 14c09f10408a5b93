"""Issuing a milestone report: the release rule, then the lifecycle every issued document shares.

The pipeline's last stages as plain functions over a `Workspace` (Prefect tasks in `tasks/`
wrap them; `wpflow run --direct` calls them as they are):

- `release_stage` applies the project's rule (`reports:` in project.yaml, see
  `wpflow.issue.content.release_decision`): wait (a draft, nothing sent), tell the coordinator and
  the lead that nothing arrived, or issue the report through `wpflow.issue.lifecycle`.
- `notify_stage` sends the version to each recipient once per content, or the "nothing
  arrived" notice once per milestone to the coordinator and the lead.

`MilestoneReport` is what the lifecycle knows of a milestone report: its fingerprint over the
partners' states, the milestone and the template; its rendering from the `WPSummary`; its
recipients and e-mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.project import Milestone, Participant
from schemas.records import (
    Notice,
    ReportOutcome,
    ReportRef,
    ReportStatus,
    ReportVersion,
    VersionContents,
    WPSummary,
)
from wpflow.issue import lifecycle
from wpflow.issue.content import (
    Release,
    changes_between,
    contents_of,
    inputs_digest,
    release_decision,
    report_fingerprint,
    version_label,
)
from wpflow.issue.lifecycle import Edition, Particulars
from wpflow.mail.words import who
from wpflow.milestone.stages import summary_lines
from wpflow.report.plain_words import kind_title
from wpflow.workspace import Workspace

if TYPE_CHECKING:
    from wpflow.mail.send_once import Outgoing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MilestoneReport:
    """A milestone's report for one summary, as the issuing lifecycle sees it."""

    ws: Workspace
    milestone: Milestone
    summary: WPSummary

    @property
    def report_id(self) -> str:
        return self.milestone.id

    @property
    def mail_kind(self) -> str:
        return "report"

    @property
    def status(self) -> ReportStatus:
        return self.summary.status

    @property
    def as_of(self) -> date:
        return self.summary.as_of

    @property
    def template(self) -> Path:
        """The template's version is its bytes: an edited template is new content."""
        return self.ws.settings.templates / self.milestone.template

    def fingerprint(self, template_sha256: str) -> str:
        return report_fingerprint(self.summary.partners, self.milestone, template_sha256, self.summary.frame)

    def contents(self) -> VersionContents:
        return contents_of(self.summary)

    def changes(self, before: VersionContents, after: VersionContents) -> list[str]:
        return changes_between(before, after, self.ws.project.kind_titles)

    def keep(self, version: ReportVersion) -> None:
        """The summary a version is rendered from, for the final reports."""
        self.ws.store.keep_summary(self.ws.project.name, self.milestone.id, version.version, self.summary)

    def render(self, edition: Edition, out: Path) -> ReportRef:
        from wpflow.report import render

        summary = self.summary
        if edition.version is not None:
            update = {"version": edition.version, "changes_since": edition.changes_since, "changes": [*edition.changes]}
            summary = summary.model_copy(update=update)
        settings = self.ws.settings
        return render.render_report(
            summary,
            out.parent,
            templates_dir=settings.templates,
            template=self.milestone.template,
            pdf=settings.report_pdf,
        )

    def recipients(self) -> list[Participant]:
        return self.ws.project.recipients(self.milestone)

    def key(self, email: str, content: str) -> str:
        from wpflow.mail.idempotency import report_key

        return report_key(self.ws.project.name, self.milestone.id, email, content)

    def compose(self, person: Participant, report: ReportRef, particulars: Particulars) -> EmailMessage:
        from wpflow.mail.reports import compose_report_email

        lines = summary_lines(self.summary)
        return compose_report_email(
            self.ws.project, self.milestone, report, person, summary=self.summary, summary_lines=lines, **particulars
        )


# -- release ------------------------------------------------------------------------------
def release_stage(ws: Workspace, milestone: Milestone, summary: WPSummary) -> ReportOutcome:
    """Decide, and issue or reuse the version for this content; render only what is new."""
    doc = MilestoneReport(ws, milestone, summary)
    decision = release_decision(ws.project, milestone, summary.partners, summary.as_of)
    if decision is Release.WAIT:
        draft = lifecycle.draft(doc)
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
    try:
        version, new = lifecycle.issue(doc)
    except lifecycle.IssuedElsewhere as held:  # a run at the same moment renders and sends it
        message = f"{milestone.id}: report {held}; it sends the e-mails"
        return ReportOutcome(milestone_id=milestone.id, release="report", version=held.version, message=message)
    label = version_label(version.version, version.as_of)
    message = (
        f"{milestone.id}: report v{version.version} issued ({version.status})"
        if new
        else f"{milestone.id}: report unchanged since {label}"
    )
    return ReportOutcome(milestone_id=milestone.id, release="report", new_version=new, version=version, message=message)


# -- notify -------------------------------------------------------------------------------
def notify_stage(ws: Workspace, milestone: Milestone, summary: WPSummary, outcome: ReportOutcome) -> list[Notice]:
    """The report version to each recipient, or the "nothing arrived" notice; each once."""
    if outcome.release == "report" and outcome.version is not None:
        if outcome.version.report is None:  # issued by a run at the same moment, which sends it
            return []
        return lifecycle.send(MilestoneReport(ws, milestone, summary), outcome.version)
    if outcome.release == "empty":
        return send_empty_notice(ws, milestone, summary)
    return []


def send_empty_notice(ws: Workspace, milestone: Milestone, summary: WPSummary) -> list[Notice]:
    """Once per milestone to the WP coordinator and the lead: later states of an empty
    milestone (an invalid upload) do not repeat it; the first valid input brings the report."""
    from wpflow.mail.send_once import send_once

    project = ws.project
    wp = project.work_package(milestone.wp_id)
    outstanding = [
        f"{who(project.participant(s.partner))}: {kind_title(s.kind, summary.kind_titles)} ({s.status})"
        for s in summary.partners
    ]
    about_inputs = inputs_digest(summary.partners)
    outgoing = [
        empty_notice(ws, milestone, project.participant(pid), outstanding, summary.as_of, about_inputs)
        for pid in dict.fromkeys([wp.coordinator, project.lead])
    ]
    return send_once(ws.store, ws.mailer, project.name, outgoing)


def empty_notice(
    ws: Workspace, milestone: Milestone, person: Participant, outstanding: list[str], as_of: date, about_inputs: str
) -> Outgoing:
    """The "nothing arrived" e-mail to one person, keyed by the milestone alone."""
    from wpflow.mail.idempotency import empty_key
    from wpflow.mail.reports import compose_empty_email
    from wpflow.mail.send_once import Outgoing
    from wpflow.store.issued import About

    email = person.emails[0]
    key = empty_key(ws.project.name, milestone.id, email, "")
    return Outgoing(
        key=key,
        recipient=email,
        kind="empty",
        milestone=milestone.id,
        about=About(fingerprint=about_inputs),
        compose=lambda: compose_empty_email(
            ws.project, milestone, person, key=key, outstanding=outstanding, as_of=as_of
        ),
    )


def outcome_line(outcome: ReportOutcome, notices: list[Notice]) -> str:
    """What the run did, in one line: the state message in the UI and what `wpflow run` prints."""
    if outcome.release == "wait":
        return outcome.message
    if outcome.release == "empty" and notices and not any(n.sent for n in notices):
        return f"{outcome.message.split(';')[0]}; the WP coordinator and the lead were told before, nothing sent"
    return lifecycle.sent_line(outcome.message, notices)
