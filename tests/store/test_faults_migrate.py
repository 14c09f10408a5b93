"""A shared PostgreSQL store and a new wpflow version, with real processes: workers
started against a database one revision behind refuse with the line that says what to run and
run once `wpflow db upgrade` has; two upgrades at once wait for each other's advisory lock and
exactly one changes the schema. Revisions come from the migration scripts, never typed here."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT, ROOT
from tests.settings_env import child_env
from tests.waiting import wait_for
from wpflow.store import migrate
from wpflow.store.engine import make_engine
from wpflow.store.store import Store

# the conftest's per-test PostgreSQL schema only: SQLite migrates itself when opened
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.system,  # worker processes upgrading one database at once
    pytest.mark.parametrize("empty_db_url", ["postgres"], indirect=True),
]
WPFLOW = str(Path(sys.executable).parent / "wpflow")
WORKERS = ["WP4-M3", "WP3-M1"]  # one milestone each, run before they are due: a draft, nothing sent
EARLY = "2005-01-01"


@pytest.fixture
def behind(empty_db_url: str) -> Iterator[str]:
    """A PostgreSQL store one revision behind the code's head, named for `pg_stat_activity`."""
    url = f"{empty_db_url}&application_name=wpflow-test-{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    migrate.upgrade(engine, migrate.history()[-2][0])
    engine.dispose()
    yield url


def env(outputs: Path, url: str) -> dict[str, str]:
    """The environment of a `wpflow` command on the store at `url`."""
    return child_env(Settings(project=BUNDLED_PROJECT, outputs=outputs, database_url=url, _env_file=None))


def start(args: list[str], environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [WPFLOW, *args], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out, err


def versions(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    engine.dispose()
    return rows


def test_two_workers_one_revision_behind_refuse_with_the_message_and_run_after_db_upgrade(behind, tmp_path):
    previous, head = migrate.history()[-2][0], migrate.head()
    environment = env(tmp_path / "outputs", behind)
    workers = [start(["run", m, "--direct", "--as-of", EARLY], environment) for m in WORKERS]
    where = migrate.where(make_engine(behind))
    for code, out, err in map(finish, workers):
        assert (code, out) == (2, ""), err
        [line] = err.splitlines()
        assert line.startswith(
            f"error: the store at {where} is at schema {previous}, older than this wpflow's {head}: "
        )
        assert "run `wpflow db upgrade` against it once (WPFLOW_DATABASE_URL or --database-url)" in line
    assert versions(behind) == [previous], "a refusing worker changes nothing"

    code, out, err = finish(start(["db", "upgrade"], environment))
    assert (code, out.strip()) == (0, f"{where}: {previous} → {head}"), err

    workers = [start(["run", m, "--direct", "--as-of", EARLY], environment) for m in WORKERS]
    for milestone, (code, out, err) in zip(WORKERS, map(finish, workers)):
        assert code == 0 and out.startswith(f"{milestone}: not due until "), err
    with Store(behind) as store:
        runs = store.runs("BaltMet Inno")
    assert sorted((r.milestone, r.status) for r in runs) == sorted((m, "completed") for m in WORKERS)


def waiting_for_the_migration_lock(url: str, application: str) -> int:
    """How many connections of `application` wait for wpflow's advisory lock (a bigint key is
    split into classid, the high 32 bits, and objid, the low ones)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = :app "
                "AND l.classid::bigint = :high AND l.objid::bigint = :low"
            ),
            {"app": application, "high": migrate.MIGRATION_LOCK >> 32, "low": migrate.MIGRATION_LOCK & 0xFFFFFFFF},
        )
    engine.dispose()
    return int(count or 0)


def test_two_upgrades_at_once_wait_for_the_advisory_lock_and_exactly_one_changes_the_schema(behind, tmp_path):
    previous, head = migrate.history()[-2][0], migrate.head()
    application = behind.rsplit("application_name=", 1)[1]
    holder = make_engine(behind)
    with holder.connect() as conn:  # the test holds the lock: both upgrades must start, then wait
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate.MIGRATION_LOCK})
        upgrades = [start(["db", "upgrade"], env(tmp_path / f"outputs{i}", behind)) for i in (1, 2)]

        def waiting() -> int:
            assert all(p.poll() is None for p in upgrades), "an upgrade did not wait for the lock"
            return waiting_for_the_migration_lock(behind, application)

        wait_for(waiting, until=lambda n: n >= 2, timeout=120, interval=0.2, what="both upgrades waiting for the lock")
        assert versions(behind) == [previous]
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": migrate.MIGRATION_LOCK})
    holder.dispose()
    results = [finish(p) for p in upgrades]
    assert [code for code, _, _ in results] == [0, 0], results
    where = migrate.where(make_engine(behind))
    assert sorted(out.strip() for _, out, _ in results) == sorted(
        [f"{where}: {previous} → {head}", f"{where}: at {head} already, nothing to do"]
    )
    assert all("waiting for it" in err for _, _, err in results)
    assert versions(behind) == [head]
