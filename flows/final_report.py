"""The final reports as Prefect flows: a WP's story across its milestones, and the project's.

`wp-final-report` runs at a WP's end date (orchestration/serve.py schedules it), `final-report` at the
project's end: it runs every WP's report first (a subflow each) and joins them. Both read the
store only, so they run in seconds whatever the partners' files were; `wpflow report --direct`
calls the same stages without Prefect (`wpflow.final.stages`).
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from flows.milestone import as_is
from schemas.final import FinalIssue
from schemas.records import Notice
from tasks.final_report import (
    issue_final_report,
    publish_final_artifacts,
    send_final_report,
    tell_project_story,
    tell_wp_story,
)
from wpflow.final.issue import issue_line
from wpflow.workspace import configured_project, slug_of, workspace


def run_project() -> str:
    """`baltmet-inno`: the slug of the run's project, first in its name."""
    return slug_of(flow_run.parameters.get("project") or configured_project())


def wp_run_name() -> str:
    """`baltmet-inno · WP4 final report · as of 2008-01-31` — what a secretariat member scans for in the UI."""
    as_of = flow_run.parameters.get("as_of")
    return f"{run_project()} · {flow_run.parameters['wp_id']} final report" + (f" · as of {as_of}" if as_of else "")


def final_run_name() -> str:
    as_of = flow_run.parameters.get("as_of")
    return f"{run_project()} · joint final report" + (f" · as of {as_of}" if as_of else "")


@flow(name="wp-final-report", flow_run_name=wp_run_name, validate_parameters=True)
def wp_final_report(wp_id: str, as_of: date | None = None, project: str | None = None) -> State[FinalIssue]:
    """A WP's milestones told from their reports: issued and e-mailed once per content from the
    WP's end on, a draft before. The caller gets the FinalIssue (the state's result). `project`
    defaults to the configured one."""
    project = project or configured_project()
    story = tell_wp_story(project, wp_id, as_of or date.today())
    issued = issue_final_report(project, as_is(story))
    notices = send_final_report(project, as_is(story), issued)
    publish_final_artifacts(project, as_is(story), issued)
    return final_state(issued, notices)


@flow(name="final-report", flow_run_name=final_run_name, validate_parameters=True)
def final_report(as_of: date | None = None, project: str | None = None) -> State[list[FinalIssue]]:
    """Every WP's final report (a subflow each), then the joint final report built from them."""
    project = project or configured_project()
    day = as_of or date.today()
    issues: list[FinalIssue] = []
    failed: list[str] = []
    for wp in workspace(project).project.work_packages:
        state = wp_final_report(wp.id, day, project, return_state=True)
        result = state.result(raise_on_failure=False)
        if state.is_completed() and isinstance(result, FinalIssue):
            issues.append(result)
        else:
            failed.append(wp.id)
            get_run_logger().error("%s final report failed: %s", wp.id, state.message)
    if failed:  # the joint report is built from the WP reports: not without them
        return Failed(message=f"WP final report(s) failed: {', '.join(failed)}; no joint final report", data=issues)
    story = tell_project_story(project, day)
    issued = issue_final_report(project, as_is(story))
    notices = send_final_report(project, as_is(story), issued)
    publish_final_artifacts(project, as_is(story), issued)
    last = final_state(issued, notices)
    return Completed(name=last.name, message=last.message, data=[*issues, last.result()])


def final_state(issued: FinalIssue, notices: list[Notice]) -> State[FinalIssue]:
    """Completed, or "Draft" for a report before its end (sent to nobody); the issue is its result."""
    issued = issued.model_copy(update={"message": issue_line(issued, notices)})
    get_run_logger().info(issued.message)
    return Completed(name="Draft" if issued.release == "draft" else "Completed", message=issued.message, data=issued)
