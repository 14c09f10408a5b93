"""The milestone pipeline: collect → validate → merge → report → notify, as a Prefect flow, and
the state hooks that keep its record in the store (`wpflow.milestone.run_record`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from datetime import date
from typing import Any, TypeVar, cast

from prefect import Flow, flow, get_run_logger
from prefect.client.schemas.objects import FlowRun
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.utilities.annotations import opaque

from flows.crashed_parents import label_owner
from schemas.records import ReportOutcome, RunStatus
from tasks.collect import collect_submissions
from tasks.merge import merge_milestone
from tasks.notify import notify_partners, send_partner_receipts
from tasks.publish import publish_artifacts
from tasks.report import issue_report
from tasks.run_log import drop_empty_tracebacks
from tasks.task_runners import PipelineTaskRunner
from tasks.validate import validate_submissions
from wpflow.milestone.direct_run import one_line, run_status
from wpflow.milestone.report_stage import outcome_line
from wpflow.milestone.run_record import close_run, dead_runs, open_run
from wpflow.milestone.stages import receipt_promise
from wpflow.store.orm import MilestoneRun
from wpflow.workspace import configured_project, workspace

T = TypeVar("T")
# The state names a secretariat reads in the UI (a Completed state may carry its own name).
STATE_NAMES = {"completed": "Completed", "incomplete": "Incomplete"}


def as_is(value: T) -> T:
    """`opaque(value)`, typed as the value: Prefect passes it to the task without walking it
    for futures, which at 500 partners (250 000 rows) cost more than the pipeline itself
    (bench/bench_orchestration.py, docs/performance.md)."""
    return cast(T, opaque(value))


def milestone_run_name() -> str:
    """`baltmet-inno · WP3-M2 · due 2005-12-31` — what a secretariat member scans for in the UI."""
    ws = workspace(flow_run.parameters.get("project"))
    milestone = ws.milestone(flow_run.parameters["milestone_id"])
    as_of = flow_run.parameters.get("as_of")
    return f"{ws.slug} · {milestone.id} · due {milestone.due}" + (f" · as of {as_of}" if as_of else "")


def all_milestones_run_name() -> str:
    """`baltmet-inno · all milestones`."""
    return f"{workspace(flow_run.parameters.get('project')).slug} · all milestones"


def open_run_record(project: str, milestone_id: str, as_of: date | None) -> int:
    """The flow's first step, called in the flow itself, not as a task run: a row in the store
    that nobody watches or retries is not worth a task run's cost (docs/performance.md); its
    failure fails the run all the same. Earlier runs of the milestone whose process died are
    closed as crashed first: in the store (`dead_runs`) and, still "Running" there, in Prefect."""
    ws = workspace(project)
    crash_in_prefect(dead_runs(ws, milestone_id))
    return open_run(ws, milestone_id, as_of, str(flow_run.id))


def crash_in_prefect(dead: list[MilestoneRun]) -> list[str]:
    """Mark the flow runs of `dead` run records Crashed in Prefect when Prefect still shows them
    running; their ids. Prefect's heartbeat automation
    (`orchestration.topology`) does the same for Prefect's state when the process stood on
    another machine, where its death cannot be proven from here."""
    if not dead:
        return []
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        for record in dead:
            flow_run_id = str(record.flow_run_id)
            try:
                state = client.read_flow_run(UUID(flow_run_id)).state
            except ObjectNotFound:  # a run of another Prefect server (an earlier ephemeral API)
                state = None
            if state is not None and not state.is_final():
                client.set_flow_run_state(UUID(flow_run_id), Crashed(message=record.error), force=True)
    return [str(r.flow_run_id) for r in dead]


def close_run_record(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """on_completion / on_failure / on_crashed / on_cancellation hook of the milestone flow
    (the runner calls hooks by keyword: the names are Prefect's). The run's project is its
    parameter (None: the process's configured one, as the flow resolved it)."""
    ws = workspace(flow_run.parameters.get("project"))
    run_id = str(flow_run.id)
    if state.is_completed():
        outcome = state.result(raise_on_failure=False) if state.data is not None else None
        if isinstance(outcome, ReportOutcome):
            close_run(ws, run_id, RunStatus.completed, outcome=outcome)
        else:
            close_run(ws, run_id, RunStatus.completed, detail=state.message)
        return
    status = (
        RunStatus.crashed if state.is_crashed() else RunStatus.cancelled if state.is_cancelled() else RunStatus.failed
    )
    try:
        error = state.result(raise_on_failure=False)
    except Exception as exc:  # the result could not be read back: the exception itself says why
        error = exc
    close_run(ws, run_id, status, detail=one_line(error) if isinstance(error, BaseException) else state.message)


def show_incomplete_in_ui(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """on_completion hook: an "Incomplete" run's state on the API becomes a Cancelled-typed
    state of the same name and message, which the UI shows grey — not green like a complete
    milestone, not red like a failure.

    Prefect's UI colours a state by its type alone (the name is only the badge's text), and of
    the final types only Cancelled is neither success nor failure. The run itself still ends
    Completed in its process: the caller (`wpflow run`'s exit code, the parent run, a direct call)
    gets the ReportOutcome as before, and the store records the run as completed. Only what the
    API holds — what the UI and `run_deployment` read — is moved on, forced because a final state
    is left."""
    if state.name != STATE_NAMES["incomplete"]:
        return
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            flow_run.id, Cancelled(name=state.name, message=state.message, data=state.data), force=True
        )


@flow(
    name="milestone-pipeline",
    flow_run_name=milestone_run_name,
    validate_parameters=True,
    task_runner=PipelineTaskRunner(),  # threads, or Dask when WPFLOW_DASK_ADDRESS names a cluster: chosen per run
    on_completion=[close_run_record, show_incomplete_in_ui],
    on_failure=[close_run_record],
    on_crashed=[close_run_record],
    on_cancellation=[close_run_record],
)
def milestone_pipeline(
    milestone_id: str, as_of: date | None = None, project: str | None = None
) -> State[ReportOutcome]:
    """Run one milestone of `project` (a project folder, relative to the checkout or absolute;
    default the configured one): the partners' files become a Word report in their inboxes —
    once per distinct content; a run with inputs missing at the due date ends "Incomplete".
    The caller gets the ReportOutcome (the state's result)."""
    project = project or configured_project()
    drop_empty_tracebacks()  # a task that returns Failed is logged with an empty traceback
    day = as_of or date.today()
    open_run_record(project, milestone_id, as_of)
    submissions = collect_submissions(project, milestone_id, as_of)
    checked = validate_submissions(project, milestone_id, submissions)
    ws = workspace(project)
    promise = receipt_promise(ws, ws.milestone(milestone_id))  # before a version is issued
    summary = merge_milestone(project, milestone_id, as_is(checked), day)
    report = issue_report(project, milestone_id, as_is(summary), return_state=True)  # written before any mail
    send_partner_receipts(project, milestone_id, as_is(checked), promise, as_of)  # sent even when the report failed
    outcome = report.result()  # the report's own failure, if any, fails the run
    notices = notify_partners(project, milestone_id, as_is(summary), outcome)
    publish_artifacts(project, as_is(summary), outcome)
    return final_state(outcome.model_copy(update={"message": outcome_line(outcome, notices)}))


def final_state(outcome: ReportOutcome) -> State[ReportOutcome]:
    """The run's end state, named for what it did; the outcome is its result."""
    get_run_logger().info(outcome.message)
    return Completed(name=STATE_NAMES[run_status(outcome)], message=outcome.message, data=outcome)


@flow(name="all-milestones", flow_run_name=all_milestones_run_name)
def all_milestones(
    milestone_ids: list[str] | None = None, as_of: date | None = None, project: str | None = None
) -> State[dict[str, ReportOutcome | BaseException]]:
    """Every milestone of the project (or the ones named), each as its own subflow run. One
    that fails does not stop the others; the run then ends Failed, naming them. The result
    holds, per milestone, its outcome or the exception it failed with (the CLI maps a mail
    server or a folder out of reach to its exit code)."""
    project = project or configured_project()
    label_owner()  # the next command or serve closes this run as crashed if its process dies
    ws = workspace(project)
    ids = milestone_ids or [m.id for m in ws.project.milestones()]
    states = run_each(ids, as_of, project, ws.settings.milestone_workers)
    results: dict[str, ReportOutcome | BaseException] = {}
    for milestone_id, state in zip(ids, states, strict=True):
        result = state.result(raise_on_failure=False)
        if state.is_completed() and isinstance(result, ReportOutcome):
            results[milestone_id] = result
        else:
            results[milestone_id] = result if isinstance(result, BaseException) else RuntimeError(state.message)
            get_run_logger().error("%s failed: %s", milestone_id, state.message)
    failed = [i for i, r in results.items() if isinstance(r, BaseException)]
    if failed:
        return Failed(message=f"{len(failed)} of {len(ids)} milestone(s) failed: {', '.join(failed)}", data=results)
    return Completed(message=f"{len(ids)} milestone(s)", data=results)


def run_each(ids: list[str], as_of: date | None, project: str, workers: int) -> list[State[ReportOutcome]]:
    """The milestones' subflow runs, their end states in the order of `ids`: one after the other
    in this thread (`workers` 1, the default), or `workers` at a time in threads of their own.

    Milestones share no inputs (each has its own inbox folder, store rows, report and e-mail
    keys; the store serialises its writes) and a run mostly waits for the Prefect API, so runs
    overlap well even on two cores: -30 % for the demo's 25 (docs/performance.md). But Prefect
    enforces a sync task's timeout only in the main thread: in a worker thread the timeouts on
    the tasks' decorators do not apply, and Prefect warns so for every task run. Each thread
    runs the subflow in a copy of this flow run's context, so it is a child of this run, as a
    plain call is; Prefect creates the subflows' tracking task runs on its one event-loop
    thread, so their keys cannot collide.
    """
    if workers == 1 or len(ids) == 1:
        return [run_one(milestone_id, as_of, project) for milestone_id in ids]
    with ThreadPoolExecutor(max_workers=min(workers, len(ids)), thread_name_prefix="milestone") as pool:
        futures = [pool.submit(copy_context().run, run_one, milestone_id, as_of, project) for milestone_id in ids]
        return [future.result() for future in futures]


def run_one(milestone_id: str, as_of: date | None, project: str) -> State[ReportOutcome]:
    """One milestone's subflow run, its end state (a failure is returned, not raised)."""
    return cast(State[ReportOutcome], milestone_pipeline(milestone_id, as_of, project, return_state=True))
