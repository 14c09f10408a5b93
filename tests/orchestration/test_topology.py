"""The production topology end to end: `wpflow serve --workers 2` — a Prefect server on
PostgreSQL (a database of its own), a process work pool, two `prefect worker` processes and the
store on the same PostgreSQL server — running milestone pipelines of two projects through
`run_deployment`, and surviving a worker killed with SIGKILL in the middle of a run.

Select them with `-m topology`. Each test makes its own two throwaway databases and drops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from orchestration.databases import drop_database, prefect_database_url
from orchestration.prefect_server import alive, descendants, free_port
from schemas.settings import ROOT, Settings
from tests.conftest import BUNDLED_PROJECT, POSTGRES_URL, SmtpSink, running_smtp
from tests.orchestration.run_states import ran_to_the_end
from tests.waiting import wait_for
from wpflow.store.orm import MilestoneRunRow, NotificationRow

pytestmark = [pytest.mark.topology, pytest.mark.postgres, pytest.mark.prefect_server, pytest.mark.system]

AS_OF = date(2008, 1, 31)
BUNDLED_REF = "projects/baltmet-inno"
UP_TIMEOUT = 180  # a fresh Prefect database migrates at start: ~25 s alone, more beside other tests


@dataclass
class Topology:
    """A running `wpflow serve --workers 2` and what a test needs to talk to it."""

    process: subprocess.Popen
    api: str
    outputs: Path
    store_url: str
    log: Path
    env: dict[str, str] = field(repr=False)

    def log_tail(self, n: int = 4000) -> str:
        text = self.log.read_text(errors="replace")[-n:]
        workers = self.outputs / "prefect" / "workers"
        for worker_log in sorted(workers.glob("*.log")) if workers.is_dir() else []:
            text += f"\n--- {worker_log.name}\n" + worker_log.read_text(errors="replace")[-n:]
        return text

    def stop(self) -> float:
        """SIGINT, as Ctrl-C: seconds until the command and every process below it are gone."""
        below = descendants(self.process.pid)
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)
        wait_for(
            lambda: [p for p in below if alive(p)],
            until=lambda left: not left,
            timeout=10,
            interval=0.1,
            what="the processes below serve to exit (left behind otherwise)",
            details=self.log_tail,
        )
        return time.monotonic() - started


def other_project(folder: Path, name: str, milestones: list[str] | None = None) -> Path:
    """BaltMet Inno's definition under another name in a folder of its own, with a copy of the
    bundled inbox (only `milestones`' folders when given): a second project is another folder."""
    folder.mkdir(parents=True)
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    assert "\nname: BaltMet Inno\n" in text
    (folder / "project.yaml").write_text(text.replace("\nname: BaltMet Inno\n", f"\nname: {name}\n"), encoding="utf-8")
    source = BUNDLED_PROJECT / "inbox"

    def left_out(directory: str, names: list[str]) -> list[str]:
        """In a partner's folder (inbox/<partner>/), the milestone folders not asked for."""
        if milestones is None or Path(directory).parent != source:
            return []
        return [n for n in names if n not in milestones]

    shutil.copytree(source, folder / "inbox", ignore=left_out)
    return folder


@pytest.fixture
def databases() -> Iterator[str]:
    """A throwaway store database on the shared PostgreSQL server; the Prefect server's goes beside
    it (`<name>_prefect`). Both dropped afterwards."""
    store_url = make_url(POSTGRES_URL).set(database=f"wpflow_t_{uuid.uuid4().hex[:10]}", query={})
    url = store_url.render_as_string(hide_password=False)
    try:
        yield url
    finally:
        for each in (url, prefect_database_url(url)):
            assert each is not None
            drop_database(each)


@pytest.fixture
def start_topology(tmp_path: Path, databases: str):
    """Start `wpflow serve --workers 2` with `extra` settings; stopped (and killed if it must be)
    at the end."""
    started: list[Topology] = []

    def start(**extra: str) -> Topology:
        port, outputs, log = free_port(), tmp_path / "outputs", tmp_path / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
        env.update(
            PREFECT_HOME=str(tmp_path / "prefect-home"),
            PREFECT_WORKER_QUERY_SECONDS="1",  # pick runs up at once (default 10 s)
            WPFLOW_DATABASE_URL=databases,
            WPFLOW_OUTPUTS=str(outputs),
            WPFLOW_REPORTS_PORT=str(free_port()),
            **extra,
        )
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "wpflow", "serve", "--workers", "2", "--no-watch", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        topology = Topology(process, f"http://127.0.0.1:{port}/api", outputs, databases, log, env)
        started.append(topology)
        return topology

    yield start
    for topology in started:
        if topology.process.poll() is None:
            for pid in [topology.process.pid, *descendants(topology.process.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            topology.process.wait(10)


def wait_until_up(topology: Topology) -> None:
    def up() -> bool:
        assert topology.process.poll() is None, "serve exited:\n" + topology.log_tail()
        return "Prefect UI and API:" in topology.log.read_text(errors="replace")

    wait_for(up, timeout=UP_TIMEOUT, interval=0.5, what="serve up", details=topology.log_tail)


def submit(topology: Topology, runs: list[tuple[str, str]]) -> list:
    """run_deployment(…, timeout=0) for each (project value, milestone): the runs' ids."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: topology.api}):
        return [
            run_deployment(
                f"milestone-pipeline/baltmet-inno-{milestone.lower()}",  # the parameter names the project
                parameters={"milestone_id": milestone, "as_of": AS_OF.isoformat(), "project": project},
                timeout=0,
            ).id
            for project, milestone in runs
        ]


def wait_for_final(topology: Topology, ids: list, timeout: float) -> list:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: topology.api}), get_client(sync_client=True) as client:
        return wait_for(
            lambda: [client.read_flow_run(i) for i in ids],
            until=lambda runs: all(r.state is not None and r.state.is_final() for r in runs),
            timeout=timeout,
            interval=1,
            what="the runs to be final",
            details=topology.log_tail,
        )


def rows(url: str, table, *where) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(table).where(*where)))
    finally:
        engine.dispose()


def reference_notifications(tmp_path: Path, runs: list[tuple[Path, str]]) -> set[tuple[str, str, str, str, str]]:
    """The same milestones run directly, without Prefect, into a SQLite store of their own: the
    e-mails the topology must have recorded, no more, no fewer."""
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import workspace

    reference = tmp_path / "reference"
    for folder, milestone in runs:
        ws = workspace(settings=Settings(project=folder, outputs=reference, _env_file=None))
        run_direct(ws, milestone, AS_OF)
    return {
        (r.key, r.project, r.milestone, r.recipient, r.kind)
        for r in rows(f"sqlite:///{reference / 'wpflow.db'}", NotificationRow)
    }


def test_two_projects_run_on_two_workers_against_postgres(start_topology, tmp_path):
    """Ten milestone pipelines of two projects through run_deployment on a server on PostgreSQL
    and two workers: all complete, every report exists, the store holds exactly the e-mails the
    same runs make without Prefect, each sent once; Ctrl-C stops everything within seconds."""
    other = other_project(tmp_path / "other-inno", "Other Inno")
    # disjoint milestones: the two projects share the outputs folder, where reports are named by milestone
    plan = [(BUNDLED_PROJECT, m) for m in ("WP1-M1", "WP2-M1", "WP3-M1", "WP1-M2", "WP2-M2")] + [
        (other, m) for m in ("WP4-M1", "WP4-M3", "WP5-M3", "WP3-M2", "WP4-M2")
    ]
    topology = start_topology()
    expected = reference_notifications(tmp_path, plan)  # while the topology starts
    wait_until_up(topology)

    ids = submit(topology, [(BUNDLED_REF if f == BUNDLED_PROJECT else str(f), m) for f, m in plan])
    runs = wait_for_final(topology, ids, timeout=240)

    assert [ran_to_the_end(r.state) for r in runs] == [True] * 10, [(r.name, r.state.message) for r in runs]
    assert [r.name.split(" · ")[1] for r in runs] == [m for _, m in plan]  # "<slug> · <milestone> · due …"
    assert {r.work_queue_name for r in runs} == {"default"} and len({r.work_pool_name for r in runs}) == 1
    store_runs = rows(topology.store_url, MilestoneRunRow)
    assert sorted((r.project, r.milestone) for r in store_runs) == sorted(
        ("BaltMet Inno" if f == BUNDLED_PROJECT else "Other Inno", m) for f, m in plan
    )
    assert {r.status for r in store_runs} <= {"completed", "incomplete"}
    assert {r.flow_run_id for r in store_runs} == {str(i) for i in ids}
    with_report = {r.milestone for r in store_runs if r.report_version is not None}
    assert with_report == {"WP1-M1", "WP2-M1", "WP3-M1", "WP4-M1", "WP4-M3", "WP5-M3"}
    for folder, milestone in plan:
        if milestone in with_report:
            reports = topology.outputs / "reports" / folder.name  # a project's reports under its slug
            assert (reports / f"{milestone}.docx").is_file(), milestone
            assert (reports / "history" / f"{milestone}.v1.docx").is_file(), milestone

    stored = rows(topology.store_url, NotificationRow)
    assert {(r.key, r.project, r.milestone, r.recipient, r.kind) for r in stored} == expected
    assert len(stored) == len(expected) and all(r.sent_at is not None for r in stored)
    assert {r.kind for r in stored} == {"report", "receipt", "empty"}
    assert {r.project for r in stored} == {"BaltMet Inno", "Other Inno"}
    assert len(list((topology.outputs / "outbox").glob("*/*.eml"))) == len(stored)

    assert topology.stop() < 20, topology.log_tail()
    assert topology.process.returncode == 0, topology.log_tail()


class HoldingSink(SmtpSink):
    """An SMTP server that holds the first report e-mail (the one with the DOCX) unanswered until
    released, then refuses it (451): the message was never accepted, so it was never delivered."""

    def __init__(self) -> None:
        super().__init__(host="127.0.0.1", port=0)
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        is_report = any((a.get_filename() or "").endswith(".docx") for a in message.iter_attachments())
        if is_report and not self.held:
            self.held.append(message)
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        return await super().handle_DATA(server, session, envelope)


def parent_of(pid: int) -> int:
    text = Path(f"/proc/{pid}/stat").read_text()
    return int(text[text.rindex(")") + 2 :].split()[1])


def test_a_worker_killed_mid_run_crashes_the_run_and_a_rerun_sends_every_email_once(start_topology, tmp_path):
    """SIGKILL to the worker running WP4-M3 (and to the run's process, as when its machine dies)
    while the run sends its report e-mails: the run is Crashed in Prefect and in the store, the
    worker is started again, the re-run completes and no e-mail goes twice — the interrupted one
    goes once, with the Message-ID recorded before the first attempt."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    folder = other_project(tmp_path / "fault-inno", "Fault Inno", milestones=["WP4-M3"])
    sink = HoldingSink()
    with running_smtp(sink) as smtp_port:
        topology = start_topology(
            WPFLOW_MAIL_TRANSPORT="smtp",
            WPFLOW_SMTP_HOST="127.0.0.1",
            WPFLOW_SMTP_PORT=str(smtp_port),
            WPFLOW_SMTP_TIMEOUT="120",
        )
        wait_until_up(topology)
        [first] = submit(topology, [(str(folder), "WP4-M3")])
        assert sink.holding.wait(150), "no report e-mail was sent:\n" + topology.log_tail()

        [running] = rows(topology.store_url, MilestoneRunRow, MilestoneRunRow.finished_at.is_(None))
        assert running.flow_run_id == str(first)
        run_pid = int(running.owner.rsplit("|", 2)[1])
        worker_pid = parent_of(run_pid)
        assert "prefect" in Path(f"/proc/{worker_pid}/cmdline").read_text().replace("\0", " ")
        os.kill(worker_pid, signal.SIGKILL)  # the worker …
        os.killpg(run_pid, signal.SIGKILL)  # … and the run it started (its own session): a machine gone
        sink.release.set()
        wait_for(
            lambda: "starting it again" in topology.log.read_text(errors="replace"),
            timeout=30,
            interval=0.5,
            what="the killed worker to be started again",
            details=topology.log_tail,
        )
        receipts_before = len(sink.messages)

        [second] = submit(topology, [(str(folder), "WP4-M3")])
        [killed, rerun] = wait_for_final(topology, [first, second], timeout=150)

    assert ran_to_the_end(rerun.state), rerun.state
    assert killed.state.is_crashed(), killed.state
    assert "died before the run ended" in (killed.state.message or "")
    records = {r.flow_run_id: r for r in rows(topology.store_url, MilestoneRunRow)}
    assert records[str(first)].status == "crashed" and "died" in records[str(first)].error
    assert records[str(second)].status == "incomplete"

    delivered = sink.messages
    stored = rows(topology.store_url, NotificationRow)
    assert all(r.sent_at is not None for r in stored)
    # every e-mail the store records was delivered exactly once, and nothing else was
    assert sorted(m["Message-ID"] for m in delivered) == sorted(r.message_id for r in stored)
    assert len({m["Message-ID"] for m in delivered}) == len(delivered)
    # the interrupted report e-mail went once, after the crash, under the Message-ID claimed before it
    [held] = sink.held
    assert [m["Message-ID"] for m in delivered[receipts_before:]].count(held["Message-ID"]) == 1
    assert {r.kind for r in stored} == {"receipt", "report"}
    with temporary_settings({PREFECT_API_URL: topology.api}), get_client(sync_client=True) as client:
        assert client.read_flow_run(first).state.is_crashed()
    assert topology.stop() < 20
