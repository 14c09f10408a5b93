"""What wpflow issued and sent: report versions, once-only claims and e-mails.

Three tables, one job each (they used to share `notifications`): `report_versions` (v1, v2, …
of each milestone report, a new one per change of its content fingerprint), `claims` (a pipeline run once per
distinct content of a milestone's inputs) and `notifications` (one row per e-mail, unique by its
idempotency key, with a column for what it is about: a report version, a file, a ladder rung).
Uniqueness is the database's: two processes racing on the same key cannot both win.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from schemas.records import ReportRef, ReportStatus, ReportVersion, VersionContents
from wpflow.store.claim_owner import is_dead, me
from wpflow.store.engine import StoreBase
from wpflow.store.orm import (
    Claim,
    ClaimRow,
    NotificationRecord,
    NotificationRow,
    ReportVersionRow,
    to_record,
    utcnow,
)

log = logging.getLogger(__name__)
ISSUE_ATTEMPTS = 10  # a run losing a number race looks again; eight racing runs need at most seven


@dataclass(frozen=True)
class About:
    """What an e-mail is about: exactly the fields of its kind are set."""

    report_version: int | None = None
    fingerprint: str | None = None
    submission_sha256: str | None = None
    rung: str | None = None


class Ledger(StoreBase):
    # -- report versions ---------------------------------------------------------------
    def issue_version(
        self,
        project: str,
        milestone: str,
        *,
        fingerprint: str,
        status: ReportStatus,
        as_of: date,
        contents: VersionContents,
    ) -> tuple[ReportVersion, bool]:
        """The newest version when it has this content, else the content issued now as the
        next number — also when an earlier version had it (A, B, then A again is v3).

        Returns (version, new). Two runs issuing the same content get the same version; two
        issuing different contents at once get consecutive numbers (the loser of a number race
        retries with the next one)."""
        for _ in range(ISSUE_ATTEMPTS):
            with self._transaction() as session:
                newest = session.scalar(
                    _version_query(project, milestone).order_by(ReportVersionRow.version.desc()).limit(1)
                )
                if newest is not None and newest.fingerprint == fingerprint:
                    return to_version(newest), False
            row = ReportVersionRow(
                project=project,
                milestone=milestone,
                version=(newest.version if newest is not None else 0) + 1,
                fingerprint=fingerprint,
                status=status,
                as_of=as_of,
                contents=contents.model_dump_json(),
                issued_at=utcnow(),
            )
            try:
                with self._transaction() as session:
                    session.add(row)
                return to_version(row), True
            except IntegrityError:
                continue  # another run took this number or this content: look again
        raise RuntimeError(f"could not issue a report version of {milestone} after {ISSUE_ATTEMPTS} attempts")

    def set_version_report(self, project: str, milestone: str, version: int, ref: ReportRef) -> ReportVersion:
        """Record the rendered DOCX of a version (rendered once, right after it was issued)."""
        with self._transaction() as session:
            row = session.scalars(_version_query(project, milestone).where(ReportVersionRow.version == version)).one()
            row.path, row.sha256 = ref.path, ref.sha256
            row.template_sha256, row.generated_at = ref.template_sha256, ref.generated_at
            return to_version(row)

    def versions(self, project: str, milestone: str | None = None) -> list[ReportVersion]:
        """Issued versions, per milestone in version order."""
        query = select(ReportVersionRow).where(ReportVersionRow.project == project)
        if milestone is not None:
            query = query.where(ReportVersionRow.milestone == milestone)
        with self._transaction() as session:
            rows = session.scalars(query.order_by(ReportVersionRow.milestone, ReportVersionRow.version))
            return [to_version(r) for r in rows]

    def version(self, project: str, milestone: str, version: int) -> ReportVersion | None:
        """One issued version, as the store has it now (rendered or not)."""
        with self._transaction() as session:
            row = session.scalar(_version_query(project, milestone).where(ReportVersionRow.version == version))
            return None if row is None else to_version(row)

    def latest_version(self, project: str, milestone: str) -> ReportVersion | None:
        with self._transaction() as session:
            row = session.scalar(_version_query(project, milestone).order_by(ReportVersionRow.version.desc()).limit(1))
            return None if row is None else to_version(row)

    # -- claims ------------------------------------------------------------------------
    def claim(
        self, key: str, *, project: str, milestone: str, purpose: str = "run", stale_after: timedelta | None = None
    ) -> bool:
        """True for exactly one caller per key (until the claim is released or its owner died).

        An unfinished claim whose owner process is provably dead (`wpflow.store.claim_owner.is_dead`) is
        taken over at once: compare-and-set on the dead owner, so two takers cannot both win. With
        `stale_after`, so is one claimed longer ago than that whose owner cannot be checked (a
        process on another machine): work that takes seconds is not held for ever by a machine
        that went away."""
        try:
            with self._transaction() as session:
                session.add(
                    ClaimRow(
                        key=key,
                        project=project,
                        milestone=milestone,
                        purpose=purpose,
                        claimed_at=utcnow(),
                        owner=me().token,
                    )
                )
            return True
        except IntegrityError:
            pass
        with self._transaction() as session:
            row = session.scalar(select(ClaimRow).where(ClaimRow.key == key))
            unfinished = row is not None and row.done_at is None
            dead = unfinished and is_dead(row.owner if row is not None else None)
            old_owner = row.owner if row is not None else None
        if not (dead or (unfinished and stale_after is not None)):
            return False
        takeover = update(ClaimRow).where(ClaimRow.key == key, ClaimRow.done_at.is_(None), ClaimRow.owner == old_owner)
        if not dead and stale_after is not None:  # compared by the database: its clock, its time zone
            takeover = takeover.where(ClaimRow.claimed_at < utcnow() - stale_after)
        takeover = takeover.values(claimed_at=utcnow(), owner=me().token)
        with self._transaction() as session:
            taken = cast(CursorResult[Any], session.execute(takeover)).rowcount == 1
        if taken:
            why = "died" if dead else f"held it longer than {stale_after}"
            log.warning("claim %s: its owner (%s) %s; taken over", key, old_owner, why)
        return taken

    def claim_holder(self, key: str) -> str | None:
        """The owner token of an unfinished claim (`host|boot|pid|start`), None when there is none."""
        with self._transaction() as session:
            row = session.scalar(select(ClaimRow).where(ClaimRow.key == key, ClaimRow.done_at.is_(None)))
            return None if row is None else row.owner

    def finished_claims(self, project: str) -> set[str]:
        """Keys whose claimed work is done: claimed for good, whoever asks again."""
        with self._transaction() as session:
            query = select(ClaimRow.key).where(ClaimRow.project == project, ClaimRow.done_at.is_not(None))
            return set(session.scalars(query))

    def finish_claim(self, key: str, result: str | None) -> None:
        with self._transaction() as session:
            session.execute(update(ClaimRow).where(ClaimRow.key == key).values(done_at=utcnow(), result=result))

    def release_claim(self, key: str) -> None:
        """The claimed work failed: let the next attempt claim it again."""
        with self._transaction() as session:
            session.execute(delete(ClaimRow).where(ClaimRow.key == key, ClaimRow.done_at.is_(None)))

    def release_claims_of_run(self, flow_run_id: str) -> int:
        """A deployed run that ended failed, crashed or cancelled gives its claim back: the next
        ladder pass or upload starts the milestone again, and only what is still unsent goes
        out (e-mails have their own once-keys)."""
        with self._transaction() as session:
            gone = session.execute(delete(ClaimRow).where(ClaimRow.purpose == "run", ClaimRow.result == flow_run_id))
        return int(getattr(gone, "rowcount", 0) or 0)

    def claims(self, project: str, milestone: str | None = None) -> list[Claim]:
        query = select(ClaimRow).where(ClaimRow.project == project)
        if milestone is not None:
            query = query.where(ClaimRow.milestone == milestone)
        with self._transaction() as session:
            return [to_record(Claim, r) for r in session.scalars(query.order_by(ClaimRow.id))]

    # -- notifications -----------------------------------------------------------------
    def claim_notification(
        self,
        key: str,
        *,
        project: str,
        milestone: str,
        recipient: str,
        kind: str,
        about: About = About(),
        message_id: str | None = None,
    ) -> bool:
        """True if this caller may send the e-mail for `key` now.

        First claim: insert the row with its owner and the Message-ID it will carry (recorded
        before the send, so a re-send after a crash is recognisable). Later: take over an unsent
        claim if it was released, its owner process is provably dead, or — for an owner we
        cannot check (another host) — it is older than `claim_timeout`. One conditional UPDATE
        (compare-and-set on the old owner), so two takers cannot both get rowcount 1.
        """
        row = NotificationRow(
            key=key,
            project=project,
            milestone=milestone,
            recipient=recipient,
            kind=kind,
            claimed_at=utcnow(),
            owner=me().token,
            message_id=message_id,
            **about.__dict__,
        )
        try:
            with self._transaction() as session:
                session.add(row)
            return True
        except IntegrityError:
            pass
        with self._transaction() as session:
            found = session.scalar(select(NotificationRow).where(NotificationRow.key == key))
            if found is None or found.sent_at is not None:
                return False
            old_owner, dead = found.owner, is_dead(found.owner)
        stale = utcnow() - self.claim_timeout
        takeover = update(NotificationRow).where(NotificationRow.key == key, NotificationRow.sent_at.is_(None))
        if dead:
            takeover = takeover.where(NotificationRow.owner == old_owner)
        else:
            takeover = takeover.where((NotificationRow.claimed_at.is_(None)) | (NotificationRow.claimed_at < stale))
        takeover = takeover.values(
            claimed_at=utcnow(), owner=me().token, **({"message_id": message_id} if message_id else {})
        )
        with self._transaction() as session:
            taken = cast(CursorResult[Any], session.execute(takeover)).rowcount == 1
        if taken and dead:
            log.warning("e-mail %s: its sender (%s) died before it was marked sent; sending it again", key, old_owner)
        return taken

    def release_notification(self, key: str) -> None:
        """Give up a claim after a failed send so a retry may claim it at once."""
        with self._transaction() as session:
            session.execute(
                update(NotificationRow)
                .where(NotificationRow.key == key, NotificationRow.sent_at.is_(None))
                .values(claimed_at=None, owner=None)
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
        self,
        project: str,
        milestone: str | None = None,
        *,
        include_unsent: bool = False,
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


def _version_query(project: str, milestone: str):
    return select(ReportVersionRow).where(ReportVersionRow.project == project, ReportVersionRow.milestone == milestone)


def to_version(row: ReportVersionRow) -> ReportVersion:
    report = None
    if row.path is not None and row.sha256 is not None and row.generated_at is not None:
        pdf = Path(row.path).with_suffix(".pdf")  # rendered beside the DOCX when LibreOffice was there
        report = ReportRef(
            milestone_id=row.milestone,
            path=row.path,
            sha256=row.sha256,
            template_sha256=row.template_sha256 or "",
            generated_at=row.generated_at,
            version=row.version,
            fingerprint=row.fingerprint,
            pdf_path=str(pdf) if pdf.is_file() else None,
        )
    return ReportVersion(
        milestone_id=row.milestone,
        version=row.version,
        fingerprint=row.fingerprint,
        status=row.status,
        as_of=row.as_of,
        contents=VersionContents.model_validate_json(row.contents),
        report=report,
    )
