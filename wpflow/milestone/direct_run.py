"""The milestone pipeline without Prefect: the same stages in the same order as the flow.

`wpflow run --direct`, the daily ladder's direct mode and the benchmarks' baseline call
`run_direct`; `flows/milestone.py` is the same story with a Prefect task per stage. Both
record the run in the store and name its outcome the same way (`run_status`).
"""

from __future__ import annotations

from datetime import date

from schemas.records import ReportOutcome, ReportStatus, RunStatus
from wpflow.milestone.progress import announce
from wpflow.milestone.report_stage import notify_stage, outcome_line, release_stage
from wpflow.milestone.stages import (
    collect_stage,
    merge_stage,
    receipt_promise,
    send_receipts,
    validate_stage,
)
from wpflow.workspace import Workspace


def run_direct(ws: Workspace, milestone_id: str, as_of: date | None = None) -> ReportOutcome:
    """The whole pipeline without Prefect: the baseline benchmarks compare against, and what
    `wpflow run --direct` uses when no orchestration is wanted. Same stages, same order."""
    milestone = ws.milestone(milestone_id)
    day = as_of or date.today()
    run_id = ws.store.start_run(ws.project.name, milestone_id, as_of)
    announce(milestone_id, RunStatus.running)
    try:
        subs = collect_stage(ws, milestone, as_of)
        checked = validate_stage(ws, milestone, subs)
        promise = receipt_promise(ws, milestone)  # before this run issues a version
        summary = merge_stage(ws, milestone, checked, day)
        try:
            outcome = release_stage(ws, milestone, summary)  # the report is written before any mail
        except BaseException:
            send_receipts(ws, milestone, checked, promise, as_of)  # and receipts do not wait for the report
            raise
        send_receipts(ws, milestone, checked, promise, as_of)
        notices = notify_stage(ws, milestone, summary, outcome)
    except BaseException as exc:
        ws.store.finish_run(run_id, RunStatus.failed, error=one_line(exc))
        announce(milestone_id, RunStatus.failed)
        raise
    outcome = outcome.model_copy(update={"message": outcome_line(outcome, notices)})
    record_outcome(ws, run_id, outcome)
    return outcome


def run_status(outcome: ReportOutcome) -> RunStatus:
    """The run's status in the store (and its state's name in the Prefect UI): a report with
    inputs missing, or none because nothing arrived, is "incomplete"."""
    if outcome.release == "empty" or (outcome.version is not None and outcome.version.status != ReportStatus.complete):
        return RunStatus.incomplete
    return RunStatus.completed


def record_outcome(ws: Workspace, run_id: int, outcome: ReportOutcome) -> None:
    """Close the run's record with what it did, and tell whoever shows progress."""
    announce(outcome.milestone_id, run_status(outcome))
    report = outcome.report
    ws.store.finish_run(
        run_id,
        run_status(outcome),
        report_sha256=report.sha256 if report else None,
        report_version=outcome.version.version if outcome.version else None,
        outcome=outcome.message,
    )


def one_line(exc: BaseException) -> str:
    """`TypeName: message` on one line, at most 1000 characters: what a run record keeps."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:1000]
