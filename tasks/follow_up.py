"""The daily ladder's last stage: the final reports follow their milestones."""

from __future__ import annotations

from datetime import date

from prefect import task

from tasks.notify import retry_when_worthwhile
from wpflow.workspace import workspace


@task(retries=3, retry_delay_seconds=[10, 60, 300], timeout_seconds=900, retry_condition_fn=retry_when_worthwhile)
def follow_final_reports(project: str, day: date) -> list[str]:
    """From a WP's end on, its final report (and from the project's end the joint one) gets a
    new version when a milestone report did — a late file reaches the WP report too, once. The
    lines saying what was issued. The final reports' rendering is imported here, when a run
    reaches it: the ladder's process does not load it otherwise."""
    from wpflow.final.stages import update_final_reports

    return [issued.message for issued in update_final_reports(workspace(project), day)]
