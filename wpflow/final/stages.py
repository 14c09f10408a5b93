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
from wpflow.files import file_sha256
from wpflow.final.issue import issue_line, issue_story, send_story
from wpflow.final.project_story import FINAL, build_project_story, project_release_day
from wpflow.final.render import FINAL_TEMPLATE, WP_TEMPLATE
from wpflow.final.wp_story import build_wp_story, snapshot, wp_release_day
from wpflow.issue.content import digest
from wpflow.mail.idempotency import in_project
from wpflow.report.narrative import narrative_path
from wpflow.workspace import Workspace


def wp_story_stage(ws: Workspace, wp_id: str, as_of: date) -> WPStory:
    snap = snapshot(ws.project, ws.store, as_of)
    return build_wp_story(ws.project, ws.project.work_package(wp_id).id, snap, ws.settings.project)


def project_story_stage(ws: Workspace, as_of: date) -> ProjectStory:
    """Read after the WP reports were issued, so the annex lists them and their e-mails."""
    snap = snapshot(ws.project, ws.store, as_of)
    return build_project_story(ws.project, ws.store, snap, folder=ws.settings.project)


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
    first ladder day after the end.

    Whether a report is up to date is the store's to say: a report issued and sent is recorded
    as a finished claim keyed by what it is built from (`inputs_key`), and a WP whose key is
    recorded is not even read. That holds in every process — a deployed ladder run is a fresh
    one each day — and keeps a daily run cheap: the key costs one list of versions, a story
    reads every milestone summary of the WP. A report whose sending failed is not recorded, so
    the next run tries again (only the e-mails still unsent go)."""
    project = ws.project
    issued: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for version in ws.store.versions(project.name):
        issued[version.milestone_id].append((version.version, version.fingerprint))
    done = ws.store.finished_claims(project.name)
    issues: list[FinalIssue] = []
    keys: dict[str, str] = {}
    for wp in project.work_packages:
        if wp_release_day(project, wp) > day:
            continue
        keys[wp.id] = inputs_key(ws, wp.id, WP_TEMPLATE, [(m.id, issued.get(m.id, [])) for m in wp.milestones])
        if keys[wp.id] not in done:
            issues.append(record_done(ws, wp.id, keys[wp.id], finished(ws, wp_story_stage(ws, wp.id, day))))
    if project_release_day(project) <= day:
        key = inputs_key(ws, FINAL, FINAL_TEMPLATE, sorted(keys.items()))
        if key not in done:
            issues.append(record_done(ws, FINAL, key, finished(ws, project_story_stage(ws, day))))
    return issues


def inputs_key(ws: Workspace, report: str, template: str, inputs: object) -> str:
    """The claim key of a final report built from `inputs` (its milestones' versions and
    fingerprints; the joint report: its WP reports' keys), its template's bytes and the
    project's definition: a changed template or project.yaml makes a new key, as it may make a
    new version."""
    definition = ws.project.model_dump(mode="json")
    parts = {
        "report": report,
        "inputs": inputs,
        "template": file_sha256(ws.settings.templates / template),
        "narratives": narratives_key(ws, report),
    }
    return in_project(ws.project.name, f"final-report:{digest({**parts, 'project': definition})}")


def narratives_key(ws: Workspace, report: str) -> dict[str, str]:
    """The coordinator's narratives a report prints (the joint report: its own and every WP's),
    by their bytes: an edited narrative is new content, and the ladder re-issues the report."""
    ids = [report] if report != FINAL else [FINAL, *(wp.id for wp in ws.project.work_packages)]
    found = {i: narrative_path(ws.settings.project, ws.project, i) for i in ids}
    return {i: file_sha256(path) for i, path in found.items() if path.is_file()}


def record_done(ws: Workspace, report: str, key: str, issued: FinalIssue) -> FinalIssue:
    """Record in the store that the report for `key` is issued and sent."""
    ws.store.claim(key, project=ws.project.name, milestone=report, purpose="final-report")
    ws.store.finish_claim(key, issued.fingerprint)
    return issued
