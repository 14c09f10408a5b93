"""The daily deadline flow: collect what the watcher missed, then chase who is late — for every
project of the installation in one run.

Deployed on a daily cron (07:00, see prefect.yaml): one `deadline-ladder` run whose `projects`
are every project's folder, a `project-deadlines` subflow each (named for its project), so one
project's failure neither hides nor stops another's. The rules are in `wpflow.schedule.ladder`
(pure) and `wpflow.schedule.chase` (store, mail, runs); each e-mail and each pipeline run happens at
most once however often this flow runs. Last, the final reports of the WPs that have ended
follow their milestones (`wpflow.final.stages.update_final_reports`).
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from flows.starts import pipeline_starter
from tasks.chase import chase_partners
from tasks.follow_up import follow_final_reports
from tasks.inbox import collect_new_files
from tasks.run_log import drop_empty_tracebacks
from wpflow.schedule.chase import ActionResult, LadderFailed
from wpflow.workspace import configured_project, slug_of


def ladder_day() -> str:
    return str(flow_run.parameters.get("as_of") or date.today())


def project_deadlines_run_name() -> str:
    """`baltmet-inno · deadlines 2006-07-01` — the project and the day the ladder was applied for."""
    return f"{slug_of(flow_run.parameters['project'])} · deadlines {ladder_day()}"


def deadline_run_name() -> str:
    """`deadlines 2006-07-01 · 2 projects`, or the project's slug first when there is one."""
    projects = flow_run.parameters.get("projects") or [configured_project()]
    if len(projects) == 1:
        return f"{slug_of(projects[0])} · deadlines {ladder_day()}"
    return f"deadlines {ladder_day()} · {len(projects)} projects"


@flow(name="project-deadlines", flow_run_name=project_deadlines_run_name)
def project_deadlines(project: str, as_of: date | None = None) -> list[ActionResult]:
    """Apply the deadline ladder for `as_of` (today by default) to every milestone of `project`."""
    drop_empty_tracebacks()  # a task that returns Failed is logged with an empty traceback
    day = as_of or date.today()
    collect_new_files(project, day)
    results = chase_partners(project, day, pipeline_starter(project))
    follow_final_reports(project, day)
    return results


@flow(name="deadline-ladder", flow_run_name=deadline_run_name)
def deadline_ladder(as_of: date | None = None, projects: list[str] | None = None) -> State[list[ActionResult]]:
    """Apply the deadline ladder for `as_of` (today by default) to each of `projects` (default
    the configured one), each as its own subflow run. One that fails does not stop the others;
    the run then ends Failed naming them. The result: every project's actions, in order."""
    projects = projects or [configured_project()]
    results: list[ActionResult] = []
    failed: dict[str, BaseException] = {}
    for project in projects:
        state = project_deadlines(project, as_of, return_state=True)
        done = state.result(raise_on_failure=False)
        if state.is_completed() and isinstance(done, list):
            results += done
        else:
            failed[slug_of(project)] = done if isinstance(done, BaseException) else RuntimeError(state.message)
            get_run_logger().error("%s: the deadline ladder failed: %s", slug_of(project), state.message)
    if failed:
        message = f"{len(failed)} of {len(projects)} project(s) failed: {', '.join(failed)}"
        return Failed(message=message, data=LadderFailed(results, failed))
    return Completed(message=f"{len(results)} action(s) in {len(projects)} project(s)", data=results)
