"""The inbox watcher as Prefect: a `receive-uploads` flow run per batch of partner files, one
task run per partner folder and a table row per file — the UI shows every upload, a burst
costs the API a few flow runs.

Measured (2 cores, `wpflow serve`, 200 files at once across 9 partners × 6
milestones): a flow run per upload gave receipts at p95 148 s — each run's creation and state
changes queue at the API; the plain path (no Prefect) p95 5.5 s. So the watcher's threads
hand their stable files to a `wpflow.inbox.batches.BatchReceiver` and each batch is one flow run.
Task runs are cheaper (their states travel as events) but not free: ~20 ms of this process per
task run, which with a task per file still made p95 14 s; a task per partner folder holds it
near the plain path. Files trickling in one by one still get a run and a task each. The
figures are in docs/performance.md (`bench/bench_burst.py`).

Receiving runs have the flow heartbeat off: a run this short gains nothing from crash
detection (a failed upload goes to the watcher's retry queue, and the periodic rescan and the
daily collect receive it again, idempotent by hash), and the exit would join the heartbeat
thread (~0.8 s). The long-lived `inbox-watcher` run keeps it: there a crash matters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import copy_context
from functools import partial
from typing import Any, ParamSpec, TypeVar

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.futures import wait
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from flows.starts import pipeline_starter, without_heartbeat
from schemas.records import CheckedSubmission
from tasks.inbox import receive_folder
from tasks.run_log import drop_empty_tracebacks
from wpflow.file_names import first_few, shown_name
from wpflow.inbox import watch
from wpflow.inbox.batches import BatchReceiver
from wpflow.milestone.collect import InboxFile
from wpflow.workspace import configured_project, slug_of, workspace

P = ParamSpec("P")
R = TypeVar("R")

RECEIVING_THREADS = 8  # per batch: SQLite's single writer is the bottleneck beyond this
# Any: Prefect's decorator types its runner narrower than the ThreadPoolTaskRunner it accepts
RECEIVING_RUNNER: Any = ThreadPoolTaskRunner(max_workers=RECEIVING_THREADS)
WAITING_THREADS = 64  # watcher threads that wait for a file's batch: cheap, and a burst's files all join


def uploads_run_name() -> str:
    """`baltmet-inno · 3 uploads · riga, tallinn · WP4-M3` — what the secretariat scans for in the UI."""
    relatives: list[str] = flow_run.parameters["relatives"]
    project = slug_of(flow_run.parameters.get("project") or configured_project())
    partners = sorted({r.split("/")[0] for r in relatives})
    milestones = sorted({r.split("/")[1] for r in relatives})
    count = f"{len(relatives)} upload{'s' if len(relatives) != 1 else ''}"
    return shown_name(" · ".join([project, count, first_few(partners, 3, " +{}"), first_few(milestones, 3, " +{}")]))


@flow(
    name="receive-uploads",
    flow_run_name=uploads_run_name,
    task_runner=RECEIVING_RUNNER,
    log_prints=False,
)
def receive_uploads(relatives: list[str], project: str | None = None) -> State[dict[str, str | None]]:
    """A batch of partner files: one task per partner folder (a task run costs ~20 ms of this
    process's time, per file that was most of a burst's receipt latency), every upload a row of
    the run's table artifact. Ends Failed when a file could not be received — it is in the
    watcher's retry queue; the result says, per file, None or the error. `project` defaults
    to the configured one."""
    project = project or configured_project()
    drop_empty_tracebacks()  # a receive that returns Failed is logged with an empty traceback
    folders: dict[str, list[str]] = {}
    for relative in relatives:
        folders.setdefault(relative.rsplit("/", 1)[0], []).append(relative)
    futures = [receive_folder.submit(project, files) for files in folders.values()]
    wait(futures)
    errors: dict[str, str | None] = {}
    rows = []
    for files, future in zip(folders.values(), futures, strict=True):
        outcomes = future.result(raise_on_failure=False)
        for relative in files:
            outcome = outcomes.get(relative) if isinstance(outcomes, dict) else str(future.state.message)
            errors[relative] = outcome if isinstance(outcome, str) else None
            rows.append(upload_row(relative, outcome))
    create_table_artifact(rows, description=f"{len(relatives)} upload(s)")
    failed = [shown_name(r) for r, error in errors.items() if error]
    if failed:
        return Failed(message=f"{len(failed)} of {len(relatives)} not received yet: {', '.join(failed)}", data=errors)
    return Completed(message=f"{len(relatives)} upload(s) received", data=errors)


def upload_row(relative: str, outcome: CheckedSubmission | str | None) -> dict[str, str]:
    partner, milestone_id, name = relative.split("/", 2)
    if not isinstance(outcome, CheckedSubmission):
        status, detail = "not received yet", shown_name(outcome or "")
    else:
        result = outcome.result
        status = "valid" if result.valid else "invalid"
        detail = f"{len(result.issues)} problem(s)" if result.issues else ""
    return {"partner": partner, "milestone": milestone_id, "file": shown_name(name), "status": status, "detail": detail}


def receive_batch(items: list[InboxFile], project: str | None = None) -> dict[str, BaseException | None]:
    """The batch receiver's runner: one `receive-uploads` flow run in this process, heartbeat
    off (see above); per file None or the error the watcher defers it with."""
    with without_heartbeat():
        state = receive_uploads([item.relative for item in items], project, return_state=True)
    errors = state.result(raise_on_failure=False)
    if not isinstance(errors, dict):  # the run itself failed (the API went away): all deferred
        raise RuntimeError(f"receive-uploads ended {state.name}: {state.message}")
    return {relative: (None if error is None else UploadNotReceived(error)) for relative, error in errors.items()}


class UploadNotReceived(Exception):
    """A file of a batch that could not be received; the message is its task's error."""


def watch_inbox(project: str | None = None, stop: threading.Event | None = None) -> None:
    """Run the watcher of `project` (default the configured one), receiving in batches, until
    `stop` is set (forever if None). The watcher and the runs it starts build their workspace
    from the same value, so they watch and archive the same folders. Its batches and pipeline
    starts run in threads of the watcher's own; each runs in a copy of this call's context,
    so they talk to the Prefect API this call was given (`orchestration.serve.prefect_api`)."""
    ws = workspace(project)
    register_receive_uploads()
    start = in_this_context(pipeline_starter(ws.project_ref))
    trigger = lambda milestone_id: watch.trigger_if_due(ws, milestone_id, start)  # noqa: E731
    receiver = BatchReceiver(in_this_context(partial(receive_batch, project=ws.project_ref)))
    try:
        watcher = watch.InboxWatcher(ws, receiver, trigger=trigger, workers=WAITING_THREADS)
        watcher.run(stop or threading.Event())
    finally:
        receiver.close()


def in_this_context(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, called in a copy of the caller's context wherever it is called from: a
    thread started without one would see Prefect's process-wide settings, not the caller's."""
    context = copy_context()

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(function, *args, **kwargs)

    return call


def register_receive_uploads() -> None:
    """Create the flow on the API (idempotent) and open the client before the first upload:
    measured ~0.35 s that the first receipt after a start would otherwise wait for."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.create_flow(receive_uploads)


def watcher_run_name() -> str:
    """`baltmet-inno · inbox watcher`."""
    return f"{slug_of(flow_run.parameters.get('project') or configured_project())} · inbox watcher"


@flow(name="inbox-watcher", flow_run_name=watcher_run_name)
def inbox_watcher(project: str | None = None) -> None:
    """Watch the partners' folders of `project` until the run is cancelled: the deployment for
    workers; `wpflow serve` runs the same watcher in a thread instead. The folder is the
    project's inbox (or WPFLOW_INBOX)."""
    watch_inbox(project)
