"""Serving: `wpflow serve` runs every project of the installation on one machine — a Prefect
server, every project's deployments (`orchestration.deployments` says which exist), the reports over
HTTP, an inbox watcher per project and, when WPFLOW_IMAP_HOST is set, the e-mail intake.

Prefect is imported inside functions only: a `wpflow serve` that starts nothing but the
watcher should not pay for it, and the API Prefect talks to is given as settings
(`prefect_api`), not found at import.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from orchestration.deployments import runner_deployments
from orchestration.ephemeral_api import close_dead_parent_runs
from orchestration.prefect_server import (  # noqa: F401 - re-exported: tests and bench start servers through serve
    free_port,
    prefect_server,
    stop_process_group,
    wait_for_health,
)
from schemas.settings import Settings
from wpflow.report.http_server import served_hosts, start_reports_server  # the UI's report links

log = logging.getLogger(__name__)


@contextmanager
def prefect_api(settings: Settings, port: int | None = None, *, database_url: str | None = None) -> Iterator[str]:
    """The API to use: PREFECT_API_URL when set, else a server started here with its home
    under outputs/prefect (so its runs stay browsable later) on WPFLOW_SERVE_PORT or 4200,
    keeping its runs in `database_url` when given (PostgreSQL: `orchestration.topology`).

    The block runs under Prefect's settings for that server (`temporary_settings`: API, UI API,
    home); the runner passes the settings it runs under to the flow-run processes it starts,
    and threads started with a copy of the block's context (the watchers') see them too."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    from prefect.settings import temporary_settings

    port = port or settings.serve_port
    home = (settings.outputs / "prefect").resolve()
    with prefect_server(port, home, database_url=database_url) as api_url:
        updates = {"PREFECT_HOME": str(home), "PREFECT_API_URL": api_url, "PREFECT_UI_API_URL": api_url}
        with temporary_settings(updates=updates):
            yield api_url


# -- wpflow serve ------------------------------------------------------------------------
# How long each part of a shutdown may take: the runner's stop (pausing schedules, cancelling
# in-flight runs) and the watcher's files in hand. Past it we exit anyway: every file still in
# the inbox is received again on the next start, idempotent by hash.
SHUTDOWN_GRACE_SECONDS = 10.0
EXIT_STOPPED_BUSY = 3  # stopped, but a receive was still in hand


def serve(
    projects: list[str], *, port: int | None = None, milestones: list[str] | None = None, watch: bool = True
) -> None:
    """Everything on one machine for `projects` (project folder values) until Ctrl-C or
    SIGTERM: a Prefect server (unless PREFECT_API_URL is set), every project's deployments
    served with their schedules and the one daily ladder, the reports of all over HTTP on
    loopback, and a watcher thread per project's inbox whose quiet milestones start their
    project's served deployments. Settings are this process's own; outputs, the store, the
    Prefect home and the ports are the installation's, shared by its projects."""
    from wpflow.milestone.collect import inbox_line
    from wpflow.workspace import workspace

    workspaces = [workspace(project) for project in projects]
    settings = workspaces[0].settings
    with prefect_api(settings, port) as api_url:
        close_dead_parent_runs()  # a `wpflow run --all` killed earlier is not left "Running"
        deployments = runner_deployments([(ws.project, ws.project_ref) for ws in workspaces], milestones=milestones)
        reports = start_reports_server(settings.reports_root, settings.reports_port, hosts=served_hosts(settings))
        partners = start_partner_pages(workspaces)
        stop = threading.Event()
        threads = [start_watcher_thread(ws.project_ref, stop) for ws in workspaces] if watch else []
        for ws in workspaces if watch else []:  # where each project's partners must deliver
            print(f"{ws.settings.project_slug} {inbox_line(ws.settings.inbox_root)}", flush=True)
        if settings.imap_host is not None:  # the e-mail intake: its files land in the watched folders
            from wpflow.intake.poller import start_intake_thread

            threads.append(start_intake_thread([ws.project_ref for ws in workspaces], stop))
        log.info("serving %d deployment(s) of %d project(s) on %s", len(deployments), len(workspaces), api_url)
        try:
            serve_until_signalled(deployments, on_signal=stop.set)
        finally:
            stop.set()
            reports.stop()
            if partners is not None:
                partners.stop()
            deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS  # one grace for all the watchers
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            if any(thread.is_alive() for thread in threads):
                log.warning(
                    "an inbox watcher was still busy %.0f s after the stop; exiting anyway "
                    "(files in hand are received again on the next start); its threads:",
                    SHUTDOWN_GRACE_SECONDS,
                )
                faulthandler.dump_traceback(all_threads=True)  # what it was busy with, for the log
                logging.shutdown()
                os._exit(EXIT_STOPPED_BUSY)  # interpreter exit would join the busy receive threads
        log.info("stopped")


def start_partner_pages(workspaces: list[Any]) -> Any:
    """The partners' pages (`wpflow.partners`) when WPFLOW_PARTNER_SECRET is set — without it
    there are no links to them — else None."""
    if workspaces[0].settings.partner_secret is None:
        return None
    from wpflow.partners.server import start_partner_server

    return start_partner_server(workspaces)


def serve_until_signalled(
    deployments: list[Any], grace: float = SHUTDOWN_GRACE_SECONDS, on_signal: Callable[[], None] = lambda: None
) -> None:
    """`prefect.serve` with a shutdown we own: SIGINT and SIGTERM set one event, and the runner
    is stopped through its own `astop` (an anyio cancel scope), each step bounded by `grace`.
    `on_signal` runs at once (the watcher winds down while the runner stops).

    Not `prefect.serve` itself, for two causes of a serve that ignored Ctrl-C (measured): a
    process started in the background inherits SIGINT as *ignored*, so Python never raises
    KeyboardInterrupt; and asyncio.run turns SIGINT into a native `Task.cancel()` of the
    runner, which an anyio cancel scope firing at the same moment (the poller's sleep) can
    swallow — timing-dependent, so it failed under load and passed alone.
    """
    import asyncio

    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True)
    for deployment in deployments:
        runner.add_deployment(deployment)
    print_serving_message(deployments)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()

        def request_stop(signum: int = signal.SIGTERM, _frame: object = None) -> None:
            log.info("%s received: stopping (at most %.0f s per step)", signal.Signals(signum).name, grace)
            on_signal()
            loop.call_soon_threadsafe(stopping.set)

        runner.handle_sigterm = request_stop  # type: ignore[method-assign]  # Runner.start installs it for SIGTERM
        previous = signal.signal(signal.SIGINT, request_stop)  # also when SIGINT was inherited ignored
        running = asyncio.ensure_future(runner.start())
        waiting = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if running.done():  # the runner ended on its own (an error): say so
                running.result()
                return
            if runner.started:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(runner.astop(), grace)
            done, _ = await asyncio.wait({running}, timeout=grace)
            if not done:
                log.warning("the runner did not stop within %.0f s; cancelling it", grace)
                running.cancel()
                await asyncio.wait({running}, timeout=grace)
        finally:
            waiting.cancel()
            signal.signal(signal.SIGINT, previous)

    asyncio.run(main())


def print_serving_message(deployments: list[Any]) -> None:
    """The lines `prefect.serve` prints, so a person sees what is served."""
    names = [d.full_name for d in deployments]
    print(
        "Your deployments are being served and polling for scheduled runs!\n\n" + "\n".join(f"  {n}" for n in names),
        flush=True,
    )


def start_watcher_thread(project: str, stop: threading.Event) -> threading.Thread:
    """The watcher in a daemon thread: one Prefect flow run per upload; a complete milestone
    starts its served deployment (`start_pipeline` finds it on the server)."""
    import contextvars

    from flows.watcher import watch_inbox
    from wpflow.workspace import slug_of

    ctx = contextvars.copy_context()  # carries Prefect's settings context into the thread
    thread = threading.Thread(
        target=ctx.run, args=(watch_inbox, project, stop), name=f"wpflow-watcher-{slug_of(project)}", daemon=True
    )
    thread.start()
    return thread
