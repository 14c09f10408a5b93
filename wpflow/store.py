"""The store: what wpflow has received, checked, rendered and sent, in one SQL database.

A SQLite file by default (`Settings.db_url`), PostgreSQL by URL; the same code runs on both and
the tests run every case on both. The schema is kept by Alembic migrations (`wpflow/migrations`),
applied when a store opens its database (see `wpflow.db`).

Every public method opens its own short session, so one `Store` can be shared by threads (the
engine's pool is thread-safe, sessions are not shared). Uniqueness that matters — the same bytes
twice, a notification key — is enforced by the database, not by a read-then-write in Python, so
two processes racing on the same database cannot both win.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.pool import StaticPool

from schemas.records import Issue, ReportRef, Submission, SubmissionStatus, ValidationResult
from schemas.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_CLAIM_TIMEOUT = timedelta(minutes=15)
SQLITE_BUSY_TIMEOUT_S = 30.0
# statuses that mean "this file passed validation" (superseded ones did, then a newer one came)
PASSED: frozenset[str] = frozenset({"valid", "accepted", "superseded"})

Row = TypeVar("Row", bound="Base")
T = TypeVar("T")


# -- column types ------------------------------------------------------------------------
class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the backend.

    SQLite keeps no offset and would silently store an aware local time as if it were UTC;
    converting on the way in and tagging on the way out makes both backends round-trip the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None) if dialect.name == "sqlite" else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already (that is what wpflow writes)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- tables ------------------------------------------------------------------------------
class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime()}


class SubmissionRow(Base):
    """One archived file. The unique key is what makes "the same bytes twice = one submission"
    hold even when two collectors run at once."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("project", "partner", "milestone", "sha256", name="uq_submission_bytes"),
        Index("ix_submissions_milestone", "project", "milestone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    partner: Mapped[str]
    milestone: Mapped[str]
    kind: Mapped[str | None]
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    modified_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="received")
    archive_path: Mapped[str] = mapped_column(Text)
    issues: Mapped[list[IssueRow]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="IssueRow.position"
    )


class IssueRow(Base):
    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(doc="Order the validator reported the issue in")
    file: Mapped[str] = mapped_column(Text)
    sheet: Mapped[str | None]
    row: Mapped[int | None]
    column: Mapped[str | None]
    field: Mapped[str | None]
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10))
    submission: Mapped[SubmissionRow] = relationship(back_populates="issues")


class MilestoneRunRow(Base):
    __tablename__ = "milestone_runs"
    __table_args__ = (Index("ix_runs_milestone", "project", "milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    milestone: Mapped[str]
    as_of: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    flow_run_id: Mapped[str | None]
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text, doc="Why the run failed, in one line")


class ReportRow(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("project", "milestone", "sha256", name="uq_report_bytes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    milestone: Mapped[str]
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    template_sha256: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime]


class NotificationRow(Base):
    """An e-mail wpflow decided to send. `claimed_at` set and `sent_at` NULL means a sender is
    (or was, until it crashed) working on it; the unique key is the idempotency guarantee."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_milestone", "project", "milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    project: Mapped[str]
    milestone: Mapped[str]
    recipient: Mapped[str]
    kind: Mapped[str] = mapped_column(String(20))
    report_sha: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    transport: Mapped[str | None] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(Text)


# -- what the store hands out besides the schemas' records --------------------------------
@dataclass(frozen=True)
class MilestoneRun:
    id: int
    project: str
    milestone: str
    as_of: date | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    flow_run_id: str | None
    report_sha256: str | None
    error: str | None = None


@dataclass(frozen=True)
class NotificationRecord:
    key: str
    project: str
    milestone: str
    recipient: str
    kind: str
    report_sha: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    transport: str | None
    message_id: str | None

    @property
    def sent(self) -> bool:
        return self.sent_at is not None


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
    if not memory:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        # one shared connection, or every thread would see its own empty in-memory database
        **({"poolclass": StaticPool} if memory else {}),
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite must not emit its own (deferred) BEGIN
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
    # WAL: readers (status, the watcher's checks) never wait for the writer; NORMAL syncs at
    # checkpoints instead of every commit: a commit costs ~0.05 ms instead of ~0.5 ms, and a
    # power cut can lose only the last commits, never corrupt the file (the inbox and the
    # content-addressed archive still hold every file, so a re-collect restores them).
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# -- the store ---------------------------------------------------------------------------
class Store:
    """Submissions, issues, runs, reports and notifications of every project in one database."""

    def __init__(self, url: str, *, claim_timeout: timedelta = DEFAULT_CLAIM_TIMEOUT) -> None:
        self.url = url
        self.claim_timeout = claim_timeout
        self.engine = make_engine(url)
        from wpflow import db

        db.upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.db_url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    # -- submissions -------------------------------------------------------------------
    def add_submission(self, sub: Submission) -> tuple[Submission, bool]:
        """Record an archived file. The same bytes for the same partner and milestone again
        return the stored submission and False: a re-collect never creates a second version."""
        row, created = self._insert_once(
            SubmissionRow(**sub.model_dump()),
            lambda session: session.scalar(_submission_query(sub)),
        )
        return to_submission(row), created

    def add_submissions(self, subs: Sequence[Submission]) -> list[Submission]:
        """`add_submission` for a whole collect run in two transactions instead of two per
        file; on a conflict with a concurrent collector it falls back to one file at a time."""
        if not subs:
            return []
        wanted = {(s.project, s.partner, s.milestone, s.sha256): s for s in subs}
        milestones = {(s.project, s.milestone) for s in subs}

        def stored(session: Session) -> dict[tuple[str, str, str, str], SubmissionRow]:
            rows: dict[tuple[str, str, str, str], SubmissionRow] = {}
            for project, milestone in milestones:
                for row in session.scalars(select(SubmissionRow).where(
                        SubmissionRow.project == project, SubmissionRow.milestone == milestone)):
                    rows[(row.project, row.partner, row.milestone, row.sha256)] = row
            return rows

        with self._transaction() as session:
            known = stored(session)
        new = [SubmissionRow(**s.model_dump()) for key, s in wanted.items() if key not in known]
        try:
            with self._transaction() as session:
                session.add_all(new)
        except IntegrityError:
            return [self.add_submission(s)[0] for s in subs]
        by_key = {**known, **{(r.project, r.partner, r.milestone, r.sha256): r for r in new}}
        return [to_submission(by_key[(s.project, s.partner, s.milestone, s.sha256)]) for s in subs]

    def record_result(self, sub: Submission, result: ValidationResult) -> Submission:
        """Store a file's validation result and settle versions and statuses of its siblings.

        Idempotent: a pipeline re-run validates stored files again, and recording the same
        result twice (or out of arrival order) must leave the same state.
        """
        with self._transaction() as session:
            lock_partner_milestone(session, sub)
            row = session.scalars(_submission_query(sub)).one_or_none()
            if row is None:  # validated without being collected first (a direct call)
                row = SubmissionRow(**sub.model_dump())
                session.add(row)
                session.flush()
            row.kind = result.kind or row.kind
            row.status = "valid" if result.valid else "invalid"
            # replace the issues with two statements, not by loading the old collection
            session.execute(delete(IssueRow).where(IssueRow.submission_id == row.id))
            session.add_all(issue_row(i, issue, row.id) for i, issue in enumerate(result.issues))
            session.flush()
            settle_versions(session.scalars(_siblings_query(row)).all())
            return to_submission(row)

    def issues_for(self, sub: Submission) -> list[Issue]:
        with self._transaction() as session:
            row = session.scalars(_submission_query(sub)).one_or_none()
            return [] if row is None else [to_issue(i) for i in row.issues]

    def submissions(self, project: str, milestone: str | None = None, partner: str | None = None) -> list[Submission]:
        """Stored submissions in arrival order (see `arrival_order`)."""
        query = select(SubmissionRow).where(SubmissionRow.project == project)
        if milestone is not None:
            query = query.where(SubmissionRow.milestone == milestone)
        if partner is not None:
            query = query.where(SubmissionRow.partner == partner)
        with self._transaction() as session:
            return [to_submission(r) for r in session.scalars(query.order_by(*arrival_order()))]

    def latest(self, project: str, milestone: str) -> list[Submission]:
        """Per (partner, kind): the newest submission, plus the newest valid one when the newest
        is invalid — merge uses the valid one while the status table says "invalid". Files not
        yet validated appear under kind None with status "received"."""
        newest: dict[tuple[str, str | None], Submission] = {}
        newest_valid: dict[tuple[str, str | None], Submission] = {}
        for sub in self.submissions(project, milestone):
            key = (sub.partner, sub.kind)
            newest[key] = sub
            if sub.status in ("valid", "accepted"):
                newest_valid[key] = sub
        picked: list[Submission] = []
        for key, sub in newest.items():
            picked.append(sub)
            if sub.status == "invalid" and key in newest_valid:
                picked.append(newest_valid[key])
        return picked

    # -- runs and reports --------------------------------------------------------------
    def start_run(self, project: str, milestone: str, as_of: date | None, flow_run_id: str | None = None) -> int:
        row = MilestoneRunRow(
            project=project, milestone=milestone, as_of=as_of, started_at=utcnow(),
            status="running", flow_run_id=flow_run_id,
        )
        with self._transaction() as session:
            session.add(row)
        return row.id

    def finish_run(self, run_id: int, status: str, report: ReportRef | None = None, error: str | None = None) -> None:
        with self._transaction() as session:
            row = session.get_one(MilestoneRunRow, run_id)
            row.status = status
            row.finished_at = utcnow()
            row.report_sha256 = report.sha256 if report else None
            row.error = error

    def runs(self, project: str, milestone: str | None = None) -> list[MilestoneRun]:
        query = select(MilestoneRunRow).where(MilestoneRunRow.project == project)
        if milestone is not None:
            query = query.where(MilestoneRunRow.milestone == milestone)
        with self._transaction() as session:
            return [to_record(MilestoneRun, r) for r in session.scalars(query.order_by(MilestoneRunRow.id))]

    def record_report(self, project: str, ref: ReportRef) -> ReportRef:
        """Remember a rendered report; the same bytes rendered again are recorded once."""
        row = ReportRow(project=project, milestone=ref.milestone_id, **ref.model_dump(exclude={"milestone_id"}))
        stored, _ = self._insert_once(
            row,
            lambda session: session.scalar(select(ReportRow).where(
                ReportRow.project == project, ReportRow.milestone == ref.milestone_id, ReportRow.sha256 == ref.sha256,
            )),
        )
        return to_report(stored)

    def reports(self, project: str, milestone: str | None = None) -> list[ReportRef]:
        query = select(ReportRow).where(ReportRow.project == project)
        if milestone is not None:
            query = query.where(ReportRow.milestone == milestone)
        with self._transaction() as session:
            return [to_report(r) for r in session.scalars(query.order_by(ReportRow.id))]

    # -- notifications -----------------------------------------------------------------
    def claim_notification(
        self, key: str, *, project: str, milestone: str, recipient: str, kind: str, report_sha: str | None = None,
    ) -> bool:
        """True if this caller may send the e-mail for `key` now.

        First claim: insert the row (the unique key lets exactly one racer succeed). Later: take
        over an unsent claim only if it was released or is older than `claim_timeout` (its sender
        crashed) — one conditional UPDATE, so two takers cannot both get rowcount 1.
        """
        row = NotificationRow(
            key=key, project=project, milestone=milestone, recipient=recipient, kind=kind,
            report_sha=report_sha, claimed_at=utcnow(),
        )
        try:
            with self._transaction() as session:
                session.add(row)
            return True
        except IntegrityError:
            pass
        stale = utcnow() - self.claim_timeout
        takeover = (
            update(NotificationRow)
            .where(NotificationRow.key == key, NotificationRow.sent_at.is_(None))
            .where((NotificationRow.claimed_at.is_(None)) | (NotificationRow.claimed_at < stale))
            .values(claimed_at=utcnow())
        )
        with self._transaction() as session:
            return session.execute(takeover).rowcount == 1

    def release_notification(self, key: str) -> None:
        """Give up a claim after a failed send so a retry may claim it at once."""
        with self._transaction() as session:
            session.execute(
                update(NotificationRow)
                .where(NotificationRow.key == key, NotificationRow.sent_at.is_(None))
                .values(claimed_at=None)
            )

    def mark_sent(self, key: str, transport: str, message_id: str | None) -> None:
        with self._transaction() as session:
            row = session.scalars(select(NotificationRow).where(NotificationRow.key == key)).one()
            row.sent_at = utcnow()
            row.transport = transport
            row.message_id = message_id

    def was_sent(self, key: str) -> bool:
        with self._transaction() as session:
            sent_at = session.scalar(select(NotificationRow.sent_at).where(NotificationRow.key == key))
            return sent_at is not None

    def notifications(
        self, project: str, milestone: str | None = None, *, include_unsent: bool = False,
    ) -> list[NotificationRecord]:
        """Sent notifications (and, on request, claims not or not yet sent), oldest first.

        Unsent claims are left out by default: "was this report already sent to someone?"
        must not count a send that failed.
        """
        query = select(NotificationRow).where(NotificationRow.project == project)
        if milestone is not None:
            query = query.where(NotificationRow.milestone == milestone)
        if not include_unsent:
            query = query.where(NotificationRow.sent_at.is_not(None))
        with self._transaction() as session:
            return [to_record(NotificationRecord, r) for r in session.scalars(query.order_by(NotificationRow.id))]


# -- queries and the versioning rule -------------------------------------------------------
def lock_partner_milestone(session: Session, sub: Submission) -> None:
    """Serialise result recording per partner and milestone on PostgreSQL (SQLite's BEGIN
    IMMEDIATE already serialises every writer). Locking the whole group, not just the rows of
    one kind, matters: a concurrent transaction may be moving another file into this kind."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(
        select(SubmissionRow.id)
        .where(
            SubmissionRow.project == sub.project,
            SubmissionRow.partner == sub.partner,
            SubmissionRow.milestone == sub.milestone,
        )
        .with_for_update()
    )


def _submission_query(sub: Submission):
    return select(SubmissionRow).where(
        SubmissionRow.project == sub.project,
        SubmissionRow.partner == sub.partner,
        SubmissionRow.milestone == sub.milestone,
        SubmissionRow.sha256 == sub.sha256,
    )


def _siblings_query(row: SubmissionRow):
    """Every submission competing with `row`: same project, partner, milestone and kind."""
    kind = SubmissionRow.kind.is_(None) if row.kind is None else SubmissionRow.kind == row.kind
    return (
        select(SubmissionRow)
        .where(
            SubmissionRow.project == row.project,
            SubmissionRow.partner == row.partner,
            SubmissionRow.milestone == row.milestone,
            kind,
        )
        .order_by(*arrival_order())
    )


def arrival_order() -> tuple[Any, ...]:
    """Earlier = the partner delivered it earlier (file time), then archived earlier, then
    inserted earlier. File time comes first because one collect run archives a backlog at
    once, and a rehearsal of 2005–2007 replays arrival dates that only the file time holds."""
    return (SubmissionRow.modified_at, SubmissionRow.received_at, SubmissionRow.id)


def settle_versions(siblings: Sequence[SubmissionRow]) -> None:
    """Number siblings 1, 2, … in arrival order; the newest file that passed validation stays
    valid (or accepted) and every earlier one that passed becomes superseded. An invalid newer
    file supersedes nothing: the last valid one stays usable. Files not yet validated keep
    their status. A pure function of the set, so the order results are recorded in is moot."""
    passed = [row for row in siblings if row.status in PASSED]
    current = passed[-1] if passed else None
    for number, row in enumerate(siblings, start=1):
        row.version = number
        if row.status in PASSED:
            row.status = settled_status(row.status, is_current=row is current)


def settled_status(status: str, *, is_current: bool) -> SubmissionStatus:
    if not is_current:
        return "superseded"
    return "accepted" if status == "accepted" else "valid"


# -- rows <-> records ------------------------------------------------------------------
def to_submission(row: SubmissionRow) -> Submission:
    return Submission(**{name: getattr(row, name) for name in Submission.model_fields})


def issue_row(position: int, issue: Issue, submission_id: int) -> IssueRow:
    return IssueRow(position=position, submission_id=submission_id, **issue.model_dump())


def to_issue(row: IssueRow) -> Issue:
    return Issue(**{name: getattr(row, name) for name in Issue.model_fields})


def to_report(row: ReportRow) -> ReportRef:
    fields = {name: getattr(row, name) for name, f in ReportRef.model_fields.items()
              if name != "milestone_id" and not f.exclude}  # excluded fields (pdf_path) are not stored
    return ReportRef(milestone_id=row.milestone, **fields)


def to_record(cls: Callable[..., T], row: Base) -> T:
    """Copy a row's columns into a frozen record with the same field names."""
    return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})  # type: ignore[attr-defined]
