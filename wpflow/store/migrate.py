"""Schema migrations (Alembic) for the store, run on the store's own engine — and the rule that
keeps them safe on a database several processes share.

- **SQLite** (the embedded default, one machine): `Store` brings the file to the newest schema
  when it opens it (`wpflow status` excepted: it only reads), so `make demo` and a secretariat
  upgrading wpflow never run a separate step.
- **PostgreSQL** (shared by workers, perhaps on several machines): nothing migrates by itself. A
  process whose database is at another revision than its code's head refuses to open it
  (`SchemaMismatch`, one line saying what to run; exit 2 on the command line), so a new
  version's first worker never changes the schema under the old ones and two workers starting
  together never race on DDL. The operator runs `wpflow db upgrade` once, then starts them.

Two upgrades never race: `upgrade`/`downgrade` hold a lock for their whole transaction and read
the revision only once they have it, so the second waits, finds the head and does nothing. On
PostgreSQL the lock is a transaction-level advisory lock on a fixed key (`MIGRATION_LOCK`); on
SQLite it is SQLite's own write lock, which every store transaction takes up front
(`BEGIN IMMEDIATE`, `store_base.make_engine`; a second migrator waits up to the busy timeout).
A database created before migrations existed (tables, no `alembic_version`) is stamped as the
first revision, whose tables it already has, and then upgraded normally.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
# The key of the advisory lock every migration of a wpflow store takes on PostgreSQL: b"wpflowdb"
# as a (positive) bigint, one fixed number per database, whatever the schema or the version.
MIGRATION_LOCK = int.from_bytes(b"wpflowdb", "big")
UPGRADE_HINT = "run `wpflow db upgrade` against it once (WPFLOW_DATABASE_URL or --database-url), then start again"


class SchemaMismatch(RuntimeError):
    """The database is at another schema than this code: older (`wpflow db upgrade`) or newer
    (a newer wpflow wrote it). The message is the one line a person reads."""


class Step(NamedTuple):
    """A migration command's result: the revision before and after (None: an empty database);
    equal when there was nothing to do (another process had done it)."""

    before: str | None
    after: str | None


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "wpflow/store/migrations holds no revision"
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def automatic(engine: Engine) -> bool:
    """Whether opening a store may migrate it: SQLite only (see the module's docstring)."""
    return engine.dialect.name == "sqlite"


def where(engine: Engine) -> str:
    """The database as a person may see it: its URL without the password."""
    return engine.url.render_as_string(hide_password=True)


def require_head(engine: Engine) -> None:
    """Refuse a database at another revision than the code's head (one SELECT when it is there)."""
    at, newest = current(engine), head()
    if at != newest:
        raise mismatch(engine, at, newest)


def mismatch(engine: Engine, at: str | None, newest: str) -> SchemaMismatch:
    if at is not None and at not in known():
        return SchemaMismatch(
            f"the store at {where(engine)} is at schema {at}, newer than this wpflow knows "
            f"(its newest is {newest}): this wpflow is older than the one that upgraded the database; install that one"
        )
    state = "has no schema yet" if at is None else f"is at schema {at}"
    return SchemaMismatch(f"the store at {where(engine)} {state}, older than this wpflow's {newest}: {UPGRADE_HINT}")


def known() -> set[str]:
    return {revision for revision, _ in history()}


def upgrade(engine: Engine, revision: str = "head", *, on_wait: Callable[[], None] | None = None) -> Step:
    """Migrate to `revision` under the migration lock (`on_wait` is called if another process
    holds it). Cheap when the database is already there: the lock and one SELECT."""
    with engine.begin() as conn:
        migration_lock(conn, on_wait)
        at = MigrationContext.configure(conn).get_current_revision()
        if at is not None and at not in known():
            raise mismatch(engine, at, head())  # Alembic would only say it "can't locate" it
        if at is None and inspect(conn).has_table("submissions"):
            command.stamp(alembic_config(conn), BASELINE)  # made by create_all before migrations
        if at != head() or revision != "head":
            command.upgrade(alembic_config(conn), revision)
        return Step(at, MigrationContext.configure(conn).get_current_revision())


def downgrade(engine: Engine, revision: str, *, on_wait: Callable[[], None] | None = None) -> Step:
    with engine.begin() as conn:
        migration_lock(conn, on_wait)
        at = MigrationContext.configure(conn).get_current_revision()
        command.downgrade(alembic_config(conn), revision)
        return Step(at, MigrationContext.configure(conn).get_current_revision())


def migration_lock(conn: Connection, on_wait: Callable[[], None] | None = None) -> None:
    """Hold the migration lock until `conn`'s transaction ends. PostgreSQL: the advisory lock,
    tried first so that a waiting process can say so. SQLite: the transaction already holds the
    write lock (BEGIN IMMEDIATE)."""
    if conn.dialect.name != "postgresql":
        return
    if conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}):
        return
    if on_wait is not None:
        on_wait()
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def autogenerate(engine: Engine, message: str) -> str:
    """Write the next migration from the models' difference to `engine`'s database; its path."""
    number = f"{int(head()) + 1:04d}"
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        cfg.cmd_opts = Namespace(quiet=True)  # no "Generating …" line: the caller prints the path (or JSON)
        script = command.revision(cfg, message=message, autogenerate=True, rev_id=number)
    assert isinstance(script, Script), "one revision is written"
    return str(script.path)


def history() -> list[tuple[str, str]]:
    """(revision, message) from the first to the newest."""
    script = ScriptDirectory.from_config(alembic_config())
    return [(r.revision, r.doc) for r in reversed(list(script.walk_revisions()))]
