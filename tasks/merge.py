"""Merge task: validated submissions → the milestone's WPSummary."""

from __future__ import annotations

from datetime import date

from prefect import task

from schemas.records import CheckedSubmission, WPSummary
from wpflow.milestone.stages import merge_stage
from wpflow.workspace import workspace


@task(timeout_seconds=300)
def merge_milestone(project: str, milestone_id: str, checked: list[CheckedSubmission], as_of: date) -> WPSummary:
    ws = workspace(project)
    return merge_stage(ws, ws.milestone(milestone_id), checked, as_of)
