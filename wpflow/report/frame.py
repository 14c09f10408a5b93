"""A report's frame from its project: the author and coordinator by organisation, the
publicity block and its emblem, currencies, the definitions of the report's own input kinds,
the organisations the seeds do not name, and the coordinator's narrative.

Built once per report by whoever builds its summary (the milestone merge, the final reports),
so the renderer needs no project and the fingerprint sees everything the report says.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from schemas.deliverable import ReportFrame
from schemas.project import Participant, Project
from wpflow.files import file_sha256
from wpflow.report.narrative import load_narrative


def author_of(project: Project, wp_id: str | None) -> Participant:
    """Who writes the report: `deliverable.authorship.author`, by default the WP's coordinator
    (the lead partner for a report above the work packages)."""
    author = project.deliverable.authorship.author
    if author != "wp-coordinator":
        return project.participant(author)
    if wp_id is None:
        return coordinator_of(project)
    return project.participant(project.work_package(wp_id).coordinator)


def coordinator_of(project: Project) -> Participant:
    """Who answers for the project: `deliverable.authorship.coordinator`, by default the lead."""
    who = project.deliverable.authorship.coordinator
    return project.participant(project.lead if who == "lead" else who)


def report_frame(
    project: Project, folder: Path | None, report_id: str, *, wp_id: str | None = None, kinds: Iterable[str] = ()
) -> ReportFrame:
    """The frame of one report; without a project `folder` there is no emblem and no narrative."""
    d = project.deliverable
    author, coordinator = author_of(project, wp_id), coordinator_of(project)
    author_assumed = author.assumed or bool(
        wp_id and d.authorship.author == "wp-coordinator" and project.work_package(wp_id).coordinator_assumed
    )
    emblem = folder / d.publicity.emblem if folder is not None and d.publicity is not None else None
    wanted = set(kinds)
    return ReportFrame(
        report_id=report_id,
        author=author.organisation,
        author_assumed=author_assumed,
        coordinator=coordinator.organisation,
        coordinator_assumed=coordinator.assumed,
        publicity=d.publicity,
        emblem_path=str(emblem) if emblem is not None and emblem.is_file() else None,
        emblem_sha256=file_sha256(emblem) if emblem is not None and emblem.is_file() else None,
        currency=d.currency,
        conversion=d.conversion,
        rates=list(d.rates),
        definitions=[x for x in d.definitions if x.kind is None or x.kind in wanted],
        assumed_organisations=[p.id for p in project.participants if p.assumed],
        narrative=load_narrative(folder, project, report_id) if folder is not None else None,
    )
