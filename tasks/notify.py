"""Notify tasks: receipts to partners and the report to every recipient, each sent once.

Retries are safe: every message has an idempotency key recorded in the store, so a retry
after a transient SMTP error sends only what is still unsent. A permanent error (a 5xx answer,
wrong mail settings) is not retried: the same request would get the same answer; nor is a
server that cannot be reached at all: the run ends Failed and the next run sends what is unsent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger, task

from schemas.records import CheckedSubmission, Notice, ReportOutcome, WPSummary
from tasks.run_log import store_warnings_in_run_log
from wpflow.files import WriteFailed
from wpflow.mail.transports import MailServerUnreachable, PermanentMailError
from wpflow.milestone.report_stage import notify_stage
from wpflow.milestone.stages import send_receipts
from wpflow.workspace import workspace


def retry_when_worthwhile(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`: retry a server that answered "try later" (4xx, a dropped
    connection), not one that refused the message (5xx) nor one that could not be reached at
    all, nor an outbox the disk refuses (full, not writable) — minutes of retries would only
    hold the run; the unsent e-mails go on the next run."""
    return not isinstance(state.data, PermanentMailError | MailServerUnreachable | WriteFailed)


def log_notices(what: str, notices: list[Notice]) -> None:
    logger = get_run_logger()
    for n in notices:
        logger.info("%s to %s: %s", what, ", ".join(n.to), "sent" if n.sent else "skipped, already sent")


@task(retries=3, retry_delay_seconds=[5, 30, 120], timeout_seconds=300, retry_condition_fn=retry_when_worthwhile)
def send_partner_receipts(
    project: str,
    milestone_id: str,
    checked: list[CheckedSubmission],
    promise: str | None = None,
    as_of: date | None = None,
) -> list[Notice]:
    ws = workspace(project)
    with store_warnings_in_run_log():  # an e-mail of a crashed run, sent again: said in this run's log
        notices = send_receipts(ws, ws.milestone(milestone_id), checked, promise, as_of)
    log_notices("receipt", notices)
    return notices


@task(retries=3, retry_delay_seconds=[5, 30, 120], timeout_seconds=300, retry_condition_fn=retry_when_worthwhile)
def notify_partners(project: str, milestone_id: str, summary: WPSummary, outcome: ReportOutcome) -> list[Notice]:
    ws = workspace(project)
    with store_warnings_in_run_log():
        notices = notify_stage(ws, ws.milestone(milestone_id), summary, outcome)
    log_notices("report" if outcome.release == "report" else "notice", notices)
    return notices
