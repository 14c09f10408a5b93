"""The e-mail intake's memory: each message once by its Message-ID, each attachment recorded
before and after it is renamed into the watched folder (`wpflow.intake.poller` says why)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, update

from wpflow.store.engine import StoreBase
from wpflow.store.orm import IntakeFile, IntakeFileRow, IntakeMessage, IntakeMessageRow, to_record, utcnow


def message_key(message_id: str) -> str:
    """The store's key of a Message-ID: its SHA-256 (a header may be longer than an index allows)."""
    return hashlib.sha256(message_id.strip().encode("utf-8", "surrogateescape")).hexdigest()


class IntakeLog(StoreBase):
    def intake_message(self, key: str) -> IntakeMessage | None:
        with self._transaction() as session:
            row = session.scalar(select(IntakeMessageRow).where(IntakeMessageRow.message_key == key))
            return None if row is None else to_record(IntakeMessage, row)

    def open_intake_message(
        self,
        message_id: str,
        *,
        sender: str,
        subject: str,
        project: str | None,
        partner: str | None,
        milestone: str | None,
    ) -> tuple[IntakeMessage, bool]:
        """Record a message as being taken in; the Message-ID seen before returns its record and False."""
        key = message_key(message_id)
        row = IntakeMessageRow(
            message_key=key,
            message_id=message_id,
            sender=sender,
            subject=subject,
            project=project,
            partner=partner,
            milestone=milestone,
            outcome="taking-in",
            seen_at=utcnow(),
        )
        stored, new = self._insert_once(
            row, lambda session: session.scalar(select(IntakeMessageRow).where(IntakeMessageRow.message_key == key))
        )
        return to_record(IntakeMessage, stored), new

    def close_intake_message(self, key: str, outcome: str, reason: str | None = None) -> None:
        with self._transaction() as session:
            session.execute(
                update(IntakeMessageRow)
                .where(IntakeMessageRow.message_key == key)
                .values(outcome=outcome, reason=reason, done_at=utcnow())
            )

    def intake_messages_since(self, sender: str, since: datetime) -> int:
        """How many messages from `sender` the intake has seen since `since` (the rate limit)."""
        query = select(func.count()).where(IntakeMessageRow.sender == sender, IntakeMessageRow.seen_at >= since)
        with self._transaction() as session:
            return int(session.scalar(query) or 0)

    def intake_files(self, key: str) -> list[IntakeFile]:
        query = select(IntakeFileRow).where(IntakeFileRow.message_key == key).order_by(IntakeFileRow.position)
        with self._transaction() as session:
            return [to_record(IntakeFile, r) for r in session.scalars(query)]

    def plan_intake_file(self, key: str, position: int, file_name: str, sha256: str) -> IntakeFile:
        """Record an attachment about to be renamed into the watched folder (once per position)."""
        row = IntakeFileRow(message_key=key, position=position, file_name=file_name, sha256=sha256, planned_at=utcnow())
        stored, _ = self._insert_once(
            row,
            lambda session: session.scalar(
                select(IntakeFileRow).where(IntakeFileRow.message_key == key, IntakeFileRow.position == position)
            ),
        )
        return to_record(IntakeFile, stored)

    def mark_intake_file_delivered(self, key: str, position: int, path: str) -> None:
        with self._transaction() as session:
            session.execute(
                update(IntakeFileRow)
                .where(IntakeFileRow.message_key == key, IntakeFileRow.position == position)
                .values(delivered_at=utcnow(), path=path)
            )
