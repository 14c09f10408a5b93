"""A work package's story across its milestones, read from the store as of one day.

What the WP's final report says: for each milestone the report version in force on the day
(and the summary it was rendered from, kept by `wpflow.store.summaries`), who delivered what and when,
the comparative tables merged across the milestones that ask for the same kind, the meetings
on a timeline, where the sources disagree, and every file used. Nothing here opens a partner's
file: a milestone without a report in force shows the statuses the store records for it, the
same `wpflow status` shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from schemas.final import (
    InputDelivery,
    InputUsed,
    MergedTable,
    MilestoneChapter,
    TimelineMeeting,
    WPStory,
)
from schemas.project import Milestone, Project, WorkPackage
from schemas.records import ComparativeTable, PartnerState, ReportVersion, WPSummary
from wpflow.issue.header import document_header
from wpflow.milestone.merge import Delivery, kind_notes, partner_states
from wpflow.milestone.status import as_deliveries
from wpflow.project.check import Finding, check_project
from wpflow.report.frame import report_frame
from wpflow.report.key_figures import key_figures
from wpflow.report.plain_words import sentence

NOT_STATED = "not stated"


@dataclass
class Snapshot:
    """What the store held on the as-of day, read once for every WP of a final report."""

    as_of: date
    versions: dict[str, ReportVersion]  # milestone (or WP, "final") → the version in force
    every_version: list[ReportVersion]  # every version issued by the as-of day, report order
    summaries: dict[tuple[str, int], WPSummary]
    deliveries: dict[str, list[Delivery]]  # milestone → validated files that had arrived
    arrivals: dict[str, date]  # sha256 → the day the file arrived
    sent: dict[tuple[str, int], int] = field(default_factory=dict)  # (report, version) → e-mails
    findings: list[Finding] = field(default_factory=list)


def snapshot(project: Project, store: Any, as_of: date) -> Snapshot:
    """Versions issued by `as_of` (the newest per report in force), their kept summaries, the
    files that had arrived, and the e-mails that carried each version."""
    every = [v for v in store.versions(project.name) if v.as_of <= as_of]
    versions: dict[str, ReportVersion] = {}
    for v in every:
        if v.milestone_id not in versions or v.version > versions[v.milestone_id].version:
            versions[v.milestone_id] = v
    submissions = [s for s in store.submissions(project.name) if s.modified_at.date() <= as_of]
    sent: dict[tuple[str, int], int] = defaultdict(int)
    for n in store.notifications(project.name):
        if n.report_version is not None:
            sent[(n.milestone, n.report_version)] += 1
    return Snapshot(
        as_of=as_of,
        versions=versions,
        every_version=every,
        summaries=store.kept_summaries(project.name),
        deliveries=as_deliveries(submissions, as_of),
        arrivals={s.sha256: s.modified_at.date() for s in submissions},
        sent=dict(sent),
        findings=check_project(project),
    )


# -- dates ------------------------------------------------------------------------------
def wp_period(wp: WorkPackage) -> tuple[date, date]:
    return min(m.start for m in wp.milestones), max(max(m.end, m.due) for m in wp.milestones)


def wp_release_day(project: Project, wp: WorkPackage) -> date:
    """The WP's final report is final from the end of its last milestone (plus the grace days)."""
    return wp_period(wp)[1] + timedelta(days=project.deadlines.grace_days)


# -- the story --------------------------------------------------------------------------
def build_wp_story(project: Project, wp_id: str, snap: Snapshot, folder: Path | None = None) -> WPStory:
    """`folder`: the project folder, for the publicity emblem and the coordinator's narrative
    (`narratives/<WP id>.md`); without it the story has neither."""
    wp = project.work_package(wp_id)
    start, end = wp_period(wp)
    coordinator = project.participant(wp.coordinator)
    chapters = [milestone_chapter(project, m, snap) for m in wp.milestones]
    outcomes = project.final_report.outcomes(wp.id)
    return WPStory(
        **document_header(project),
        wp_id=wp.id,
        wp_title=wp.title,
        objective=outcomes.objective if outcomes else (wp.theme or wp.title),
        objective_assumed=outcomes.assumed if outcomes else False,
        achievements=list(outcomes.achievements) if outcomes else [],
        frame=report_frame(project, folder, wp.id, wp_id=wp.id) if folder is not None else None,
        coordinator=f"{coordinator.organisation} ({coordinator.city})",
        start=start,
        end=end,
        as_of=snap.as_of,
        milestones=chapters,
        tables=merged_tables(project, wp, snap),
        meetings=wp_meetings(wp, set(project.final_report.reporting_sources), snap.as_of),
        source_notes=wp_notes(wp, snap.findings),
        inputs=inputs_used(project, wp, snap),
        status="final" if snap.as_of >= wp_release_day(project, wp) else "draft",
    )


def kept_summary(milestone_id: str, snap: Snapshot) -> WPSummary | None:
    version = snap.versions.get(milestone_id)
    return None if version is None else snap.summaries.get((milestone_id, version.version))


def milestone_chapter(project: Project, m: Milestone, snap: Snapshot) -> MilestoneChapter:
    """The version in force and its partners' statuses; without one, the store's statuses."""
    version = snap.versions.get(m.id)
    if version is not None:
        states = version.contents.states
        standing = "reported"
    else:
        states = partner_states(project, m, snap.deliveries.get(m.id, []))
        delivered = any(s.status in ("on time", "late") for s in states)
        standing = "not yet due" if snap.as_of <= m.due else ("not reported" if delivered else "nothing arrived")
    deliveries = [delivery(project, s, snap, open_=standing == "not yet due") for s in states]
    outcomes = project.final_report.outcomes(m.wp_id)
    summary = kept_summary(m.id, snap)
    return MilestoneChapter(
        milestone_id=m.id,
        title=m.title,
        start=m.start,
        end=m.end,
        due=m.due,
        activities=list(m.activities),
        standing=standing,
        report_version=version.version if version else None,
        report_as_of=version.as_of if version else None,
        report_status=version.status if version else None,
        fingerprint=version.fingerprint if version else None,
        summary_kept=version is None or (m.id, version.version) in snap.summaries,
        deliveries=deliveries,
        kind_titles={r.kind: project.input_kind(r.kind).label for r in m.inputs if r.kind in project.input_kinds},
        expected_outputs=[o.output for o in outcomes.outputs if o.milestone == m.id] if outcomes else [],
        key_figures=key_figures(summary) if summary is not None else [],
    )


def delivery(project: Project, s: PartnerState, snap: Snapshot, *, open_: bool) -> InputDelivery:
    who = project.participant(s.partner)
    return InputDelivery(
        partner=s.partner,
        organisation=who.organisation,
        city=s.city,
        kind=s.kind,
        status="open" if open_ and s.status == "missing" else s.status,
        file_name=s.file_name,
        version=s.version,
        sha256=s.sha256,
        arrived=snap.arrivals.get(s.sha256) if s.sha256 else None,
    )


def merged_tables(project: Project, wp: WorkPackage, snap: Snapshot) -> list[MergedTable]:
    """One table per row kind of the WP. A kind only one milestone asks for keeps that report's
    rows and totals as they were; rows of a kind several milestones ask for are labelled with
    their milestone ("Riga · WP1-M2") and the totals add up what the reports said."""
    by_kind: dict[str, list[tuple[str, ComparativeTable]]] = defaultdict(list)
    for m in wp.milestones:
        summary = kept_summary(m.id, snap)
        if summary is not None:
            for t in summary.tables:
                by_kind[t.kind].append((m.id, t))
        elif m.id in snap.versions:  # a version from before summaries were kept: its totals
            for label, totals in snap.versions[m.id].contents.totals.items():
                found = next((v for v in project.input_kinds.values() if v.label == label), None)
                kind = found.id if found is not None else label
                notes = kind_notes(found, found.measures) if found is not None else {}
                table = ComparativeTable(kind=kind, label=label, columns=list(totals), rows=[], totals=totals, **notes)
                by_kind[kind].append((m.id, table))
    out = []
    for parts in by_kind.values():
        first = parts[0][1]
        if len(parts) == 1:
            out.append(MergedTable(milestones=[parts[0][0]], table=first))
            continue
        columns = list(dict.fromkeys(c for _, t in parts for c in t.columns))
        rows = [{**r, "city": f"{r['city']} · {mid}"} for mid, t in parts for r in t.rows]
        totals = {c: sum(t.totals.get(c, 0.0) for _, t in parts) for c in columns}
        table = first.model_copy(
            update={"columns": columns, "rows": rows, "totals": totals, "detail_columns": [], "details": []}
        )
        out.append(MergedTable(milestones=[mid for mid, _ in parts], table=table))
    return out


def month_key(month: str) -> str:
    return month if month != NOT_STATED else "9999-99"


def wp_meetings(wp: WorkPackage, reporting: set[str], as_of: date) -> list[TimelineMeeting]:
    """The WP's meetings; one a reporting source (not a work plan) names, in a month before the
    as-of day, is reported held."""
    meetings = [
        TimelineMeeting(
            month=x.month or NOT_STATED,
            city=x.city or NOT_STATED,
            topic=x.topic,
            wp_id=wp.id,
            milestone_id=m.id,
            assumed=x.assumed,
            reported=bool(x.source in reporting and x.month and x.month <= as_of.isoformat()[:7]),
        )
        for m in wp.milestones
        for x in m.all_meetings()
    ]
    return sorted(meetings, key=lambda x: (month_key(x.month), x.milestone_id))


def wp_notes(wp: WorkPackage, findings: list[Finding]) -> list[str]:
    """The warnings of `wpflow project check` about the WP or one of its milestones."""
    ids = {wp.id, *(m.id for m in wp.milestones)}
    return [sentence(f.message) for f in findings if f.severity == "warning" and ids & set(f.where.split("/"))]


def inputs_used(project: Project, wp: WorkPackage, snap: Snapshot) -> list[InputUsed]:
    used = []
    for m in wp.milestones:
        summary = kept_summary(m.id, snap)
        version = snap.versions.get(m.id)
        if summary is None or version is None:
            continue
        for s in summary.inputs:
            used.append(
                InputUsed(
                    milestone_id=m.id,
                    partner=s.partner,
                    organisation=project.participant(s.partner).organisation,
                    kind=s.kind or "",
                    file_name=s.file_name,
                    version=s.version,
                    sha256=s.sha256,
                    report_version=version.version,
                )
            )
    return used
