"""The store's record of each milestone run, kept by Prefect state hooks.

The flow opens the record as its first step; the hooks close it with the state the run really
ended in — completed or incomplete (with what it did), failed, crashed or cancelled (with why) —
so a run killed mid-way is not left "running" by a body that never reached its last line.
"""

from __future__ import annotations

from typing import Any

from prefect.runtime import flow_run as current_run

from schemas.records import ReportOutcome, RunStatus
from wpflow.pipeline import one_line, record_outcome
from wpflow.progress import announce
from wpflow.workspace import workspace


def open_run_record(project: str, milestone_id: str, as_of: Any) -> int:
    """The flow's first step, called in the flow itself, not as a task run: a row in the store
    that nobody watches or retries is not worth a task run's cost (docs/performance.md); its
    failure fails the run all the same."""
    ws = workspace(project)
    announce(milestone_id, RunStatus.running)
    return ws.store.start_run(ws.project.name, milestone_id, as_of, flow_run_id=str(current_run.id))


def close_run_record(flow: Any, flow_run: Any, state: Any) -> None:
    """on_completion / on_failure / on_crashed / on_cancellation hook of the milestone flow
    (the runner calls hooks by keyword: the names are Prefect's). The run's project is its
    parameter (None: the process's configured one, as the flow resolved it)."""
    ws = workspace(flow_run.parameters.get("project"))
    store = ws.store
    record = store.run_for_flow_run(str(flow_run.id))
    if record is None or record.finished_at is not None:
        return
    if state.is_completed():
        outcome = state.result(raise_on_failure=False) if state.data is not None else None
        if isinstance(outcome, ReportOutcome):
            record_outcome(ws, record.id, outcome)
            return
        store.finish_run(record.id, RunStatus.completed, outcome=state.message)
        return
    status = (
        RunStatus.crashed if state.is_crashed() else RunStatus.cancelled if state.is_cancelled() else RunStatus.failed
    )
    try:
        error = state.result(raise_on_failure=False)
    except Exception as exc:  # the result could not be read back: the exception itself says why
        error = exc
    store.finish_run(
        record.id, status, error=one_line(error) if isinstance(error, BaseException) else (state.message or status)
    )
    announce(record.milestone, status)
