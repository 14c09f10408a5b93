"""Schema migrations (Alembic) for the store, run on the store's own engine.

`Store` brings a database to the newest schema when it opens it, so a secretariat upgrading
wpflow never runs a separate step; `wpflow db current|upgrade|downgrade|history` do the same by hand (for
a PostgreSQL server shared by several machines, upgrade once, before the workers restart).
A database created before migrations existed (tables, no `alembic_version`) is stamped as the
first revision, whose tables it already has, and then upgraded normally.
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "wpflow/migrations holds no revision"
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate to `revision`; returns the revision the database is at afterwards. Cheap when
    the database is already there: one SELECT on `alembic_version`."""
    with engine.begin() as conn:
        at = MigrationContext.configure(conn).get_current_revision()
        if at is None and inspect(conn).has_table("submissions"):
            command.stamp(alembic_config(conn), BASELINE)  # made by create_all before migrations
        if at != head() or revision != "head":
            command.upgrade(alembic_config(conn), revision)
    return current(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
    return current(engine)


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
