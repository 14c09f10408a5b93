"""The final reports' stages as plain functions over a `Workspace`, and their direct run.

`flows/final_report.py` tells the same story with a Prefect task per stage; `wpflow report
--direct` calls `report_direct` here. Both read the store only: a WP report shows what the
milestone reports said (their kept summaries), never the partners' files.
"""

from __future__ import annotations

from datetime import date

from schemas.final import FinalIssue, ProjectStory, WPStory
from schemas.records import Notice
from wpflow.final_reports import issue_line, issue_story, send_story
from wpflow.project_story import build_project_story
from wpflow.workspace import Workspace
from wpflow.wp_story import build_wp_story, snapshot


def wp_story_stage(ws: Workspace, wp_id: str, as_of: date) -> WPStory:
    return build_wp_story(ws.project, ws.project.work_package(wp_id).id, snapshot(ws.project, ws.store, as_of))


def project_story_stage(ws: Workspace, as_of: date) -> ProjectStory:
    """Read after the WP reports were issued, so the annex lists them and their e-mails."""
    return build_project_story(ws.project, ws.store, snapshot(ws.project, ws.store, as_of))


def report_direct(ws: Workspace, wp_ids: list[str], as_of: date | None, *, project: bool) -> list[FinalIssue]:
    """The WP reports named (each issued and sent), then — with `project` — the joint final
    report built from them. Same stages, same order as the flows."""
    day = as_of or date.today()
    issues = []
    for wp_id in wp_ids:
        story = wp_story_stage(ws, wp_id, day)
        issues.append(finished(ws, story))
    if project:
        issues.append(finished(ws, project_story_stage(ws, day)))
    return issues


def finished(ws: Workspace, story: WPStory | ProjectStory) -> FinalIssue:
    issued = issue_story(ws, story)
    notices: list[Notice] = send_story(ws, story, issued)
    return issued.model_copy(update={"message": issue_line(issued, notices)})
