"""The project's story for its joint final report, read from the store as of one day.

The consortium (and where the sources disagree about it), a chapter per WP built from that
WP's own story — the WP that compiles the others (WP5 in BaltMet Inno: "Work Package 5
compiles the work of the other work packages") closes the row —, the cities across all WPs
(the same statuses `wpflow status` shows, counted per WP), every meeting on one timeline, and
every report version issued.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from schemas.final import CityWPCell, ConsortiumMember, ProjectStory, SentVersion, WPStory
from schemas.project import Participant, Project
from wpflow.final.wp_story import Snapshot, build_wp_story, month_key
from wpflow.issue.header import document_header
from wpflow.milestone.status import status_matrix
from wpflow.project.check import Finding
from wpflow.report.frame import report_frame
from wpflow.report.plain_words import sentence

FINAL = "final"


def project_release_day(project: Project) -> date:
    return project.end + timedelta(days=project.deadlines.grace_days)


def city_partners(project: Project) -> list[Participant]:
    """The cities' columns of `wpflow status`: each partner city's local co-ordinator."""
    return [p for p in project.participants if p.local_coordinator and p.role != "observer"]


def build_project_story(
    project: Project, store: Any, snap: Snapshot, wps: dict[str, WPStory] | None = None, folder: Path | None = None
) -> ProjectStory:
    """`wps`: the WP stories already built for the WP reports of the same run (built here
    otherwise); `folder`: the project folder, for the emblem and the coordinators' narratives."""
    stories = wps or {wp.id: build_wp_story(project, wp.id, snap, folder) for wp in project.work_packages}
    compiler = next((wp.id for wp in project.work_packages if wp.compiles), None)
    order = [wp.id for wp in project.work_packages if wp.id != compiler] + ([compiler] if compiler else [])
    lead = project.participant(project.lead)
    return ProjectStory(
        **document_header(project),
        start=project.start,
        end=project.end,
        as_of=snap.as_of,
        lead=f"{lead.organisation} ({lead.city})",
        members=[member(p) for p in project.participants],
        consortium_notes=consortium_notes(project, snap.findings),
        wps=[stories[i] for i in order],
        compiler=compiler,
        cities=[p.city for p in city_partners(project)],
        matrix=city_matrix(project, store, snap.as_of),
        meetings=sorted(
            (x for i in order for x in stories[i].meetings), key=lambda x: (month_key(x.month), x.milestone_id)
        ),
        versions=sent_versions(project, snap),
        status="final" if snap.as_of >= project_release_day(project) else "draft",
        material=project.final_report,
        frame=report_frame(project, folder, FINAL) if folder is not None else None,
    )


def member(p: Participant) -> ConsortiumMember:
    roles = {c.role for c in p.role_claims} | {p.role}
    disputed = None
    if len(roles) > 1:
        disputed = "; ".join(f"{c.source}: {c.role}" for c in p.role_claims) + f" — used here: {p.role}"
    return ConsortiumMember(
        organisation=p.organisation, city=p.city, country=p.country, role=p.role, disputed=disputed, assumed=p.assumed
    )


def consortium_notes(project: Project, findings: list[Finding]) -> list[str]:
    """`wpflow project check`'s warnings about the project and its participants (not a WP's)."""
    wp_ids = {wp.id for wp in project.work_packages} | {m.id for m in project.milestones()}
    return [sentence(f.message) for f in findings if f.severity == "warning" and not (wp_ids & set(f.where.split("/")))]


def city_matrix(project: Project, store: Any, as_of: date) -> list[CityWPCell]:
    """Per city and WP, how many milestones stood at each status — `wpflow status`'s cells
    (the worst status over a milestone's inputs; "open" before the due date), counted."""
    rows = {r["milestone"]: r["partners"] for r in status_matrix(project, store, as_of)}
    cells = []
    for p in city_partners(project):
        for wp in project.work_packages:
            counts = Counter(rows[m.id][p.id] for m in wp.milestones if p.id in rows.get(m.id, {}))
            cells.append(CityWPCell(city=p.city, partner=p.id, wp_id=wp.id, counts=dict(counts)))
    return cells


def sent_versions(project: Project, snap: Snapshot) -> list[SentVersion]:
    """Every milestone and WP report version issued by the as-of day, each WP's milestones and
    then its own report (the final report's own versions are not its annex's business: it
    cannot list itself)."""
    ids = [i for wp in project.work_packages for i in [*(m.id for m in wp.milestones), wp.id]]
    report_order = {rid: n for n, rid in enumerate(ids)}
    return [
        SentVersion(
            report=v.milestone_id,
            version=v.version,
            as_of=v.as_of,
            status=v.status,
            recipients=snap.sent.get((v.milestone_id, v.version), 0),
            fingerprint=v.fingerprint,
        )
        for v in sorted(snap.every_version, key=lambda v: (report_order.get(v.milestone_id, 99), v.version))
        if v.milestone_id != FINAL
    ]
