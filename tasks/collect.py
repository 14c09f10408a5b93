"""Collect task: archive the milestone's inbox files and record them."""

from __future__ import annotations

from collections import Counter
from datetime import date

from prefect import get_run_logger, task

from schemas.records import Submission
from wpflow.milestone.stages import collect_stage
from wpflow.workspace import workspace


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=600)
def collect_submissions(project: str, milestone_id: str, as_of: date | None = None) -> list[Submission]:
    """Archive by hash first, then record: a crash after this step loses nothing."""
    ws = workspace(project)
    stored = collect_stage(ws, ws.milestone(milestone_id), as_of)
    per_partner = Counter(s.partner for s in stored)
    get_run_logger().info(
        "%s: %d file(s) collected%s",
        milestone_id,
        len(stored),
        ": " + ", ".join(f"{p} {n}" for p, n in sorted(per_partner.items())) if stored else "",
    )
    return stored
