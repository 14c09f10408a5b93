"""The inbox watcher as Prefect: one `receive-upload` flow run per partner file.

The heartbeat decision, measured here (test harness server, 2 cores, 1 s stability window):
- a receive-upload run takes ~1.1 s with the flow heartbeat on and ~0.35 s with it off —
  the difference is the exit joining the heartbeat thread (DESIGN §2);
- the receipt itself is written *before* that exit, so one upload's receipt latency is the same
  either way: p95 1.4–1.7 s, median ~1.2 s (`test_each_upload_is_a_receive_upload_flow_run…`);
- what the heartbeat does cost is a worker thread held ~0.8 s longer per upload and a run that
  shows "Running" in the UI for a second after its work is done.
A run this short gains nothing from crash detection (a failed or crashed upload goes to the
watcher's retry queue, and the periodic rescan and daily collect receive it again, idempotent by
hash), so receive-upload
runs have the heartbeat off. The long-lived `inbox-watcher` run keeps it: there a crash matters.
Bursts are bounded by the Prefect API, not by the heartbeat: 40 files at once took ~17 s to
acknowledge through Prefect either way (the plain `wpflow.watch.receive_file` path: 200 in ~8 s).
"""

from __future__ import annotations

import threading
from functools import partial

from prefect import flow, task

from schemas.records import CheckedSubmission, Notice, Submission
from wpflow import watch
from wpflow.collect import InboxFile
from wpflow.workspace import configured_project, workspace


@task(retries=2, retry_delay_seconds=1)
def archive_upload(project: str, partner: str, milestone_id: str, file_name: str) -> Submission:
    """Archive by hash and record the submission before anything can go wrong with parsing."""
    ws = workspace(project)
    path = ws.settings.inbox_root / partner / milestone_id / file_name
    return watch.archive_upload(ws, InboxFile(partner, milestone_id, path))


@task
def validate_upload(project: str, submission: Submission) -> CheckedSubmission:
    return watch.check_upload(workspace(project), submission)


@task(retries=3, retry_delay_seconds=[2, 10, 60])
def send_receipt(project: str, checked: CheckedSubmission) -> list[Notice]:
    """Retries are safe: the receipt is keyed by the file's hash and sent at most once."""
    return watch.send_upload_receipt(workspace(project), checked)


@flow(name="receive-upload", flow_run_name="{partner} · {milestone_id} · {file_name}", log_prints=False)
def receive_upload(partner: str, milestone_id: str, file_name: str, project: str | None = None) -> CheckedSubmission:
    """One partner file of `project` (default the configured one): archived, validated,
    acknowledged. The milestone's pipeline is started by the watcher once its folder has been
    quiet for a while (a burst gives one report)."""
    project = project or configured_project()
    submission = archive_upload(project, partner, milestone_id, file_name)
    checked = validate_upload(project, submission)
    send_receipt(project, checked)
    return checked


def receive_upload_run(item: InboxFile, project: str | None = None) -> CheckedSubmission:
    """The watcher's receiver: a `receive-upload` flow run with the heartbeat off (see above)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return receive_upload(item.partner, item.milestone, item.path.name, project)


def watch_inbox(project: str | None = None, stop: threading.Event | None = None) -> None:
    """Run the watcher of `project` (default the configured one) with a receive-upload flow run
    per file until `stop` is set (forever if None). The watcher and the runs it starts build
    their workspace from the same value, so they watch and archive the same folders."""
    from flows.starts import pipeline_starter

    ws = workspace(project)
    register_receive_upload()
    start = pipeline_starter(ws.project_ref)
    trigger = lambda milestone_id: watch.trigger_if_due(ws, milestone_id, start)  # noqa: E731
    receive = partial(receive_upload_run, project=ws.project_ref)
    watch.InboxWatcher(ws, receive, trigger=trigger).run(stop or threading.Event())


def register_receive_upload() -> None:
    """Create the flow on the API (idempotent) and open the client before the first upload:
    measured ~0.35 s that the first receipt after a start would otherwise wait for."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.create_flow(receive_upload)


@flow(name="inbox-watcher", flow_run_name="inbox watcher")
def inbox_watcher(project: str | None = None) -> None:
    """Watch the partners' folders of `project` until the run is cancelled: the deployment for
    workers; `wpflow serve` runs the same watcher in a thread instead. The folder is the
    project's inbox (or WPFLOW_INBOX)."""
    watch_inbox(project)
