"""The store's record of each milestone run the Prefect flow makes: opened as the run starts,
closed with the state it really ended in — completed or incomplete (with what it did), failed,
crashed or cancelled (with why) — so a run killed mid-way is not left "running" by a body that
never reached its last line. Plain Python over a `Workspace`: the flow's state hooks
(flows/milestone.py) read Prefect's states and call these.
"""

from __future__ import annotations

from datetime import date

from schemas.records import ReportOutcome, RunStatus
from wpflow.milestone.direct_run import record_outcome
from wpflow.milestone.progress import announce
from wpflow.store.orm import MilestoneRun
from wpflow.workspace import Workspace


def open_run(ws: Workspace, milestone_id: str, as_of: date | None, flow_run_id: str) -> int:
    """The run's row in the store, "running"; its id."""
    announce(milestone_id, RunStatus.running)
    return ws.store.start_run(ws.project.name, milestone_id, as_of, flow_run_id=flow_run_id)


def dead_runs(ws: Workspace, milestone_id: str) -> list[MilestoneRun]:
    """Earlier runs of the milestone whose process is provably dead (a worker killed with its
    runs, `kill -9`: no hook ran), closed as crashed in the store now and their claims given
    back, as `close_run` would have; those that were flow runs, whose orchestrator may still
    show them running."""
    store = ws.store
    crashed = set(store.mark_crashed_runs(ws.project.name, milestone_id))
    dead = [r for r in store.runs(ws.project.name, milestone_id) if r.id in crashed and r.flow_run_id]
    for record in dead:
        store.release_claims_of_run(str(record.flow_run_id))
    return dead


def close_run(
    ws: Workspace,
    flow_run_id: str,
    status: RunStatus,
    *,
    outcome: ReportOutcome | None = None,
    detail: str | None = None,
) -> None:
    """Close the run of `flow_run_id`, unless there is none or it is closed already: completed
    with its outcome (or `detail` as its outcome line when it has none); failed, crashed or
    cancelled with `detail` as its error, its claims given back so that the next ladder pass or
    upload tries again."""
    store = ws.store
    record = store.run_for_flow_run(ws.project.name, flow_run_id)
    if record is None or record.finished_at is not None:
        return
    if status is RunStatus.completed:
        if outcome is not None:
            record_outcome(ws, record.id, outcome)
        else:
            store.finish_run(record.id, RunStatus.completed, outcome=detail)
        return
    store.finish_run(record.id, status, error=detail or status)
    store.release_claims_of_run(flow_run_id)
    announce(record.milestone, status)
