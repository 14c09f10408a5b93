"""The store's engine and sessions: SQLite by default, PostgreSQL by URL.

`StoreBase` owns the engine and the two primitives every query module builds on: one short
transaction per call, and a race-safe insert-once. The store's public methods are split by what
they keep (`wpflow.store.store`: submissions and runs; `wpflow.store.issued`: report versions, claims and
e-mails) and combined into `wpflow.store.store.Store`.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from wpflow.files import WriteFailed
from wpflow.store import migrate as migration
from wpflow.store.orm import Base

DEFAULT_CLAIM_TIMEOUT = timedelta(minutes=15)
SQLITE_BUSY_TIMEOUT_S = 30.0

Row = TypeVar("Row", bound=Base)

log = logging.getLogger(__name__)


# -- engine ------------------------------------------------------------------------------
def make_engine(url: str) -> Engine:
    """An engine for a SQLite file, in-memory SQLite or PostgreSQL URL.

    SQLite gets SQLAlchemy's documented "emit our own BEGIN" recipe, with BEGIN IMMEDIATE: every
    transaction takes the write lock up front, so a read-then-write (versioning, superseding)
    cannot interleave with another writer and nobody fails with "database is locked" halfway —
    they wait for the busy timeout instead. wpflow's write volume is a few rows per file.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    memory = parsed.database in (None, "", ":memory:")
    if not memory and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        # one shared connection, or every thread would see its own empty in-memory database
        **({"poolclass": StaticPool} if memory else {}),
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    if not memory and parsed.database:
        event.listen(engine, "handle_error", _sqlite_write_failed(Path(parsed.database)))
    return engine


SQLITE_REFUSED_WRITES = {"SQLITE_FULL": errno.ENOSPC, "SQLITE_READONLY": errno.EACCES}


def _sqlite_write_failed(database: Path) -> Callable[[Any], None]:
    """SQLite says "database or disk is full" or "unable to open database file" and names no
    file: raised instead as a failed write of the store's file (`WriteFailed`), so the command's
    one line names the folder that has no room left (or refuses writes)."""

    def handle_error(context: Any) -> None:
        orig = context.original_exception
        name = getattr(orig, "sqlite_errorname", "")  # SQLITE_FULL, SQLITE_READONLY_DBMOVED, …
        code = SQLITE_REFUSED_WRITES.get("_".join(name.split("_")[:2]))
        folder = database.parent
        if name.startswith("SQLITE_CANTOPEN") and folder.is_dir() and not os.access(folder, os.W_OK):
            code = errno.EACCES
        if code == errno.EACCES and folder.is_dir() and os.statvfs(folder).f_flag & os.ST_RDONLY:
            code = errno.EROFS
        if code is not None:
            raise WriteFailed(code, os.strerror(code), str(database), "the store") from orig

    return handle_error


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite must not emit its own (deferred) BEGIN
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
    # WAL: readers (status, the watcher's checks) never wait for the writer; NORMAL syncs at
    # checkpoints instead of every commit: a commit costs ~0.05 ms instead of ~0.5 ms, and a
    # power cut can lose only the last commits, never corrupt the file (the inbox and the
    # content-addressed archive still hold every file, so a re-collect restores them).
    try:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        # "database is locked": another connection holds the file (a first migration, measured in
        # the two-upgrades test) and switching the journal needs it alone. That connection sets
        # WAL itself on connect, and the file keeps the mode, so this one goes on without.
        log.debug("journal_mode=WAL not set on this connection: the database is locked")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class StoreBase:
    """The engine, at the code's schema, and short sessions shared safely by threads."""

    def __init__(self, url: str, *, claim_timeout: timedelta = DEFAULT_CLAIM_TIMEOUT, migrate: bool = True) -> None:
        """`migrate`: bring a SQLite store to the newest schema (off for readers, `wpflow
        status`: reading must not need write access). A PostgreSQL store is never migrated on
        open; one at another schema is refused (`db.SchemaMismatch`: `wpflow db upgrade`)."""
        self.url = url
        self.claim_timeout = claim_timeout
        self.engine = make_engine(url)
        try:
            if migrate and migration.automatic(self.engine):
                migration.upgrade(self.engine)
            else:
                migration.require_head(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:  # never show a password that may be part of the URL
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One session, one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def _insert_once(self, row: Row, existing: Callable[[Session], Row | None]) -> tuple[Row, bool]:
        """Insert `row` unless the unique key it carries is already taken; return the stored row
        and whether it is new. Race-safe: a concurrent insert shows up as IntegrityError (in its
        own, already rolled back transaction on PostgreSQL) and the winner's row is re-read."""
        with self._transaction() as session:
            found = existing(session)
            if found is not None:
                return found, False
        try:
            with self._transaction() as session:
                session.add(row)
            return row, True
        except IntegrityError:
            with self._transaction() as session:
                found = existing(session)
            if found is None:  # the conflict was on something else: do not hide it
                raise
            return found, False
