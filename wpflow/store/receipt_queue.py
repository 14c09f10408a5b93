"""The watcher's retry queue: files whose receipt failed, each with its own backoff, in the store.

A receipt that fails on a transient fault (SMTP down, the Prefect API answering 503 in a burst)
used to wait for the next start of the watcher. Now the file is queued with a due time that
doubles per failed attempt (capped), the watcher retries what is due every half second, and a
restart resumes the queue where it was (`due` reads the store, not memory).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from wpflow.store.engine import StoreBase
from wpflow.store.orm import ReceiptRetry, ReceiptRetryRow, to_record, utcnow


def backoff(attempts: int, first: float, cap: float) -> timedelta:
    """first, 2·first, 4·first, … seconds, never more than `cap`."""
    return timedelta(seconds=min(cap, first * 2 ** max(0, attempts - 1)))


class ReceiptRetries(StoreBase):
    def defer_receipt(self, project: str, path: str, error: str, *, first: float, cap: float) -> ReceiptRetry:
        """Record one more failed attempt for `path` (relative to the inbox); due after backoff."""
        now = utcnow()
        with self._transaction() as session:
            row = session.scalar(
                select(ReceiptRetryRow).where(ReceiptRetryRow.project == project, ReceiptRetryRow.path == path)
            )
            if row is None:
                row = ReceiptRetryRow(project=project, path=path, attempts=0, first_failed_at=now, due_at=now)
                session.add(row)
            row.attempts += 1
            row.due_at = now + backoff(row.attempts, first, cap)
            row.last_error = error[:2000]
            return to_record(ReceiptRetry, row)

    def due_receipts(self, project: str, now: datetime | None = None) -> list[ReceiptRetry]:
        """Queued files whose backoff is over, oldest first."""
        query = select(ReceiptRetryRow).where(
            ReceiptRetryRow.project == project, ReceiptRetryRow.due_at <= (now or utcnow())
        )
        with self._transaction() as session:
            return [to_record(ReceiptRetry, r) for r in session.scalars(query.order_by(ReceiptRetryRow.due_at))]

    def queued_receipts(self, project: str) -> list[ReceiptRetry]:
        query = select(ReceiptRetryRow).where(ReceiptRetryRow.project == project)
        with self._transaction() as session:
            return [to_record(ReceiptRetry, r) for r in session.scalars(query.order_by(ReceiptRetryRow.id))]

    def clear_receipt_retry(self, project: str, path: str) -> None:
        with self._transaction() as session:
            session.execute(
                delete(ReceiptRetryRow).where(ReceiptRetryRow.project == project, ReceiptRetryRow.path == path)
            )
