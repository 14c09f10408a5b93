"""Render task: the WPSummary → a DOCX report from the editable template."""

from __future__ import annotations

from prefect import task

from schemas.records import ReportRef, WPSummary
from wpflow.stages import render_stage, workspace


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=300)
def render_report(summary: WPSummary) -> ReportRef:
    return render_stage(workspace(), summary)
