"""What a partner's page shows, read from the project, the store and the partner's own folders:
per milestone it delivers for, the due date in words, each required input's state (received on
time, late, refused with the receipt's problems by row and column, missing), every file it sent
with its receipt (or "receipt pending" while the watcher has not yet received it), and its
templates; then the reports it was sent.

The states are those of the receipts, the ladder and the reports: `Delivery.of` and
`partner_states` over the store's submissions; the problems are the receipt's
(`receipt_problems`). Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from schemas.project import Milestone, Participant, Project
from schemas.records import PartnerStatus, Submission, SubmissionStatus
from wpflow.file_names import shown_name
from wpflow.files import file_sha256
from wpflow.inputs.partner_templates import template_name
from wpflow.inputs.problems import receipt_problems
from wpflow.milestone.collect import files_in, milestone_folder
from wpflow.milestone.merge import Delivery, partner_states
from wpflow.report.plain_words import kind_title, long_date, long_datetime
from wpflow.workspace import Workspace

STATE_WORDS = {
    PartnerStatus.on_time: "received on time",
    PartnerStatus.late: "received late",
    PartnerStatus.invalid: "refused",
    PartnerStatus.missing: "missing",
}
PENDING = "received, receipt pending"


@dataclass(frozen=True)
class FileLine:
    """One file the partner sent for a milestone, with its receipt's outcome."""

    name: str
    when: str
    state: str  # accepted, refused, superseded or PENDING
    problems: list[str] = field(default_factory=list)
    more: str | None = None


@dataclass(frozen=True)
class InputLine:
    title: str
    state: str  # a STATE_WORDS value or PENDING
    css: str
    file: str | None


@dataclass(frozen=True)
class MilestoneBlock:
    id: str
    title: str
    due: str
    inputs: list[InputLine]
    files: list[FileLine]
    templates: list[str]

    @property
    def owed(self) -> bool:
        """Something is still to send or to come back: shown open on the page."""
        return any(line.state in ("missing", "refused", PENDING) for line in self.inputs) or any(
            f.state == PENDING for f in self.files
        )


@dataclass(frozen=True)
class ReportLine:
    milestone: str
    version: int
    issued: str
    files: list[str]


@dataclass(frozen=True)
class PartnerPage:
    project: str
    partner: Participant
    milestones: list[MilestoneBlock]
    reports: list[ReportLine]

    @property
    def pending(self) -> bool:
        return any(f.state == PENDING for m in self.milestones for f in m.files)


def due_words(due: date, today: date) -> str:
    """'due 30 June 2006 (in 5 days)', '… (today)', '… (3 days ago)', '… (about 2 months ago)',
    '… (over 20 years ago)': days while they can be counted at a glance."""
    days = (due - today).days
    span = abs(days)
    if span == 0:
        return f"due {long_date(due)} (today)"
    if span <= 60:
        amount = f"{span} day{'s' if span != 1 else ''}"
    elif span < 730:
        amount = f"about {round(span / 30.44)} months"
    else:
        amount = f"over {span // 365} years"
    return f"due {long_date(due)} ({f'in {amount}' if days > 0 else f'{amount} ago'})"


def partner_milestones(project: Project, partner_id: str) -> list[Milestone]:
    """The milestones for which the partner owes an input, by due date."""
    owed = [
        m for m in project.milestones() if any(partner_id in {p.id for p in project.deliverers(r)} for r in m.inputs)
    ]
    return sorted(owed, key=lambda m: (m.due, m.id))


def partner_templates(project: Project, milestone: Milestone, partner_id: str) -> list[str]:
    """The names of the templates the partner fills in for the milestone (without making them)."""
    partner = project.participant(partner_id)
    names = []
    for required in milestone.inputs:
        kind = project.input_kinds.get(required.kind)
        if kind is None or partner_id not in {p.id for p in project.deliverers(required)}:
            continue
        suffix = ".xlsx" if kind.shape == "rows" else ".md" if kind.id == "meeting_report" else ".docx"
        names.append(template_name(milestone, kind, partner, suffix))
    return names


def file_line(ws: Workspace, sub: Submission) -> FileLine:
    when = f"received {long_datetime(sub.received_at)}"
    if sub.status == SubmissionStatus.received:
        return FileLine(shown_name(sub.file_name), when, PENDING)
    if sub.status.passed:
        state = "superseded by a newer file" if sub.status == SubmissionStatus.superseded else "accepted"
        return FileLine(shown_name(sub.file_name), when, state)
    problems = receipt_problems(ws.store.issues_for(sub))
    return FileLine(shown_name(sub.file_name), when, "refused", [*problems.errors, *problems.warnings], problems.more)


def milestone_block(ws: Workspace, milestone: Milestone, partner_id: str, today: date) -> MilestoneBlock:
    project = ws.project
    subs = ws.store.submissions(project.name, milestone=milestone.id, partner=partner_id)
    stored = {s.sha256 for s in subs}
    folder = milestone_folder(ws.settings.inbox_root, partner_id, milestone.id)
    in_folder = files_in(folder, partner_id, milestone.id) if folder.is_dir() else []  # no inbox yet: nothing
    waiting = [item.path for item in in_folder if _hash_or_none(item.path) not in stored]
    files = [FileLine(shown_name(p.name), "just arrived", PENDING) for p in waiting]
    files += [file_line(ws, s) for s in reversed(subs)]  # newest first
    judged = [Delivery.of(s) for s in subs if s.status != SubmissionStatus.received]
    inputs = []
    for state in partner_states(project, milestone, judged):
        if state.partner != partner_id:
            continue
        words = STATE_WORDS[state.status]
        if state.status in (PartnerStatus.missing, PartnerStatus.invalid) and (
            waiting or any(s.status == SubmissionStatus.received for s in subs)
        ):
            words = PENDING
        css = {"received on time": "ok", "received late": "late", PENDING: "pending"}.get(words, "bad")
        shown = shown_name(state.file_name) if state.file_name else None
        inputs.append(InputLine(kind_title(state.kind, project.kind_titles), words, css, shown))
    return MilestoneBlock(
        id=milestone.id,
        title=milestone.title,
        due=due_words(milestone.due, today),
        inputs=inputs,
        files=files,
        templates=partner_templates(project, milestone, partner_id),
    )


def _hash_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def received_reports(ws: Workspace, partner: Participant) -> list[ReportLine]:
    """The milestone report versions e-mailed to one of the partner's addresses, newest first,
    with the files of each that exist under the project's reports folder."""
    project = ws.project
    sent = {
        (n.milestone, n.report_version)
        for n in ws.store.notifications(project.name)
        if n.kind == "report" and n.report_version is not None and n.recipient.lower() in _addresses(partner)
    }
    lines = []
    for milestone_id in sorted({m for m, _ in sent}):
        for version in ws.store.versions(project.name, milestone_id):
            if (milestone_id, version.version) not in sent or version.report is None:
                continue
            docx = Path(version.report.path)
            files = [p.name for p in (docx, docx.with_suffix(".pdf")) if report_file(ws, p.name, partner) == p]
            lines.append(ReportLine(milestone_id, version.version, long_date(version.as_of), files))
    return sorted(lines, key=lambda r: (r.issued, r.milestone, r.version), reverse=True)


def _addresses(partner: Participant) -> set[str]:
    return {a.lower() for a in partner.emails}


def report_file(ws: Workspace, name: str, partner: Participant) -> Path | None:
    """The report file `name` if it is one sent to the partner and lies in the project's reports
    folder (its history), else None: the page serves nothing else of outputs/reports/."""
    project = ws.project
    root = ws.settings.reports_dir.resolve()
    sent = {
        (n.milestone, n.report_version)
        for n in ws.store.notifications(project.name)
        if n.kind == "report" and n.recipient.lower() in _addresses(partner)
    }
    for milestone_id, version_no in sent:
        for version in ws.store.versions(project.name, milestone_id):
            if version.version != version_no or version.report is None:
                continue
            docx = Path(version.report.path)
            for candidate in (docx, docx.with_suffix(".pdf")):
                resolved = candidate.resolve()
                if candidate.name == name and resolved.is_relative_to(root) and resolved.is_file():
                    return candidate
    return None


def partner_page(ws: Workspace, partner_id: str, today: date | None = None) -> PartnerPage:
    today = today or date.today()
    partner = ws.project.participant(partner_id)
    blocks = [milestone_block(ws, m, partner_id, today) for m in partner_milestones(ws.project, partner_id)]
    return PartnerPage(ws.project.name, partner, blocks, received_reports(ws, partner))
