"""The inbox watcher as Prefect: a `receive-uploads` flow run per batch of partner files, one
task run per partner folder and a table row per file — the UI shows every upload, a burst
costs the API a few flow runs.

Measured (issue 13, 2 cores, `wpflow serve`, 200 files at once across 9 partners × 6
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
thread (~0.8 s, DESIGN §2). The long-lived `inbox-watcher` run keeps it: there a crash matters.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.runtime import flow_run, task_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from schemas.records import CheckedSubmission
from wpflow.file_names import first_few, shown_name
from wpflow.inbox import watch
from wpflow.inbox.batches import BatchReceiver
from wpflow.inbox.collect import InboxFile
from wpflow.workspace import configured_project, slug_of, workspace

RECEIVING_THREADS = 8  # per batch: SQLite's single writer is the bottleneck beyond this
# Any: Prefect's decorator types its runner narrower than the ThreadPoolTaskRunner it accepts
RECEIVING_RUNNER: Any = ThreadPoolTaskRunner(max_workers=RECEIVING_THREADS)
WAITING_THREADS = 64  # watcher threads that wait for a file's batch: cheap, and a burst's files all join


def folder_task_name() -> str:
    """`riga · WP4-M3 · seed_funding.csv` for one file, `riga · WP4-M3 · 4 files` for more;
    names escaped (no raw CR/LF)."""
    relatives: list[str] = task_run.parameters["relatives"]
    partner, milestone_id, name = relatives[0].split("/", 2)
    last = name if len(relatives) == 1 else f"{len(relatives)} files"
    return shown_name(f"{partner} · {milestone_id} · {last}")


def uploads_run_name() -> str:
    """`baltmet-inno · 3 uploads · riga, tallinn · WP4-M3` — what the secretariat scans for in the UI."""
    relatives: list[str] = flow_run.parameters["relatives"]
    project = slug_of(flow_run.parameters.get("project") or configured_project())
    partners = sorted({r.split("/")[0] for r in relatives})
    milestones = sorted({r.split("/")[1] for r in relatives})
    count = f"{len(relatives)} upload{'s' if len(relatives) != 1 else ''}"
    return shown_name(" · ".join([project, count, first_few(partners, 3, " +{}"), first_few(milestones, 3, " +{}")]))


@task(task_run_name=folder_task_name, cache_policy=NO_CACHE)
def receive_folder(project: str, relatives: list[str]) -> State[dict[str, CheckedSubmission | str]]:
    """One partner's files for one milestone, each archived by hash, validated, acknowledged
    (`<partner>/<milestone>/<name>` under the inbox). A file that fails does not stop the
    others; the task then ends Failed naming it. No retries here: a failed file goes to the
    watcher's retry queue (backoff, kept in the store across restarts), and receiving again is
    idempotent by hash — the receipt goes once."""
    ws, log = workspace(project), get_run_logger()
    outcomes: dict[str, CheckedSubmission | str] = {}
    for relative in relatives:
        partner, milestone_id, name = relative.split("/", 2)
        try:
            received = watch.receive_file(ws, InboxFile(partner, milestone_id, ws.settings.inbox_root / relative))
        except Exception as exc:
            log.warning("%s not received yet: %s: %s", shown_name(name), type(exc).__name__, exc)
            outcomes[relative] = f"{type(exc).__name__}: {exc}"
        else:
            log.info("%s received: %s", shown_name(name), "valid" if received.result.valid else "invalid")
            outcomes[relative] = received
    failed = [shown_name(r.split("/", 2)[2]) for r, o in outcomes.items() if isinstance(o, str)]
    if failed:
        return Failed(message=f"{len(failed)} of {len(relatives)} not received yet: {', '.join(failed)}", data=outcomes)
    return Completed(message=f"{len(relatives)} received", data=outcomes)


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
    from flows.starts import without_heartbeat

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
    from the same value, so they watch and archive the same folders."""
    from flows.starts import pipeline_starter

    ws = workspace(project)
    register_receive_uploads()
    start = pipeline_starter(ws.project_ref)
    trigger = lambda milestone_id: watch.trigger_if_due(ws, milestone_id, start)  # noqa: E731
    receiver = BatchReceiver(partial(receive_batch, project=ws.project_ref))
    try:
        watcher = watch.InboxWatcher(ws, receiver, trigger=trigger, workers=WAITING_THREADS)
        watcher.run(stop or threading.Event())
    finally:
        receiver.close()


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
