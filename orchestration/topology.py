"""The production topology, rehearsed on one machine: `wpflow serve --workers N`.

A Prefect server (on PostgreSQL when the store is: `orchestration.databases`), a process work pool,
every deployment registered to it, N `prefect worker` processes that run the flow runs, the
zombie-run automation, the reports over HTTP and the inbox watcher — all Prefect's own
machinery, started and stopped here as one. Each worker could stand on its own machine
(docs/deploy.md): it needs only PREFECT_API_URL, this checkout, the same WPFLOW_* settings and
the shared folders. With PREFECT_API_URL set no server is started: `wpflow serve --workers 2
--no-watch` on a second machine adds two workers to the first one's pool.

Shutdown is ours and bounded: SIGINT or SIGTERM stops the watcher, the workers and the runs they
started (`orchestration.prefect_server.stop_worker`), then the server, each step bounded by seconds. Every child
is tied to this process by the kernel (`orchestration.child_processes`), so a `kill -9` leaves none behind.
A worker that dies while we run is started again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from orchestration.databases import ensure_database, prefect_database_url
from orchestration.deployments import WORK_POOL, runner_deployments
from orchestration.prefect_server import start_worker, stop_worker
from orchestration.serve import SHUTDOWN_GRACE_SECONDS, prefect_api, start_partner_pages, start_watcher_thread
from wpflow.report.http_server import start_reports_server

log = logging.getLogger("wpflow.topology")

# Deployed runs send a heartbeat every 30 s (Prefect's minimum); a run silent for 90 s — three
# missed beats, its worker or machine gone — is marked Crashed by the automation below. On the
# same machine the next run of the milestone notices sooner (its process is provably dead:
# `flows.milestone.crash_in_prefect`); across machines the heartbeat is the only witness.
HEARTBEAT_SECONDS = 30
ZOMBIE_AFTER = timedelta(seconds=90)
ZOMBIE_AUTOMATION = "wpflow: crash flow runs without heartbeat"
SUPERVISE_SECONDS = 1.0


@dataclass
class Workers:
    """The worker processes of this topology, started again when one dies."""

    pool: str
    count: int
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def name(self, i: int) -> str:
        return f"{self.pool}-{os.uname().nodename}-{i + 1}"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes = [self._start(i) for i in range(self.count)]

    def _start(self, i: int) -> subprocess.Popen:
        process = start_worker(self.pool, self.name(i), self.env, self.logs / f"worker-{i + 1}.log")
        log.info("worker %s started (pid %d)", self.name(i), process.pid)
        return process

    def supervise(self) -> None:
        """Start again any worker that exited (a worker killed outright leaves its runs to the
        crash detection; the pool keeps its capacity)."""
        for i, process in enumerate(self.processes):
            if process.poll() is not None:
                log.warning("worker %s exited with code %s; starting it again", self.name(i), process.returncode)
                self.processes[i] = self._start(i)

    def stop(self) -> None:
        threads = [threading.Thread(target=stop_worker, args=(p,)) for p in self.processes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


async def register(deployments: list, concurrency: int = 8) -> None:
    """Register the deployments a few at a time: one by one, 35 of them took 16–30 s here."""
    gate = asyncio.Semaphore(concurrency)

    async def apply(deployment) -> None:
        async with gate:
            await deployment.aapply()

    await asyncio.gather(*(apply(d) for d in deployments))


def serve_topology(
    projects: list[str], *, workers: int, port: int | None = None, pool: str = WORK_POOL, watch: bool = True
):
    """Run the topology for `projects` (project folder values) until SIGINT or SIGTERM."""
    from wpflow.store.engine import make_engine
    from wpflow.store.migrate import upgrade
    from wpflow.workspace import workspace

    workspaces = [workspace(project) for project in projects]
    settings = workspaces[0].settings  # the installation's: one store, one Prefect server for all
    store_url = settings.db_url
    # with PREFECT_API_URL set this machine only adds workers: the server and its database are elsewhere
    starts_server = not os.environ.get("PREFECT_API_URL")
    prefect_db = prefect_database_url(store_url, settings.prefect_database_url) if starts_server else None
    for url in (store_url, prefect_db):
        if url:
            ensure_database(url)
    engine = make_engine(store_url)
    try:
        upgrade(engine)  # the workers find the store at the newest schema
    finally:
        engine.dispose()
    stop = threading.Event()
    # until the workers run, SIGINT and SIGTERM interrupt the start-up at once (also when SIGINT
    # was inherited as ignored, as by `wpflow serve … &` from a script); the `with` blocks clean up
    previous = {sig: signal.signal(sig, signal.default_int_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_topology(workspaces, workers, port, pool, watch, prefect_db, stop)
    except KeyboardInterrupt:
        log.info("stopped during start-up")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_topology(
    workspaces: list, workers: int, port: int | None, pool: str, watch: bool, prefect_db: str | None, stop
) -> None:
    settings = workspaces[0].settings
    with prefect_api(settings, port, database_url=prefect_db) as api_url:
        ensure_work_pool(pool)
        refs = [(ws.project, ws.project_ref) for ws in workspaces]
        asyncio.run(register(runner_deployments(refs, work_pool=pool)))
        ensure_zombie_automation()
        # the workers run under the settings this block runs under (`prefect_api`: the API, the home)
        env = {**os.environ, **prefect_environment(), "PREFECT_API_URL": api_url}
        env.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
        crew = Workers(pool, workers, env, (settings.outputs / "prefect" / "workers").resolve())
        reports = start_reports_server(settings.reports_root, settings.reports_port)
        partners = start_partner_pages(workspaces)
        crew.start()
        threads = [start_watcher_thread(ws.project_ref, stop) for ws in workspaces] if watch else []
        print(f"Prefect UI and API: {api_url.removesuffix('/api')}  ·  pool {pool}, {workers} worker(s)", flush=True)
        try:
            wait_for_signal(stop, crew.supervise)
        finally:
            stop.set()
            crew.stop()
            log.info("workers stopped")
            reports.stop()
            if partners is not None:
                partners.stop()
            deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS  # one grace for all the watchers
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
    log.info("stopped")


def prefect_environment() -> dict[str, str]:
    """The Prefect settings in force here, as environment variables for a child process (what
    Prefect's own runner gives the flow-run processes it starts)."""
    from prefect.settings import get_current_settings

    return get_current_settings().to_environment_variables(exclude_unset=True)


def wait_for_signal(stop: threading.Event, every_second) -> None:
    """Block until SIGINT or SIGTERM (also when SIGINT was inherited as ignored), calling
    `every_second` meanwhile; the caller puts the previous handlers back."""

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)
    while not stop.wait(SUPERVISE_SECONDS):
        every_second()


def ensure_work_pool(pool: str) -> None:
    """The process work pool, with Prefect's default job template (what `prefect work-pool
    create --type process` makes), created when missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
            return
        except ObjectNotFound:
            pass
        template = ProcessWorker.get_default_base_job_template()
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process", base_job_template=template))
            log.info("created the work pool %s", pool)
        except ObjectAlreadyExists:  # another machine's serve was quicker
            pass


def ensure_zombie_automation(within: timedelta = ZOMBIE_AFTER) -> None:
    """Prefect's documented automation for runs whose process vanished (docs: "Detect zombie
    flows"): after a heartbeat, expect another one or a final state `within`; else Crashed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    automation = AutomationCore(
        name=ZOMBIE_AUTOMATION,
        description="Marks a flow run Crashed when its heartbeats stop (its worker or machine died).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=within,
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message="No heartbeat: its worker or machine died.")],
    )
    with get_client(sync_client=True) as client:
        if not client.read_automations_by_name(ZOMBIE_AUTOMATION):
            client.create_automation(automation)
