"""The store's record of each milestone run, kept by Prefect state hooks.

The flow opens the record as its first step; the hooks close it with the state the run really
ended in — completed or incomplete (with what it did), failed, crashed or cancelled (with why) —
so a run killed mid-way is not left "running" by a body that never reached its last line.
"""

from __future__ import annotations

from typing import Any

from prefect.runtime import flow_run as current_run

from schemas.records import ReportOutcome, RunStatus
from wpflow.milestone.direct_run import one_line, record_outcome
from wpflow.milestone.progress import announce
from wpflow.workspace import workspace


def open_run_record(project: str, milestone_id: str, as_of: Any) -> int:
    """The flow's first step, called in the flow itself, not as a task run: a row in the store
    that nobody watches or retries is not worth a task run's cost (docs/performance.md); its
    failure fails the run all the same."""
    ws = workspace(project)
    announce(milestone_id, RunStatus.running)
    crash_dead_runs(ws, milestone_id)
    return ws.store.start_run(ws.project.name, milestone_id, as_of, flow_run_id=str(current_run.id))


def crash_dead_runs(ws: Any, milestone_id: str) -> list[str]:
    """Earlier runs of the milestone whose process is provably dead (a worker killed with its
    runs, `kill -9`: no hook ran) are closed as crashed in the store and, still "Running" there,
    in Prefect; their claims are given back like the hook would. The ids of those flow runs.

    Prefect's heartbeat automation (`orchestration.topology`) does the same for Prefect's state when
    the process stood on another machine, where its death cannot be proven from here."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    store = ws.store
    crashed = set(store.mark_crashed_runs(ws.project.name, milestone_id))
    dead = [r for r in store.runs(ws.project.name, milestone_id) if r.id in crashed and r.flow_run_id]
    if not dead:
        return []
    with get_client(sync_client=True) as client:
        for record in dead:
            flow_run_id = str(record.flow_run_id)
            try:
                state = client.read_flow_run(UUID(flow_run_id)).state
            except ObjectNotFound:  # a run of another Prefect server (an earlier ephemeral API)
                state = None
            if state is not None and not state.is_final():
                client.set_flow_run_state(UUID(flow_run_id), Crashed(message=record.error), force=True)
            store.release_claims_of_run(flow_run_id)
    return [str(r.flow_run_id) for r in dead]


def close_run_record(flow: Any, flow_run: Any, state: Any) -> None:
    """on_completion / on_failure / on_crashed / on_cancellation hook of the milestone flow
    (the runner calls hooks by keyword: the names are Prefect's). The run's project is its
    parameter (None: the process's configured one, as the flow resolved it)."""
    ws = workspace(flow_run.parameters.get("project"))
    store = ws.store
    record = store.run_for_flow_run(ws.project.name, str(flow_run.id))
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
    store.release_claims_of_run(str(flow_run.id))  # the next ladder pass or upload tries again
    announce(record.milestone, status)
