"""The store's tables (SQLAlchemy ORM) and the plain records it hands out besides the schemas'.

One declarative `Base` for every table; Alembic migrations (`wpflow/store/migrations`) keep databases
in step with these classes (`wpflow db revision` writes the next one from the difference).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar

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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


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
    status: Mapped[str] = mapped_column(
        String(20), default="running", doc="running, completed, incomplete, failed, crashed, cancelled"
    )
    flow_run_id: Mapped[str | None]
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text, doc="Why the run failed, in one line")
    report_version: Mapped[int | None] = mapped_column(doc="The report version in force after the run")
    outcome: Mapped[str | None] = mapped_column(Text, doc="What the run did, in one line")
    owner: Mapped[str | None] = mapped_column(
        String(200), doc="The process running it: host|boot|pid|start (wpflow.store.claim_owner)"
    )


class NotificationRow(Base):
    """An e-mail wpflow decided to send. `claimed_at` set and `sent_at` NULL means a sender is
    (or was, until it crashed) working on it; the unique key is the idempotency guarantee.
    What the e-mail is about has a column per kind: a report version, a received file's hash,
    a ladder rung."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_milestone", "project", "milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    project: Mapped[str]
    milestone: Mapped[str]
    recipient: Mapped[str]
    kind: Mapped[str] = mapped_column(String(20), doc="report, empty, receipt, reminder, notice, escalation")
    report_version: Mapped[int | None] = mapped_column(doc="For kind report: the version sent")
    fingerprint: Mapped[str | None] = mapped_column(String(64), doc="For report and empty: the content sent")
    submission_sha256: Mapped[str | None] = mapped_column(String(64), doc="For kind receipt: the file")
    rung: Mapped[str | None] = mapped_column(String(20), doc="For ladder notices: T-14, T+1, …")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    transport: Mapped[str | None] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(Text, doc="Recorded when claimed, before the send")
    owner: Mapped[str | None] = mapped_column(
        String(200), doc="The process sending it: host|boot|pid|start (wpflow.store.claim_owner)"
    )


class ReportVersionRow(Base):
    """One issued version of a milestone report. The version number is unique per milestone:
    two racing runs cannot issue v2 twice. A content (fingerprint) is a new version when it
    differs from the newest one, so an earlier content may come back as a later number."""

    __tablename__ = "report_versions"
    __table_args__ = (
        Index("ix_version_content", "project", "milestone", "fingerprint"),
        UniqueConstraint("project", "milestone", "version", name="uq_version_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    milestone: Mapped[str]
    version: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), doc="complete / incomplete")
    as_of: Mapped[date] = mapped_column(Date)
    contents: Mapped[str] = mapped_column(Text, doc="VersionContents as JSON: states and totals")
    issued_at: Mapped[datetime]
    path: Mapped[str | None] = mapped_column(Text, doc="The version's DOCX under reports/history/")
    sha256: Mapped[str | None] = mapped_column(String(64), doc="SHA-256 of the DOCX bytes")
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime | None]


class MilestoneSummaryRow(Base):
    """The merged summary a milestone report version was rendered from (its detail rows left
    out): what the WP and final reports are built from, so they never re-read partners' files."""

    __tablename__ = "milestone_summaries"
    __table_args__ = (UniqueConstraint("project", "milestone", "version", name="uq_summary_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    milestone: Mapped[str]
    version: Mapped[int] = mapped_column(doc="The report version rendered from it")
    summary: Mapped[str] = mapped_column(Text, doc="WPSummary as JSON, detail rows left out")


class PartnerLinkRow(Base):
    """A partner's secret page link: only its SHA-256 is kept (looked up by it), beside the
    random value it is derived from with WPFLOW_PARTNER_SECRET. A rotated link is revoked."""

    __tablename__ = "partner_links"
    __table_args__ = (Index("ix_partner_links_partner", "project", "partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    partner: Mapped[str]
    nonce: Mapped[str] = mapped_column(String(64), doc="Random value (secrets.token_urlsafe) the token is derived from")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the token in the link")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(doc="Set when the link was rotated")


class PartnerAccessRow(Base):
    """One request to a partner's page: who, when, what (view, upload, download, refused)."""

    __tablename__ = "partner_access"
    __table_args__ = (Index("ix_partner_access_partner", "project", "partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    partner: Mapped[str]
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(20), doc="view, upload, template, report, refused")
    detail: Mapped[str] = mapped_column(Text, doc="The milestone and file names, or why it was refused")


class ClaimRow(Base):
    """Something done once per key: a pipeline run per distinct content of a milestone's
    inputs. The unique key makes the claim race-safe across the watcher, the daily flow and
    other machines; a claim whose work failed is released (deleted) so the next try may run."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    project: Mapped[str]
    milestone: Mapped[str]
    purpose: Mapped[str] = mapped_column(String(20), doc="run")
    claimed_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text, doc="Flow run id or report path")
    owner: Mapped[str | None] = mapped_column(
        String(200), doc="The process doing the claimed work: host|boot|pid|start (wpflow.store.claim_owner)"
    )


class ReceiptRetryRow(Base):
    """An inbox file whose receipt failed (SMTP down, the Prefect API busy), due for another try.

    Kept in the store so a restarted watcher resumes the backoff where it was; deleted once
    the file is received (or gone from the inbox)."""

    __tablename__ = "receipt_retries"
    __table_args__ = (UniqueConstraint("project", "path", name="uq_retry_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str]
    path: Mapped[str] = mapped_column(String(1000), doc="<partner>/<milestone>/<file>, under the inbox")
    attempts: Mapped[int] = mapped_column(doc="Failed attempts so far")
    first_failed_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(doc="Not retried before this time (exponential backoff)")
    last_error: Mapped[str | None] = mapped_column(Text, doc="Why the last attempt failed, in one line")


class IntakeMessageRow(Base):
    """A message the e-mail intake has seen, once per Message-ID (hashed: a header can be long):
    what it was matched to and where it ended. A copy of the same Message-ID is not taken in
    again; a restart finds a message half taken in and finishes it."""

    __tablename__ = "intake_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the Message-ID")
    message_id: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(320), index=True, doc="The From address, lower case")
    subject: Mapped[str] = mapped_column(Text)
    project: Mapped[str | None]
    partner: Mapped[str | None]
    milestone: Mapped[str | None]
    outcome: Mapped[str] = mapped_column(String(20), doc="taking-in, processed or held")
    reason: Mapped[str | None] = mapped_column(String(40), doc="Why a held message was held")
    seen_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class IntakeFileRow(Base):
    """One attachment of an intake message on its way into the watched folder: recorded before
    the rename (planned) and after it (delivered), so a crash in between never loses or doubles it."""

    __tablename__ = "intake_files"
    __table_args__ = (UniqueConstraint("message_key", "position", name="uq_intake_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(doc="The attachment's index in its message")
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    planned_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    path: Mapped[str | None] = mapped_column(Text, doc="<partner>/<milestone>/<file>, under the inbox")


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
    report_version: int | None = None
    outcome: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class NotificationRecord:
    key: str
    project: str
    milestone: str
    recipient: str
    kind: str
    report_version: int | None
    fingerprint: str | None
    submission_sha256: str | None
    rung: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    transport: str | None
    message_id: str | None
    owner: str | None = None

    @property
    def sent(self) -> bool:
        return self.sent_at is not None


@dataclass(frozen=True)
class Claim:
    key: str
    project: str
    milestone: str
    purpose: str
    claimed_at: datetime
    done_at: datetime | None
    result: str | None
    owner: str | None = None


@dataclass(frozen=True)
class ReceiptRetry:
    project: str
    path: str
    attempts: int
    first_failed_at: datetime
    due_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class IntakeMessage:
    message_key: str
    message_id: str
    sender: str
    subject: str
    project: str | None
    partner: str | None
    milestone: str | None
    outcome: str
    reason: str | None
    seen_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class IntakeFile:
    message_key: str
    position: int
    file_name: str
    sha256: str
    planned_at: datetime
    delivered_at: datetime | None
    path: str | None


def to_record(cls: Callable[..., T], row: Base) -> T:
    """Copy a row's columns into a frozen record with the same field names."""
    return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})  # type: ignore[attr-defined]
