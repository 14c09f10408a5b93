"""The daily ladder's chase: reminders, notices, escalations and the pipeline runs due."""

from __future__ import annotations

from datetime import date

from prefect import task

from wpflow.schedule.chase import ActionResult, PipelineStarter, chase_day
from wpflow.workspace import workspace


@task(retries=3, retry_delay_seconds=[10, 60, 300], timeout_seconds=900)
def chase_partners(project: str, day: date, start_pipeline: PipelineStarter) -> list[ActionResult]:
    """Reminders, notices, escalations and pipeline runs due on `day`, the runs started by
    `start_pipeline` (the flow's: a deployment's run, or the flow in this process); a retry
    after an SMTP hiccup sends only what is still unsent and starts no run twice."""
    return chase_day(workspace(project), day, start_pipeline=start_pipeline)
