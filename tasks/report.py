"""Report task: the release rule, the content fingerprint and, for new content, the DOCX."""

from __future__ import annotations

from prefect import get_run_logger, task

from schemas.records import ReportOutcome, WPSummary
from wpflow.milestone.report_stage import release_stage
from wpflow.workspace import workspace


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=300)
def issue_report(project: str, milestone_id: str, summary: WPSummary) -> ReportOutcome:
    """Wait (a draft), tell the coordinator that nothing arrived, or issue the report: the same
    content on another day is the same version, rendered once; new content is the next version."""
    ws = workspace(project)
    outcome = release_stage(ws, ws.milestone(milestone_id), summary)
    logger = get_run_logger()
    logger.info(outcome.message)
    if outcome.version is not None:
        logger.info(
            "%s: version %d, fingerprint %s, %s",
            milestone_id,
            outcome.version.version,
            outcome.version.fingerprint[:16],
            outcome.report.path if outcome.report else "not rendered",
        )
    return outcome
