"""The databases of the production topology: the store's and the Prefect server's, side by side
on one PostgreSQL server, each created when missing.

`wpflow serve --workers N` with a PostgreSQL store (`WPFLOW_DATABASE_URL=postgresql+psycopg://…/wpflow`)
gives the Prefect server its own database beside it (`wpflow_prefect`, driver asyncpg, which
Prefect's server requires) unless `WPFLOW_PREFECT_DATABASE_URL` names one. Two databases, not two
schemas: Prefect migrates its own and never sees the store's tables, and each can be backed up,
restored or moved to its own server alone.
"""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

log = logging.getLogger("orchestration.databases")

PREFECT_SUFFIX = "_prefect"


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def prefect_database_url(store_url: str, configured: str | None = None) -> str | None:
    """The Prefect server's database: `configured` when given, else beside a PostgreSQL store
    (`<store db>_prefect` on the same server, asyncpg), else None (Prefect's SQLite file)."""
    if configured:
        return configured
    if not is_postgres(store_url):
        return None
    url = make_url(store_url)
    prefect = url.set(drivername="postgresql+asyncpg", database=f"{url.database or 'wpflow'}{PREFECT_SUFFIX}")
    # asyncpg takes no libpq `options=-csearch_path…`: the Prefect database is a database of its own
    prefect = prefect.set(query={})
    return prefect.render_as_string(hide_password=False)


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database `url` names when it does not exist; True when created.

    CREATE DATABASE cannot run in a transaction: it is issued on an AUTOCOMMIT connection to
    the server's `postgres` database. Anything but PostgreSQL is left alone (SQLite creates
    its file on first use)."""
    if not is_postgres(url):
        return False
    target = make_url(url)
    name = target.database
    if not name:
        raise ValueError(f"{target.render_as_string()} names no database")
    engine = create_engine(admin_url(target), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()
    log.info("created database %s on %s", name, target.host or "localhost")
    return True


def drop_database(url: str) -> None:
    """Drop the database `url` names (tests' throwaway databases), its sessions ended first."""
    target = make_url(url)
    engine = create_engine(admin_url(target), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(target.database or "")
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        engine.dispose()


def admin_url(target: URL) -> URL:
    """The same server and user, database `postgres`, a synchronous driver (psycopg)."""
    return target.set(drivername="postgresql+psycopg", database="postgres", query={})
