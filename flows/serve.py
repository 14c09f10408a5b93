"""Deployments and serving: one place says which deployments exist; prefect.yaml, `wpflow
deploy` and `wpflow serve` all read it.

The milestones are data (project.yaml), so the deployments are generated: one per milestone
pipeline, the daily deadline ladder (cron, in the project's time zone) and the inbox watcher,
each with the project's folder as its `project` parameter (relative to the checkout when the
project is inside it: prefect.yaml holds no machine's absolute path).
`render_prefect_yaml` writes them for `prefect deploy`; a test keeps the committed prefect.yaml
equal to that text. Prefect is imported inside functions only: setting PREFECT_API_URL,
PREFECT_UI_API_URL and PREFECT_HOME must happen before Prefect reads its settings.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from flows.starts import MILESTONE_FLOW, milestone_deployment_name  # noqa: F401 - names of deployments
from schemas.project import Project
from schemas.settings import ROOT, Settings
from wpflow.reports_server import start_reports_server
from wpflow.servers import (  # noqa: F401 - re-exported: tests and bench start servers through serve
    free_port,
    prefect_server,
    stop_process_group,
    wait_for_health,
)

log = logging.getLogger(__name__)

PREFECT_YAML = ROOT / "prefect.yaml"
DEADLINE_CRON = "0 7 * * *"
FINAL_REPORT_HOUR = 8
WORK_POOL = "wpflow-process"


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment, independent of how it is registered (prefect.yaml, serve, deploy)."""

    name: str
    entrypoint: str  # "flows/milestone.py:milestone_pipeline", relative to the repository
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    cron: str | None = None
    rrule: str | None = None  # a one-off day (RFC 5545), e.g. a WP's end: its final report
    timezone: str | None = None

    @property
    def module_and_flow(self) -> tuple[str, str]:
        path, _, func = self.entrypoint.partition(":")
        return path.removesuffix(".py").replace("/", "."), func

    def load_flow(self):
        module, func = self.module_and_flow
        return getattr(importlib.import_module(module), func)


def deployment_specs(project: Project, ref: str) -> list[DeploymentSpec]:
    """Every deployment of the project (`ref`: its folder as a `project` parameter value),
    milestones in project order."""
    tag = project.name.lower().replace(" ", "-")
    specs = [
        DeploymentSpec(
            name=milestone_deployment_name(m.id),
            entrypoint="flows/milestone.py:milestone_pipeline",
            description=f"{m.id} {m.title} (due {m.due})",
            parameters={"milestone_id": m.id, "project": ref},
            tags=(tag, m.wp_id.lower(), "milestone"),
        )
        for m in project.milestones()
    ]
    specs.append(
        DeploymentSpec(
            name="daily",
            entrypoint="flows/deadlines.py:deadline_ladder",
            description="Deadline ladder: reminders, notices, escalations and pipeline runs due today.",
            parameters={"project": ref},
            tags=(tag, "deadlines"),
            cron=DEADLINE_CRON,
            timezone=project.deadlines.timezone,
        )
    )
    specs += final_report_specs(project, ref, tag)
    specs.append(
        DeploymentSpec(
            name="inbox",
            entrypoint="flows/watcher.py:inbox_watcher",
            description="Watch the partners' folders: a receipt per upload, pipelines when complete.",
            parameters={"project": ref},
            tags=(tag, "watcher"),
        )
    )
    return specs


def once_at(day: date) -> str:
    """An RRULE that fires once, at 08:00 on `day` (after the 07:00 ladder ran that day's milestones)."""
    return f"DTSTART:{day:%Y%m%d}T{FINAL_REPORT_HOUR:02d}0000\nRRULE:FREQ=DAILY;COUNT=1"


def final_report_specs(project: Project, ref: str, tag: str) -> list[DeploymentSpec]:
    """A WP's final report at its end date, the joint final report at the project's end. A
    later change (a late file, a corrected one) is a run by hand: `wpflow report` or "Run" in
    the UI; it sends only a new version."""
    from wpflow.project_story import project_release_day
    from wpflow.wp_story import wp_release_day

    specs = [
        DeploymentSpec(
            name=f"{wp.id.lower()}-final-report",
            entrypoint="flows/final_report.py:wp_final_report",
            description=f"{wp.id} {wp.title}: the WP's final report (at its end, {wp_release_day(project, wp)})",
            parameters={"wp_id": wp.id, "project": ref},
            tags=(tag, wp.id.lower(), "final-report"),
            rrule=once_at(wp_release_day(project, wp)),
            timezone=project.deadlines.timezone,
        )
        for wp in project.work_packages
    ]
    specs.append(
        DeploymentSpec(
            name="final-report",
            entrypoint="flows/final_report.py:final_report",
            description=f"The joint final report: every WP's, then the project's (at its end, "
            f"{project_release_day(project)})",
            parameters={"project": ref},
            tags=(tag, "final-report"),
            rrule=once_at(project_release_day(project)),
            timezone=project.deadlines.timezone,
        )
    )
    return specs


# -- prefect.yaml ------------------------------------------------------------------------
def render_prefect_yaml(project: Project, ref: str, *, work_pool: str = WORK_POOL) -> str:
    """The text of prefect.yaml for `prefect deploy --all` with a process work pool.

    No pull step is written: `prefect deploy` then records the directory it was run from,
    so the committed file holds no machine's absolute path.
    """
    import prefect

    deployments = []
    for spec in deployment_specs(project, ref):
        entry: dict[str, Any] = {
            "name": spec.name,
            "description": spec.description,
            "entrypoint": spec.entrypoint,
            "tags": list(spec.tags),
            "parameters": dict(spec.parameters),
            "enforce_parameter_schema": True,
        }
        if spec.cron:
            entry["schedules"] = [{"cron": spec.cron, "timezone": spec.timezone, "active": True}]
        elif spec.rrule:
            entry["schedules"] = [{"rrule": spec.rrule, "timezone": spec.timezone, "active": True}]
        entry["work_pool"] = {"name": work_pool}
        deployments.append(entry)
    header = (
        f"# Generated from {project.name}'s project.yaml by `wpflow deploy --write`; do not edit by hand\n"
        "# (tests/test_serve.py fails when this file and the project disagree).\n"
        f"# Use: prefect work-pool create {work_pool} --type process && prefect deploy --all\n"
        f"#      && prefect worker start --pool {work_pool}   (or simply: wpflow serve)\n"
    )
    body = {"name": "wpflow", "prefect-version": prefect.__version__, "deployments": deployments}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def runner_deployments(
    project: Project,
    ref: str,
    *,
    milestones: list[str] | None = None,
    watcher: bool = False,
    work_pool: str | None = None,
) -> list[Any]:
    """`flow.to_deployment(...)` for each spec: the daily ladder always, the milestones (or only
    those named), the watcher only when asked (`wpflow serve` runs it in a thread instead)."""
    from prefect.schedules import Cron, RRule

    wanted = {m.lower() for m in milestones} if milestones is not None else None
    out = []
    for spec in deployment_specs(project, ref):
        milestone_id = spec.parameters.get("milestone_id")
        if milestone_id is not None and wanted is not None and milestone_id.lower() not in wanted:
            continue
        if spec.entrypoint.startswith("flows/watcher.py") and not watcher:
            continue
        schedules = (
            [Cron(spec.cron, timezone=spec.timezone)]
            if spec.cron
            else [RRule(spec.rrule, timezone=spec.timezone)]
            if spec.rrule
            else None
        )
        with contextlib.chdir(ROOT):  # entrypoints relative to the checkout, wherever we were started
            deployment = spec.load_flow().to_deployment(
                name=spec.name,
                description=spec.description,
                parameters=dict(spec.parameters),
                tags=list(spec.tags),
                schedules=schedules,
                enforce_parameter_schema=True,
                work_pool_name=work_pool,
                # a process worker otherwise runs each flow in an empty temporary folder, where the
                # entrypoint (flows/milestone.py) is not found: run it from this checkout
                job_variables={"working_dir": str(ROOT)} if work_pool else None,
            )
        out.append(deployment)
    return out


@contextmanager
def prefect_api(settings: Settings, port: int | None = None, *, database_url: str | None = None) -> Iterator[str]:
    """The API to use: PREFECT_API_URL when set, else a server started here with its home
    under outputs/prefect (so its runs stay browsable later) on WPFLOW_SERVE_PORT or 4200,
    keeping its runs in `database_url` when given (PostgreSQL: `flows.topology`)."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    port = port or settings.serve_port
    home = (settings.outputs / "prefect").resolve()
    with prefect_server(port, home, database_url=database_url) as api_url:
        os.environ.update(PREFECT_HOME=str(home), PREFECT_API_URL=api_url, PREFECT_UI_API_URL=api_url)
        try:
            yield api_url
        finally:
            for name in ("PREFECT_API_URL", "PREFECT_UI_API_URL"):
                os.environ.pop(name, None)


# -- wpflow serve ------------------------------------------------------------------------
# How long each part of a shutdown may take: the runner's stop (pausing schedules, cancelling
# in-flight runs) and the watcher's files in hand. Past it we exit anyway: every file still in
# the inbox is received again on the next start, idempotent by hash.
SHUTDOWN_GRACE_SECONDS = 10.0
EXIT_STOPPED_BUSY = 3  # stopped, but a receive was still in hand


def serve(project: str, *, port: int | None = None, milestones: list[str] | None = None, watch: bool = True) -> None:
    """Everything on one machine for `project` (a project folder value) until Ctrl-C or
    SIGTERM: a Prefect server (unless PREFECT_API_URL is set), the deployments served with
    their schedules, the reports over HTTP on loopback, and the inbox watcher in a thread whose
    quiet milestones start their served deployments. Settings are this process's own."""
    from wpflow.workspace import workspace

    ws = workspace(project)
    settings = ws.settings
    with prefect_api(settings, port) as api_url:
        deployments = runner_deployments(ws.project, ws.project_ref, milestones=milestones)
        reports = start_reports_server(settings.reports_dir, settings.reports_port)  # the UI's report links
        stop = threading.Event()
        thread = start_watcher_thread(ws.project_ref, stop) if watch else None
        log.info("serving %d deployment(s) on %s", len(deployments), api_url)
        try:
            serve_until_signalled(deployments, on_signal=stop.set)
        finally:
            stop.set()
            reports.stop()
            if thread is not None:
                thread.join(SHUTDOWN_GRACE_SECONDS)
                if thread.is_alive():
                    log.warning(
                        "the inbox watcher was still busy %.0f s after the stop; exiting anyway "
                        "(files in hand are received again on the next start); its threads:",
                        SHUTDOWN_GRACE_SECONDS,
                    )
                    faulthandler.dump_traceback(all_threads=True)  # what it was busy with, for the log
                    logging.shutdown()
                    os._exit(EXIT_STOPPED_BUSY)  # interpreter exit would join the busy receive threads
        log.info("stopped")


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

    ctx = contextvars.copy_context()  # carries Prefect's settings context into the thread
    thread = threading.Thread(target=ctx.run, args=(watch_inbox, project, stop), name="wpflow-watcher", daemon=True)
    thread.start()
    return thread
