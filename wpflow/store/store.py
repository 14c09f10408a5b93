"""The store: what wpflow has received, checked, rendered and sent, in one SQL database.

A SQLite file by default (`Settings.db_url`), PostgreSQL by URL; the same code runs on both and
the tests run every case on both. The schema is kept by Alembic migrations (`wpflow/store/migrations`):
a SQLite store applies them when it opens its database, a PostgreSQL store refuses to open one
at another schema until `wpflow db upgrade` has run (see `wpflow.db`).

Every public method opens its own short session, so one `Store` can be shared by threads (the
engine's pool is thread-safe, sessions are not shared). Uniqueness that matters — the same bytes
twice, a notification key — is enforced by the database, not by a read-then-write in Python, so
two processes racing on the same database cannot both win.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.records import Issue, RunStatus, Submission, SubmissionStatus, ValidationResult
from schemas.settings import Settings
from wpflow.store.claim_owner import Owner, is_dead, me
from wpflow.store.intake_log import IntakeLog
from wpflow.store.issued import Ledger
from wpflow.store.orm import (
    IssueRow,
    MilestoneRun,
    MilestoneRunRow,
    SubmissionRow,
    to_record,
    utcnow,
)
from wpflow.store.partner_links import PartnerLinks
from wpflow.store.receipt_queue import ReceiptRetries
from wpflow.store.summaries import Summaries

log = logging.getLogger(__name__)


# -- the store ---------------------------------------------------------------------------
class Store(Ledger, ReceiptRetries, Summaries, IntakeLog, PartnerLinks):
    """Submissions, issues and runs (here), report versions, claims and e-mails (`Ledger`), the
    watcher's receipt retries (`ReceiptRetries`), the summaries the reports were rendered from
    (`Summaries`), the e-mail intake's messages (`IntakeLog`) and the partners' page links
    (`PartnerLinks`) of every project in one database."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.db_url)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        wanted = {_key(s): s for s in subs}
        milestones = {(s.project, s.milestone) for s in subs}

        def stored(session: Session) -> dict[tuple[str, str, str, str], SubmissionRow]:
            rows: dict[tuple[str, str, str, str], SubmissionRow] = {}
            for project, milestone in milestones:
                for row in session.scalars(
                    select(SubmissionRow).where(SubmissionRow.project == project, SubmissionRow.milestone == milestone)
                ):
                    rows[_key(row)] = row
            return rows

        with self._transaction() as session:
            known = stored(session)
        new = [SubmissionRow(**s.model_dump()) for key, s in wanted.items() if key not in known]
        try:
            with self._transaction() as session:
                session.add_all(new)
        except IntegrityError:
            return [self.add_submission(s)[0] for s in subs]
        by_key = {**known, **{_key(r): r for r in new}}
        return [to_submission(by_key[_key(s)]) for s in subs]

    def record_result(self, sub: Submission, result: ValidationResult) -> Submission:
        """Store one file's validation result (`record_results` for one)."""
        return self.record_results([(sub, result)])[0]

    def record_results(self, results: Sequence[tuple[Submission, ValidationResult]]) -> list[Submission]:
        """Store files' validation results and settle versions and statuses of their siblings,
        in one transaction and a few set-wise statements, not five per file: at 500 partners
        the validate stage spent most of its time here (docs/performance.md).

        Idempotent: a pipeline re-run validates stored files again, and recording the same
        result twice (or out of arrival order) must leave the same state. A file given twice
        keeps its last result. Returns the stored submissions in the order given.
        """
        if not results:
            return []
        latest = {_key(sub): (sub, result) for sub, result in results}
        groups = sorted({key[:3] for key in latest})
        with self._transaction() as session:
            for project, partner, milestone in groups:  # sorted: two recorders never wait on each other in a ring
                lock_partner_milestone(session, project, partner, milestone)
            rows = {_key(r): r for r in session.scalars(_groups_query(groups))}
            missing = [SubmissionRow(**sub.model_dump()) for key, (sub, _) in latest.items() if key not in rows]
            if missing:  # validated without being collected first (a direct call)
                session.add_all(missing)
                session.flush()
                for row in missing:  # as the database keeps them (naive datetimes on SQLite), to sort with the rest
                    session.refresh(row)
                rows.update({_key(r): r for r in missing})
            for key, (_, result) in latest.items():
                rows[key].kind = result.kind or rows[key].kind
                rows[key].status = SubmissionStatus.after(result)
            # the issues replaced with two statements, not by loading the old collections
            ids = [rows[key].id for key in latest]
            session.execute(delete(IssueRow).where(IssueRow.submission_id.in_(ids)))
            issues = [
                issue_values(i, issue, rows[key].id)
                for key, (_, result) in latest.items()
                for i, issue in enumerate(result.issues)
            ]
            if issues:
                session.execute(insert(IssueRow), issues)
            siblings: dict[tuple[str, str, str, str | None], list[SubmissionRow]] = {}
            for row in sorted(rows.values(), key=arrival_key):
                siblings.setdefault((row.project, row.partner, row.milestone, row.kind), []).append(row)
            for group in siblings.values():
                settle_versions(group)
            return [to_submission(rows[_key(sub)]) for sub, _ in results]

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
            if sub.status.in_force:
                newest_valid[key] = sub
        picked: list[Submission] = []
        for key, sub in newest.items():
            picked.append(sub)
            if sub.status == SubmissionStatus.invalid and key in newest_valid:
                picked.append(newest_valid[key])
        return picked

    # -- runs --------------------------------------------------------------------------
    def start_run(self, project: str, milestone: str, as_of: date | None, flow_run_id: str | None = None) -> int:
        """Open a run owned by this process; earlier runs of the milestone whose process died
        (kill -9, a power cut) are closed as crashed first, so none stays "running" for ever."""
        self.mark_crashed_runs(project, milestone)
        row = MilestoneRunRow(
            project=project,
            milestone=milestone,
            as_of=as_of,
            started_at=utcnow(),
            status=RunStatus.running,
            flow_run_id=flow_run_id,
            owner=me().token,
        )
        with self._transaction() as session:
            session.add(row)
        return row.id

    def mark_crashed_runs(self, project: str, milestone: str | None = None) -> list[int]:
        """Close every "running" run whose owner process is provably dead as crashed; their ids."""
        query = select(MilestoneRunRow).where(MilestoneRunRow.project == project, MilestoneRunRow.finished_at.is_(None))
        if milestone is not None:
            query = query.where(MilestoneRunRow.milestone == milestone)
        with self._transaction() as session:
            dead = [(r.id, r.owner) for r in session.scalars(query) if is_dead(r.owner)]
        for run_id, owner in dead:
            pid = Owner.parse(owner or "")
            self.finish_run(
                run_id,
                RunStatus.crashed,
                error=f"its process ({pid.pid if pid else '?'} on "
                f"{pid.host if pid else '?'}) died before the run ended; noticed by the next run",
            )
            log.warning("run %d: its process died; marked crashed", run_id)
        return [run_id for run_id, _ in dead]

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        *,
        report_sha256: str | None = None,
        report_version: int | None = None,
        outcome: str | None = None,
        error: str | None = None,
    ) -> None:
        """Close a run: completed / incomplete with what it did, or failed / crashed / cancelled
        with why. A run closed already keeps its first ending (hooks may fire after the body)."""
        with self._transaction() as session:
            row = session.get_one(MilestoneRunRow, run_id)
            if row.finished_at is not None:
                return
            row.status = status
            row.finished_at = utcnow()
            row.report_sha256 = report_sha256
            row.report_version = report_version
            row.outcome = outcome
            row.error = error

    def run_for_flow_run(self, project: str, flow_run_id: str) -> MilestoneRun | None:
        with self._transaction() as session:
            row = session.scalar(
                select(MilestoneRunRow)
                .where(MilestoneRunRow.project == project, MilestoneRunRow.flow_run_id == flow_run_id)
                .order_by(MilestoneRunRow.id.desc())
                .limit(1)
            )
            return None if row is None else to_record(MilestoneRun, row)

    def runs(self, project: str, milestone: str | None = None) -> list[MilestoneRun]:
        query = select(MilestoneRunRow).where(MilestoneRunRow.project == project)
        if milestone is not None:
            query = query.where(MilestoneRunRow.milestone == milestone)
        with self._transaction() as session:
            return [to_record(MilestoneRun, r) for r in session.scalars(query.order_by(MilestoneRunRow.id))]


# -- queries and the versioning rule -------------------------------------------------------
def lock_partner_milestone(session: Session, project: str, partner: str, milestone: str) -> None:
    """Serialise result recording per partner and milestone on PostgreSQL (SQLite's BEGIN
    IMMEDIATE already serialises every writer). Locking the whole group, not just the rows of
    one kind, matters: a concurrent transaction may be moving another file into this kind."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(
        select(SubmissionRow.id)
        .where(
            SubmissionRow.project == project,
            SubmissionRow.partner == partner,
            SubmissionRow.milestone == milestone,
        )
        .with_for_update()
    )


def _key(item: Submission | SubmissionRow) -> tuple[str, str, str, str]:
    """What makes a submission one: the same bytes from the same partner for the same milestone."""
    return (item.project, item.partner, item.milestone, item.sha256)


def _groups_query(groups: Sequence[tuple[str, str, str]]):
    """Every submission of the given (project, partner, milestone) groups."""
    return select(SubmissionRow).where(
        tuple_(SubmissionRow.project, SubmissionRow.partner, SubmissionRow.milestone).in_(groups)
    )


def _submission_query(sub: Submission):
    return select(SubmissionRow).where(
        SubmissionRow.project == sub.project,
        SubmissionRow.partner == sub.partner,
        SubmissionRow.milestone == sub.milestone,
        SubmissionRow.sha256 == sub.sha256,
    )


def arrival_order() -> tuple[Any, ...]:
    """Earlier = the partner delivered it earlier (file time), then archived earlier, then
    inserted earlier. File time comes first because one collect run archives a backlog at
    once, and a rehearsal of 2005–2007 replays arrival dates that only the file time holds."""
    return (SubmissionRow.modified_at, SubmissionRow.received_at, SubmissionRow.id)


def arrival_key(row: SubmissionRow) -> tuple[Any, ...]:
    """`arrival_order` for rows in hand."""
    return (row.modified_at, row.received_at, row.id)


def settle_versions(siblings: Sequence[SubmissionRow]) -> None:
    """Number siblings 1, 2, … in arrival order; the newest file that passed validation stays
    valid (or accepted) and every earlier one that passed becomes superseded. An invalid newer
    file supersedes nothing: the last valid one stays usable. Files not yet validated keep
    their status. A pure function of the set, so the order results are recorded in is moot."""
    passed = [row for row in siblings if SubmissionStatus(row.status).passed]
    current = passed[-1] if passed else None
    for number, row in enumerate(siblings, start=1):
        row.version = number
        if SubmissionStatus(row.status).passed:
            row.status = settled_status(row.status, is_current=row is current)


def settled_status(status: str, *, is_current: bool) -> SubmissionStatus:
    if not is_current:
        return SubmissionStatus.superseded
    return SubmissionStatus.accepted if status == SubmissionStatus.accepted else SubmissionStatus.valid


# -- rows <-> records ------------------------------------------------------------------
def to_submission(row: SubmissionRow) -> Submission:
    return Submission(**{name: getattr(row, name) for name in Submission.model_fields})


def issue_values(position: int, issue: Issue, submission_id: int) -> dict[str, Any]:
    """An issue's column values, for a bulk INSERT."""
    return {"position": position, "submission_id": submission_id, **issue.model_dump()}


def to_issue(row: IssueRow) -> Issue:
    return Issue(**{name: getattr(row, name) for name in Issue.model_fields})
