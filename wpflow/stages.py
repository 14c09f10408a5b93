"""The milestone's stages as plain functions over a `Workspace` (settings, project, store, mailer).

Prefect tasks in `tasks/` are thin wrappers around these; the CLI's direct mode and the
benchmarks' baseline call them unchanged, so "with Prefect" and "without" differ by the
orchestration only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from schemas.inputs import INPUT_KINDS
from schemas.project import Milestone, Project
from schemas.records import CheckedSubmission, Issue, Notice, ReportRef, Submission, ValidationResult, WPSummary
from schemas.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Workspace:
    """What every stage needs, built once per process: the seams to the outside world."""

    settings: Settings

    @cached_property
    def project(self) -> Project:
        from wpflow.project import load_project

        return load_project(self.settings.project)

    @cached_property
    def store(self):
        from wpflow.store import Store

        return Store.from_settings(self.settings)

    @cached_property
    def mailer(self):
        from wpflow.mail import mailer_from_settings

        return mailer_from_settings(self.settings)

    def milestone(self, milestone_id: str) -> Milestone:
        return self.project.milestone(milestone_id)


# -- collect ----------------------------------------------------------------------------
def collect_stage(ws: Workspace, milestone: Milestone, as_of: date | None) -> list[Submission]:
    """Archive the milestone's inbox files, record them, and return the stored submissions
    (new and earlier ones: a partner may have removed a file we already hold)."""
    from wpflow.collect import collect_milestone

    found = collect_milestone(
        ws.project, milestone,
        inbox_root=ws.settings.inbox_root, archive_dir=ws.settings.archive_dir,
        as_of=as_of, stable_seconds=ws.settings.stable_seconds,
    )
    ws.store.add_submissions(found)
    stored = ws.store.submissions(ws.project.name, milestone=milestone.id)
    if as_of is not None:
        stored = [s for s in stored if s.modified_at.date() <= as_of]
    return stored


# -- validate ---------------------------------------------------------------------------
def validate_submission(ws: Workspace, sub: Submission, expected: list[str]) -> CheckedSubmission:
    """Validate one archived file (never the inbox copy, which the partner may change)."""
    from wpflow.validate import validate_file

    partner = ws.project.participant(sub.partner)
    result = validate_file(
        Path(sub.archive_path), sub.kind, expected=expected, display_name=sub.file_name, city=partner.city,
        region=partner.region, max_bytes=int(ws.settings.max_file_mb * 1024 * 1024),
    )
    claim = claimed_partner_issue(ws, sub)
    if claim is not None:
        result = result.model_copy(update={"issues": [claim, *result.issues]})
    stored = ws.store.record_result(sub, result)
    if not result.valid:
        write_quarantine_receipt(ws, stored, result)
    return CheckedSubmission(submission=stored, result=result)


def claimed_partner_issue(ws: Workspace, sub: Submission) -> Issue | None:
    """An error when a generated template says it was made for another partner than the one
    whose folder it lies in: the folder decides who sent it, so the data would be filed under
    the wrong city."""
    from wpflow.metadata import METADATA_SHEET, read_metadata

    claimed = read_metadata(Path(sub.archive_path), Path(sub.file_name).suffix).get("partner")
    if not claimed or claimed == sub.partner:
        return None
    return Issue(
        file=sub.file_name, sheet=METADATA_SHEET, field="partner", value=claimed,
        message=f"this template was made for {claimed}, but the file was sent from {sub.partner}'s "
                f"folder; fill in your own template (wpflow template {sub.milestone} --partner {sub.partner})",
    )


def validate_stage(ws: Workspace, milestone: Milestone, subs: Iterable[Submission]) -> list[CheckedSubmission]:
    expected = [r.kind for r in milestone.inputs]
    return [validate_submission(ws, s, expected) for s in subs]


def write_quarantine_receipt(ws: Workspace, sub: Submission, result: ValidationResult) -> Path:
    """Keep an invalid file's receipt and annotated copy beside its quarantine entry.

    The original bytes stay in the archive under their hash; quarantine is where a person
    looks for what was refused and why.
    """
    folder = ws.settings.outputs / "quarantine" / sub.partner / sub.milestone
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{Path(sub.file_name).stem}.v{sub.version}.{sub.sha256[:12]}"
    lines = [f"File: {sub.file_name}", f"SHA-256: {sub.sha256}", f"Archived at: {sub.archive_path}", ""]
    lines += [str(issue) for issue in result.issues]
    receipt = folder / f"{stem}.txt"
    receipt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        from wpflow.annotate import write_annotated_copy
    except ImportError:  # annotated copies arrive with the input-formats work (issue 4)
        return receipt
    try:
        write_annotated_copy(Path(sub.archive_path), result, folder / f"{stem}.annotated.xlsx")
    except Exception as exc:  # an annotated copy is a courtesy; the receipt already says it all
        log.warning("no annotated copy for %s: %s", sub.file_name, exc)
    return receipt


# -- merge, render, notify --------------------------------------------------------------
def merge_stage(ws: Workspace, milestone: Milestone, checked: list[CheckedSubmission], as_of: date) -> WPSummary:
    from wpflow.merge import merge_summary

    return merge_summary(ws.project, milestone, checked, as_of)


def render_stage(ws: Workspace, summary: WPSummary) -> ReportRef:
    from wpflow.render import render_report

    milestone = ws.milestone(summary.milestone_id)
    ref = render_report(
        summary, ws.settings.reports_dir, templates_dir=ws.settings.templates, template=milestone.template,
        pdf=ws.settings.report_pdf,
    )
    ws.store.record_report(ws.project.name, ref)
    return ref


def notify_stage(ws: Workspace, milestone: Milestone, summary: WPSummary, report: ReportRef) -> list[Notice]:
    """One e-mail per recipient, each at most once per report version (see mail.notify_once)."""
    from wpflow.mail import compose_report_email, notification_key, notify_once

    project = ws.project
    lead = project.participant(project.lead)
    earlier = {n.report_sha for n in ws.store.notifications(project.name, milestone.id) if n.kind == "report"}
    update = bool(earlier - {report.sha256})
    notices = []
    for recipient in project.recipients(milestone):
        cc = [] if recipient.id == lead.id else list(lead.emails)
        msg = compose_report_email(
            project, milestone, report, recipient, cc=cc, update=update, summary_lines=summary_lines(summary),
        )
        key = notification_key(milestone.id, recipient.emails[0], report.sha256)
        notices.append(notify_once(
            ws.store, ws.mailer, msg, key=key, project=project.name, milestone=milestone.id,
            recipient=recipient.emails[0], kind="report", report_sha=report.sha256,
        ))
    return notices


def summary_lines(summary: WPSummary) -> list[str]:
    """A few lines for the e-mail body: status, who is missing, the headline numbers."""
    states = summary.partners
    delivered = sum(1 for s in states if s.status in ("on time", "late"))
    lines = [f"Status: {summary.status} — {delivered} of {len(states)} required inputs delivered and valid."]
    if summary.missing:
        lines.append("Missing: " + ", ".join(summary.missing) + ".")
    invalid = sorted({s.city for s in states if s.status == "invalid"})
    if invalid:
        lines.append("Invalid (to be corrected): " + ", ".join(invalid) + ".")
    for table in summary.tables:
        first = table.columns[0] if table.columns else None
        if first:
            lines.append(f"{table.label}: {fmt_number(table.totals[first])} {first.lower()} across {len(table.rows)} cities.")
    return lines


def fmt_number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def expected_kinds(milestone: Milestone) -> list[str]:
    return [r.kind for r in milestone.inputs if r.kind in INPUT_KINDS]


@dataclass
class RunRecord:
    """The store's row for one milestone run; the pipeline sets `report` when it has one."""

    id: int
    report: ReportRef | None = None


@contextmanager
def recorded_run(ws: Workspace, milestone_id: str, as_of: date | None, flow_run_id: str | None = None) -> Iterator[RunRecord]:
    """Record the run as running, then completed with its report or failed with the reason:
    `wpflow status` and the secretariat see runs even when Prefect's history is gone."""
    run = RunRecord(ws.store.start_run(ws.project.name, milestone_id, as_of, flow_run_id))
    try:
        yield run
    except BaseException as exc:
        ws.store.finish_run(run.id, "failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    ws.store.finish_run(run.id, "completed", run.report)


def run_direct(ws: Workspace, milestone_id: str, as_of: date | None = None) -> ReportRef:
    """The whole pipeline without Prefect: the baseline benchmarks compare against, and what
    `wpflow run --direct` uses when no orchestration is wanted. Same stages, same order."""
    milestone = ws.milestone(milestone_id)
    day = as_of or date.today()
    with recorded_run(ws, milestone_id, as_of) as run:
        subs = collect_stage(ws, milestone, as_of)
        checked = validate_stage(ws, milestone, subs)
        send_receipts(ws, milestone, checked)
        summary = merge_stage(ws, milestone, checked, day)
        run.report = render_stage(ws, summary)
        notify_stage(ws, milestone, summary, run.report)
    return run.report


_WORKSPACES: dict[str, Workspace] = {}


def workspace(settings: Settings | None = None) -> Workspace:
    """The process's Workspace for the current settings (WPFLOW_* env), built once.

    Long-lived processes (a worker, `wpflow serve`) keep one store engine and one mailer
    instead of reconnecting per task.
    """
    settings = settings or Settings()
    key = settings.model_dump_json()
    if key not in _WORKSPACES:
        _WORKSPACES[key] = Workspace(settings)
    return _WORKSPACES[key]


def send_receipts(ws: Workspace, milestone: Milestone, checked: list[CheckedSubmission]) -> list[Notice]:
    """A receipt per submission to its partner: what was received, valid or its problems.

    Keyed by the file's hash, so each distinct upload gets exactly one receipt however often
    the pipeline runs.
    """
    from wpflow.mail import compose_receipt_email, notification_key, notify_once

    notices = []
    for c in checked:
        partner = ws.project.participant(c.submission.partner)
        key = notification_key(milestone.id, partner.emails[0], c.submission.sha256, kind="receipt")
        if ws.store.was_sent(key):
            continue
        annotated = None
        if not c.result.valid:
            annotated = _annotated_copy_path(ws, c.submission)
        msg = compose_receipt_email(ws.project, milestone, c.submission, c.result, partner, annotated=annotated)
        notices.append(notify_once(
            ws.store, ws.mailer, msg, key=key, project=ws.project.name, milestone=milestone.id,
            recipient=partner.emails[0], kind="receipt", report_sha=c.submission.sha256,
        ))
    return notices


def _annotated_copy_path(ws: Workspace, sub: Submission) -> Path | None:
    folder = ws.settings.outputs / "quarantine" / sub.partner / sub.milestone
    path = folder / f"{Path(sub.file_name).stem}.v{sub.version}.{sub.sha256[:12]}.annotated.xlsx"
    return path if path.exists() else None
