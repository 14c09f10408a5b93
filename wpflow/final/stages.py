"""The final reports' stages as plain functions over a `Workspace`, and their direct run.

`flows/final_report.py` tells the same story with a Prefect task per stage; `wpflow report
--direct` calls `report_direct` here. Both read the store only: a WP report shows what the
milestone reports said (their kept summaries), never the partners' files.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from schemas.final import FinalIssue, ProjectStory, WPStory
from schemas.records import Notice
from wpflow.final.issue import issue_line, issue_story, send_story
from wpflow.final.project_story import FINAL, build_project_story, project_release_day
from wpflow.final.wp_story import build_wp_story, snapshot, wp_release_day
from wpflow.workspace import Workspace


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


def update_final_reports(ws: Workspace, day: date) -> list[FinalIssue]:
    """The daily ladder's last step: from a WP's end on, its final report follows its
    milestones — a late or corrected file that brought a milestone report's next version brings
    the WP report's next version, and the joint report's, each e-mailed once. Issued on the
    first ladder day after the end; afterwards a WP whose milestones' versions are as at this
    process's last look is not even read, so a daily run stays cheap."""
    project = ws.project
    issued: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for version in ws.store.versions(project.name):
        issued[version.milestone_id].append((version.version, version.fingerprint))
    issues: list[FinalIssue] = []
    seen: dict[str, object] = {}
    for wp in project.work_packages:
        if wp_release_day(project, wp) > day:
            continue
        seen[wp.id] = tuple((m.id, tuple(issued.get(m.id, ()))) for m in wp.milestones)
        if ws.final_seen.get(wp.id) != seen[wp.id]:
            issues.append(finished(ws, wp_story_stage(ws, wp.id, day)))
            ws.final_seen[wp.id] = seen[wp.id]
    if project_release_day(project) <= day and ws.final_seen.get(FINAL) != (whole := tuple(seen.items())):
        issues.append(finished(ws, project_story_stage(ws, day)))
        ws.final_seen[FINAL] = whole
    return issues
