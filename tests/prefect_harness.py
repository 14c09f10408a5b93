"""The Prefect side of the test harness (tests/conftest.py holds its fixtures and hooks): a
migrated Prefect database kept in pytest's cache, a test server started on a copy of it, and
the drain of the client's queued logs and events."""

from __future__ import annotations

import inspect
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest


def migrated_prefect_database(config: pytest.Config) -> Path:
    """An empty Prefect database at this Prefect's head revision, made once and kept in
    pytest's cache (per Prefect version; one xdist worker makes it while the other waits). A
    server started on a copy (`copy_prefect_database`) skips migrating a fresh database: ~7 of
    the ~12 CPU-seconds a start costs, 10-20 s on this machine."""
    import fcntl
    import subprocess
    import sys

    import prefect

    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    name = f"prefect-db-{prefect.__version__}"
    folder = cache.mkdir(name) if cache is not None else Path(tempfile.gettempdir()) / f"wpflow-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "prefect.db"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            partial = folder / "partial.db"
            partial.unlink(missing_ok=True)
            env = {**os.environ, "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{partial}"}
            command = [sys.executable, "-m", "prefect", "server", "database", "upgrade", "--yes"]
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
            partial.rename(template)
    return template


def copy_prefect_database(template: Path, target: Path) -> Path:
    """A copy of `prefect_database` at `target` (SQLite's backup: consistent, whatever journal)."""
    import sqlite3
    from contextlib import closing

    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return target


def start_prefect_test_server(config: pytest.Config, folder: Path) -> Any:
    """Prefect's API under uvicorn (the server `prefect_test_harness` starts) on a copy of the
    migrated database in `folder`, served as `wpflow run` serves it (`orchestration.ephemeral_api`: SQLite
    lock conflicts replayed in the server), but not tied to the thread that starts it, which
    ends before the tests do."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import (
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED,
        PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED,
        temporary_settings,
    )

    from orchestration.ephemeral_api import tie_ephemeral_server
    from orchestration.prefect_server import free_port

    database = copy_prefect_database(migrated_prefect_database(config), folder / "prefect.db")
    # as `wpflow run`'s ephemeral API (cli_common.prepare_prefect): no automation acts on these
    # tests' runs and no UI streams their events, and both services would consume every event
    quiet = {PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED: False, PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED: False}
    with temporary_settings({PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{database}", **quiet}):
        tie_ephemeral_server(tied=False)
        server = SubprocessASGIServer(port=free_port())
        server.start(timeout=120)
    return server


def drain_prefect_workers() -> None:
    """Send the logs and events still queued to the server before the test's settings go (as
    `prefect_test_harness` does on exit): none reach the next test or a server that has gone."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        try:
            result = APILogWorker.instance().drain()
            if inspect.isawaitable(result):
                await result
        except RuntimeError:  # never started
            pass
        result = EventsWorker.drain_all()
        if inspect.isawaitable(result):
            await result

    run_coro_as_sync(drain())
