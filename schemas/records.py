"""What flows between the stages: submissions, validation issues, the WP summary, reports.

A delivered file has one shape per boundary it crosses: on disk it is an `InboxFile`
(`wpflow.milestone.collect`), archived and stored a `Submission`, validated a `CheckedSubmission`. What the
status of a partner depends on is reduced from these by one builder (`wpflow.milestone.merge.Delivery.of`);
where a partner stands in a summary is a `PartnerState`.

Statuses are `StrEnum`s: a member *is* its string, so what the store, JSON and the templates hold
stays the same text.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.deliverable import ReportFrame

Severity = Literal["error", "warning"]


class SubmissionStatus(StrEnum):
    """Where a stored file stands: received (not yet validated), valid or invalid, accepted, or
    superseded (it passed, then a newer file of the partner passed too)."""

    received = "received"
    valid = "valid"
    invalid = "invalid"
    accepted = "accepted"
    superseded = "superseded"

    @classmethod
    def after(cls, result: ValidationResult) -> SubmissionStatus:
        """The status a validation result gives a file: the store's record of `result.valid`."""
        return cls.valid if result.valid else cls.invalid

    @property
    def passed(self) -> bool:
        """This file passed validation (read back from the store: `after` wrote it)."""
        return self in (SubmissionStatus.valid, SubmissionStatus.accepted, SubmissionStatus.superseded)

    @property
    def in_force(self) -> bool:
        """Passed and not superseded: the partner's current valid file."""
        return self.passed and self != SubmissionStatus.superseded


class PartnerStatus(StrEnum):
    """Where one partner stands on one required input."""

    on_time = "on time"
    late = "late"
    missing = "missing"
    invalid = "invalid"

    @property
    def delivered(self) -> bool:
        """A valid file arrived (on time or late)."""
        return self in (PartnerStatus.on_time, PartnerStatus.late)


class ReportStatus(StrEnum):
    """A summary (and the report version made from it) is complete when every partner delivered;
    a report rendered before versions existed was carried over by migration 0003 as legacy; a
    WP's or the project's final report is final."""

    complete = "complete"
    incomplete = "incomplete"
    legacy = "legacy"
    final = "final"


class RunStatus(StrEnum):
    """How a milestone run stands or ended, as the store's `milestone_runs` keep it."""

    running = "running"
    completed = "completed"
    incomplete = "incomplete"
    failed = "failed"
    crashed = "crashed"
    cancelled = "cancelled"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Issue(Record):
    """One problem found in a partner's file, located as precisely as the format allows."""

    file: str = Field(description="File name as the partner sent it")
    sheet: str | None = Field(None, description="Worksheet name (workbooks only)")
    row: int | None = Field(None, description="1-based row number as the partner sees it")
    column: str | None = Field(None, description="Column letter (A, B, …) or CSV column number")
    field: str | None = Field(None, description="Model field the cell maps to")
    value: str | None = Field(None, description="The offending value, as text")
    message: str = Field(description="What is wrong, in plain words")
    severity: Severity = Field("error", description="Errors block the submission, warnings do not")

    def location(self) -> str:
        """`file, sheet S, row 7, column D (budget_eur)` — the form receipts use."""
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}" + (f" ({self.field})" if self.field else ""))
        elif self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        shown = f"{self.value!r} " if self.value not in (None, "") else ""
        return f"{self.location()}: {shown}{self.message}".replace("'' ", "")


class ValidationResult(Record):
    """The outcome of validating one file as one input kind."""

    file: str = Field(description="File name as the partner sent it")
    kind: str | None = Field(description="Input kind the file was read as; None if not detected")
    rows: list[dict[str, Any]] = Field(default_factory=list, description="Valid rows (row kinds)")
    document: dict[str, Any] | None = Field(None, description="Parsed document (document kinds)")
    issues: list[Issue] = Field(default_factory=list, description="Problems found")
    rows_read: int = Field(0, description="Data rows read before validation")

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def valid(self) -> bool:
        """The one definition of "passed validation": a recognised kind and no error."""
        return self.kind is not None and not self.errors


class Submission(Record):
    """A file a partner delivered for a milestone, archived by content hash."""

    project: str = Field(description="Project name")
    partner: str = Field(description="Participant id (the inbox folder it lay in)")
    milestone: str = Field(description="Milestone id")
    kind: str | None = Field(None, description="Input kind, once detected")
    file_name: str = Field(description="Original file name")
    sha256: str = Field(description="SHA-256 of the bytes; the archive key")
    size: int = Field(description="Size in bytes")
    received_at: datetime = Field(description="When wpflow archived it (UTC)")
    modified_at: datetime = Field(description="File modification time; decides on time / late")
    version: int = Field(1, description="1 for the first file of this partner, milestone and kind")
    status: SubmissionStatus = Field(SubmissionStatus.received, description="Lifecycle state")
    archive_path: str = Field(description="Where the original bytes are kept")


class CheckedSubmission(Record):
    """A stored submission with its validation result: what validating a file gives."""

    submission: Submission = Field(description="The archived submission")
    result: ValidationResult = Field(description="Its validation result")


class ComparativeTable(Record):
    """One row per city for one input kind, with totals."""

    kind: str = Field(description="Input kind id")
    label: str = Field(description="Human label of the kind")
    columns: list[str] = Field(description="Measure labels, in order")
    rows: list[dict[str, Any]] = Field(description="{'city': …, <measure>: number} per city")
    totals: dict[str, float] = Field(description="Sum per measure across cities")
    detail_columns: list[str] = Field(default_factory=list, description="Columns of the detail table")
    details: list[dict[str, Any]] = Field(default_factory=list, description="Every row, with its city")
    measure_units: dict[str, str] = Field(default_factory=dict, description="Unit of each measure that has one")
    field_units: dict[str, str] = Field(default_factory=dict, description="Unit of each detail column that has one")
    summed: dict[str, str] = Field(default_factory=dict, description="Measure label → the column it sums; others count")
    chart: str | None = Field(None, description="The measure the kind charts per city")
    category: str | None = Field(None, description="The kind's first field with a fixed list of values")
    personal: list[str] = Field(default_factory=list, description="Columns of personal data: never shown")


class PartnerState(Record):
    """Where one partner stands on one required input of a milestone."""

    partner: str = Field(description="Participant id")
    city: str = Field(description="City")
    kind: str = Field(description="Input kind id")
    status: PartnerStatus = Field(description="on time, late, missing or invalid")
    file_name: str | None = Field(None, description="Latest file considered")
    version: int | None = Field(None, description="Its version")
    sha256: str | None = Field(None, description="Its hash")
    errors: int = Field(0, description="Errors in it")


class NarrativeBlock(Record):
    """A city's narrative contribution or meeting report, ready to render."""

    city: str = Field(description="City")
    kind: str = Field(description="Input kind id")
    title: str = Field(description="Heading")
    paragraphs: list[str] = Field(description="Text paragraphs, with sub-headings inlined")


class MeetingRow(Record):
    city: str = Field(description="Host city, or 'not stated'")
    month: str = Field(description="YYYY-MM or 'not stated'")
    topic: str = Field(description="Topic")
    assumed: bool = Field(description="Derived rather than stated in the sources")


class WPSummary(Record):
    """Everything the report shows about one milestone, merged across partners."""

    project: str = Field(description="Project name")
    project_title: str = Field(description="Project full title")
    programme: str = Field(description="Funding programme")
    wp_id: str = Field(description="Work package id")
    wp_title: str = Field(description="Work package title")
    milestone_id: str = Field(description="Milestone id")
    milestone_title: str = Field(description="Milestone title")
    start: date = Field(description="Period start")
    end: date = Field(description="Period end")
    due: date = Field(description="Due date")
    as_of: date = Field(description="Date the summary describes")
    activities: list[str] = Field(description="Activities of the milestone")
    meetings: list[MeetingRow] = Field(description="Meetings of the milestone")
    tables: list[ComparativeTable] = Field(description="Comparative tables, one per row kind")
    narratives: list[NarrativeBlock] = Field(description="Narratives and meeting reports")
    partners: list[PartnerState] = Field(description="Status per partner and required input")
    missing: list[str] = Field(description="Cities with a required input missing")
    inputs: list[Submission] = Field(description="Submissions the summary was built from")
    status: ReportStatus = Field(description="complete / incomplete")
    version: int = Field(1, description="The report version this summary becomes (v1, v2, …)")
    changes_since: str | None = Field(
        None, description="The version this one replaces, as people read it ('v1 of 2005-06-19'); None for v1"
    )
    changes: list[str] = Field(
        default_factory=list, description="What changed since that version, one sentence per line"
    )
    kind_titles: dict[str, str] = Field(
        default_factory=dict, description="Title of each input kind the milestone asks for, by id"
    )
    document_kinds: list[str] = Field(
        default_factory=list, description="The kinds asked for that are documents (narratives, meeting reports)"
    )
    organisations: dict[str, str] = Field(
        default_factory=dict, description="Organisation name per participant id: what the report shows for a partner"
    )
    source_notes: list[str] = Field(
        default_factory=list, description="Contradictions and gaps `wpflow project check` finds for this milestone"
    )
    frame: ReportFrame | None = Field(
        None, description="Author, publicity, currencies, definitions and the coordinator's narrative of the report"
    )


class ReportRef(Record):
    """A rendered report and what it was made from."""

    milestone_id: str = Field(description="Milestone id")
    path: str = Field(description="Path of the DOCX")
    sha256: str = Field(description="SHA-256 of the DOCX bytes (they change with the as-of date)")
    template_sha256: str = Field(description="SHA-256 of the template used")
    generated_at: datetime = Field(description="When it was rendered")
    version: int | None = Field(None, description="Report version (v1, v2, …); None for a draft")
    fingerprint: str | None = Field(None, description="SHA-256 of the report's content (wpflow.issue.content)")
    pdf_path: str | None = Field(
        None, description="Path of the PDF beside the DOCX; None without LibreOffice or when turned off"
    )


class VersionContents(Record):
    """What a report version said, kept to tell what the next version changed."""

    states: list[PartnerState] = Field(description="Every partner's status on every required input")
    totals: dict[str, dict[str, float]] = Field(description="Table label → measure → total")


class ReportVersion(Record):
    """One issued version of a milestone report, as the store keeps it."""

    milestone_id: str = Field(description="Milestone id")
    version: int = Field(description="1, 2, … in the order the versions were issued")
    fingerprint: str = Field(description="Content identity (wpflow.issue.content.report_fingerprint)")
    status: ReportStatus = Field(description="complete / incomplete (legacy: carried over by migration 0003)")
    as_of: date = Field(description="The day the version describes and was issued for")
    contents: VersionContents = Field(description="States and totals, to compare with the next version")
    report: ReportRef | None = Field(None, description="The rendered DOCX; None until rendered")


class ReportOutcome(Record):
    """What the pipeline did with a milestone's summary: the run's result and its UI state."""

    milestone_id: str = Field(description="Milestone id")
    release: Literal["report", "empty", "wait"] = Field(description="The release rule's decision")
    new_version: bool = Field(False, description="True when this run issued a new version")
    version: ReportVersion | None = Field(None, description="The version in force (new or unchanged)")
    draft: ReportRef | None = Field(None, description="The draft rendered while waiting (nothing sent)")
    message: str = Field(description="One line for the run's state and the terminal")

    @property
    def report(self) -> ReportRef | None:
        return self.version.report if self.version is not None else self.draft


class Notice(Record):
    """One e-mail wpflow decided to send (or did send)."""

    key: str = Field(description="Idempotency key")
    to: list[str] = Field(description="Recipients")
    cc: list[str] = Field(default_factory=list, description="Copy recipients")
    subject: str = Field(description="Subject")
    path: str | None = Field(None, description="Outbox file, when the outbox transport is used")
    sent: bool = Field(description="False when skipped because the key was already sent")
