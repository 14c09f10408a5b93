"""The daily deadline flow: collect what the watcher missed, then chase who is late.

Deployed on a daily cron (07:00 in the project's time zone, see prefect.yaml). The rules are
in `wpflow.deadlines` (pure) and `wpflow.chase` (store, mail, runs); each e-mail and each
pipeline run happens at most once however often this flow runs. Last, the final reports of
the WPs that have ended follow their milestones (`wpflow.final_stages.update_final_reports`).
"""

from __future__ import annotations

from datetime import date

from prefect import flow, task

from tasks.notify import retry_when_worthwhile
from wpflow.chase import ActionResult, chase_day, collect_inbox
from wpflow.workspace import configured_project, workspace


@task(retries=2, retry_delay_seconds=[5, 60], timeout_seconds=900)
def collect_new_files(project: str, day: date) -> int:
    """Files that arrived while the watcher was down get archived, validated and a receipt."""
    return len(collect_inbox(workspace(project), day))


@task(retries=3, retry_delay_seconds=[10, 60, 300], timeout_seconds=900)
def chase_partners(project: str, day: date) -> list[ActionResult]:
    """Reminders, notices, escalations and pipeline runs due on `day`; a retry after an SMTP
    hiccup sends only what is still unsent and starts no run twice."""
    from flows.starts import pipeline_starter

    return chase_day(workspace(project), day, start_pipeline=pipeline_starter(project))


@task(retries=3, retry_delay_seconds=[10, 60, 300], timeout_seconds=900, retry_condition_fn=retry_when_worthwhile)
def follow_final_reports(project: str, day: date) -> list[str]:
    """From a WP's end on, its final report (and from the project's end the joint one) gets a
    new version when a milestone report did — a late file reaches the WP report too, once."""
    from wpflow.final_stages import update_final_reports

    return [issued.message for issued in update_final_reports(workspace(project), day)]


def deadline_run_name() -> str:
    """`deadlines 2006-07-01` — the day the ladder was applied for."""
    from prefect.runtime import flow_run

    as_of = flow_run.parameters.get("as_of")
    return f"deadlines {as_of or date.today()}"


@flow(name="deadline-ladder", flow_run_name=deadline_run_name)
def deadline_ladder(as_of: date | None = None, project: str | None = None) -> list[ActionResult]:
    """Apply the deadline ladder for `as_of` (today by default) to every milestone of `project`
    (default the configured one)."""
    project = project or configured_project()
    day = as_of or date.today()
    collect_new_files(project, day)
    results = chase_partners(project, day)
    follow_final_reports(project, day)
    return results
