"""Final report tasks: tell a WP's (or the project's) story from the store, issue it, send it,
and show it in the Prefect UI — thin wrappers around `wpflow.final.stages` / `wpflow.final.issue`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from schemas.final import FinalIssue, ProjectStory, WPStory
from schemas.records import Notice
from tasks.notify import log_notices, retry_when_worthwhile
from wpflow.final.issue import issue_story, send_story
from wpflow.final.mail import story_lines
from wpflow.final.stages import project_story_stage, wp_story_stage
from wpflow.final.tables import report_cell, status_counts
from wpflow.report.http_server import report_link
from wpflow.workspace import slug_of, workspace


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=300)
def tell_wp_story(project: str, wp_id: str, as_of: date) -> WPStory:
    """The WP's milestones as their reports said, read from the store as of the day."""
    return wp_story_stage(workspace(project), wp_id, as_of)


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=600)
def tell_project_story(project: str, as_of: date) -> ProjectStory:
    """The consortium, the WPs, the cities, the meetings and every version issued."""
    return project_story_stage(workspace(project), as_of)


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=600)
def issue_final_report(project: str, story: WPStory | ProjectStory) -> FinalIssue:
    """A draft before the end; from then on the version for this content, rendered once."""
    issued = issue_story(workspace(project), story)
    get_run_logger().info("%s (fingerprint %s)", issued.message, issued.fingerprint[:16])
    return issued


@task(retries=3, retry_delay_seconds=[5, 30, 120], timeout_seconds=300, retry_condition_fn=retry_when_worthwhile)
def send_final_report(project: str, story: WPStory | ProjectStory, issued: FinalIssue) -> list[Notice]:
    """Each recipient once per content; a draft to nobody."""
    notices = send_story(workspace(project), story, issued)
    log_notices(f"{issued.report} report", notices)
    return notices


def artifact_key(project: str, report: str, what: str) -> str:
    """`baltmet-inno-wp4-final-report`: per project, as the milestones' artifacts."""
    return f"{slug_of(project)}-{report.lower()}-final-{what}"


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=60)
def publish_final_artifacts(project: str, story: WPStory | ProjectStory, issued: FinalIssue) -> None:
    """The milestones table, the story in short and the report's link, as for a milestone."""
    wps = [story] if isinstance(story, WPStory) else story.wps
    create_table_artifact(
        key=artifact_key(project, issued.report, "milestones"),
        table=[
            {
                "wp": w.wp_id,
                "milestone": m.milestone_id,
                "due": m.due.isoformat(),
                "report": report_cell(m),
                "inputs": status_counts(d.status for d in m.deliveries),
            }
            for w in wps
            for m in w.milestones
        ],
        description=f"{issued.report}: the milestones and the report in force for each",
    )
    lines = [f"# {issued.report} final report" + (" (draft)" if issued.release == "draft" else "")]
    lines += [f"- {line}" for line in story_lines(story)]
    lines += ["", f"**{issued.message}**"]
    create_markdown_artifact(
        key=artifact_key(project, issued.report, "summary"), markdown="\n".join(lines), description=issued.message
    )
    create_link_artifact(
        key=artifact_key(project, issued.report, "report"),
        link=report_link(workspace(project).settings, Path(issued.path)),
        link_text=Path(issued.path).name,
        description=f"{issued.report}: Word report",
    )
