"""The store's PostgreSQL restarted in the middle of a milestone run: the
stage that meets the outage retries (its task's retries), the run completes, nothing is lost
and no e-mail goes twice.

The test starts its own PostgreSQL (the server installed here, `initdb` + `pg_ctl` as the
`postgres` user, on a free port) so it can stop and start it without touching the shared one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_PROJECT
from tests.waiting import wait_for

PG_BIN = Path("/usr/lib/postgresql")
MILESTONE, AS_OF = "WP4-M3", date(2006, 7, 31)
OUTAGE_S = 3.0
pytestmark = pytest.mark.system  # its own PostgreSQL server, stopped mid-run


def pg_tool(name: str) -> str | None:
    found = sorted(PG_BIN.glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


def as_postgres(*cmd: str) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


class OwnPostgres:
    """A throwaway PostgreSQL cluster on a free loopback port, trust authentication."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.data, self.log = root / "data", root / "pg.log"
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        subprocess.run(
            as_postgres(str(pg_tool("initdb")), "-D", str(self.data), "-A", "trust", "-U", "postgres"),
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        subprocess.run(
            as_postgres(
                str(pg_tool("pg_ctl")), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start"
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            as_postgres(str(pg_tool("pg_ctl")), "-D", str(self.data), "-m", "fast", "-w", "stop"),
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    if pg_tool("initdb") is None or pg_tool("pg_ctl") is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    # not under pytest's tmp folder: the `postgres` user cannot enter root's 0700 folders
    root = Path(tempfile.mkdtemp(prefix="wpflow-own-postgres-"))
    try:
        pg = OwnPostgres(root)
        pg.start()
        try:
            yield pg
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_the_store_restarted_mid_run_the_stage_retries_and_the_run_completes_once(
    own_postgres, prefect_api, configure, monkeypatch
):
    from sqlalchemy import create_engine

    import tasks.merge
    from flows.milestone import milestone_pipeline
    from schemas.settings import Settings
    from wpflow.store import migrate
    from wpflow.workspace import workspace

    engine = create_engine(own_postgres.url)
    migrate.upgrade(engine)  # as an operator's `wpflow db upgrade` does: PostgreSQL is never migrated on open
    engine.dispose()
    outputs = configure(database_url=own_postgres.url, inbox=BUNDLED_PROJECT / "inbox", report_pdf=False).outputs
    real_merge = tasks.merge.merge_stage
    restarted = threading.Event()

    def merge_then_lose_the_database(ws, milestone, checked, as_of):
        """Merge (it reads the store), then take the database away for a few seconds: the
        next stage, the report's version in the store, meets the outage."""
        summary = real_merge(ws, milestone, checked, as_of)
        own_postgres.stop()

        def back() -> None:
            own_postgres.start()
            restarted.set()

        threading.Timer(OUTAGE_S, back).start()
        return summary

    monkeypatch.setattr(tasks.merge, "merge_stage", merge_then_lose_the_database)
    state = milestone_pipeline(MILESTONE, AS_OF, return_state=True)

    assert restarted.is_set(), "the database was not restarted during the run"
    assert state.is_completed(), state.message
    task_runs_retried(state.state_details.flow_run_id)
    ws = workspace(settings=Settings())
    assert (outputs / "reports" / "baltmet-inno" / f"{MILESTONE}.docx").is_file()
    [version] = ws.store.versions(ws.project.name, MILESTONE)
    assert version.version == 1
    [record] = ws.store.runs(ws.project.name, MILESTONE)
    assert record.status in ("completed", "incomplete")
    sent = ws.store.notifications(ws.project.name, MILESTONE)
    keys = [n.key for n in sent]
    assert sent and len(keys) == len(set(keys))
    eml = list((outputs / "outbox" / "baltmet-inno").glob("*.eml"))
    assert len(eml) == len(sent), "an e-mail went twice or one is missing"


def task_runs_retried(flow_run_id) -> list[str]:
    """Names of the run's task runs that needed more than one attempt, once there is one (task
    states travel as events: read them once they have landed)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    def retried() -> list[str]:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        return [r.name for r in runs if r.run_count > 1]

    return wait_for(retried, timeout=20, interval=0.5, what="a stage that met the outage and retried")
