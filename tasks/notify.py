"""Notify tasks: receipts to partners and the report to every recipient, each sent once.

Retries are safe: every message has an idempotency key recorded in the store, so a retry
after a transient SMTP error sends only what is still unsent.
"""

from __future__ import annotations

from prefect import task

from schemas.records import CheckedSubmission, Notice, ReportRef, WPSummary
from wpflow.stages import notify_stage, send_receipts, workspace


@task(retries=3, retry_delay_seconds=[5, 30, 120], timeout_seconds=300)
def send_partner_receipts(milestone_id: str, checked: list[CheckedSubmission]) -> list[Notice]:
    ws = workspace()
    return send_receipts(ws, ws.milestone(milestone_id), checked)


@task(retries=3, retry_delay_seconds=[5, 30, 120], timeout_seconds=300)
def notify_partners(milestone_id: str, summary: WPSummary, report: ReportRef) -> list[Notice]:
    ws = workspace()
    return notify_stage(ws, ws.milestone(milestone_id), summary, report)
