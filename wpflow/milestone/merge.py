"""Merge: the valid latest input of every partner → one `WPSummary` for the milestone.

Comparative tables have one row per city (organisations of one city are summed, since the
report compares metropolises, not organisations) and a totals row. Personal data (marketing
contacts' names, e-mails, phones) is dropped here, so no later stage can leak it into a report
that goes to all partners.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from schemas.inputs import UNIT, InputKind, Measure
from schemas.project import Milestone, Project
from schemas.records import (
    CheckedSubmission,
    ComparativeTable,
    MeetingRow,
    NarrativeBlock,
    PartnerState,
    PartnerStatus,
    ReportStatus,
    Submission,
    ValidationResult,
    WPSummary,
)
from wpflow.issue.header import document_header
from wpflow.project.check import check_project
from wpflow.report.frame import report_frame
from wpflow.report.plain_words import prose_dates


def merge_summary(
    project: Project,
    milestone: Milestone,
    checked: Iterable[CheckedSubmission],
    as_of: date,
    *,
    folder: Path | None = None,
) -> WPSummary:
    """Build the milestone's summary from validated submissions (any versions, any order);
    with the project's `folder`, its frame carries the emblem and the coordinator's narrative."""
    checked = list(checked)
    usable = _newest_valid(checked)
    wp = project.work_package(milestone.wp_id)
    partners = partner_states(
        project, milestone, [Delivery.of(c.submission, c.result) for c in checked if c.result.kind or c.submission.kind]
    )
    required_kinds = [r.kind for r in milestone.inputs]
    city_of = {p.id: p.city for p in project.participants}
    order = _city_order(project)
    tables, narratives = [], []
    for kind_id in dict.fromkeys(required_kinds):
        kind = project.input_kind(kind_id)
        delivered = sorted(
            (c for (pid, k), c in usable.items() if k == kind_id),
            key=lambda c: (order.get(city_of[c.submission.partner], 99), c.submission.partner),
        )
        if kind.shape == "rows":
            tables.append(comparative_table(kind, delivered, city_of, order))
        else:
            narratives += [narrative_block(kind, c, city_of[c.submission.partner]) for c in delivered]
    missing = sorted({s.city for s in partners if s.status == PartnerStatus.missing}, key=lambda c: order.get(c, 99))
    complete = all(s.status.delivered for s in partners)
    return WPSummary(
        **document_header(project),
        wp_id=wp.id,
        wp_title=wp.title,
        milestone_id=milestone.id,
        milestone_title=milestone.title,
        start=milestone.start,
        end=milestone.end,
        due=milestone.due,
        as_of=as_of,
        activities=list(milestone.activities),
        meetings=[
            MeetingRow(city=x.city or "not stated", month=x.month or "not stated", topic=x.topic, assumed=x.assumed)
            for x in milestone.all_meetings()
        ],
        tables=tables,
        narratives=narratives,
        partners=partners,
        missing=missing,
        inputs=sorted((c.submission for c in usable.values()), key=lambda s: (s.partner, s.kind or "", s.version)),
        status=ReportStatus.complete if complete else ReportStatus.incomplete,
        kind_titles={k: project.input_kind(k).label for k in dict.fromkeys(required_kinds)},
        document_kinds=[k for k in dict.fromkeys(required_kinds) if project.input_kind(k).shape != "rows"],
        organisations={p.id: p.organisation for p in project.participants},
        source_notes=milestone_notes(project, milestone),
        frame=report_frame(
            project,
            folder,
            milestone.id,
            wp_id=wp.id,
            kinds=required_kinds,
            asked={r.kind: r.note or "" for r in milestone.inputs},
        ),
    )


def milestone_notes(project: Project, milestone: Milestone) -> list[str]:
    """What `wpflow project check` warns about this milestone (contradictions, gaps), so its
    report says where its own sources disagree instead of leaving the reader to find out."""
    return [f.message for f in check_project(project) if f.severity == "warning" and milestone.id in f.where.split("/")]


def _newest_valid(checked: list[CheckedSubmission]) -> dict[tuple[str, str], CheckedSubmission]:
    """Per (partner, kind) the newest *valid* submission: a broken re-upload must not throw
    away the partner's last good data."""
    usable: dict[tuple[str, str], CheckedSubmission] = {}
    rank = lambda c: (c.submission.version, c.submission.modified_at, c.submission.received_at)  # noqa: E731
    for c in checked:
        kind = c.result.kind or c.submission.kind
        if (
            kind
            and c.result.valid
            and ((c.submission.partner, kind) not in usable or rank(c) > rank(usable[(c.submission.partner, kind)]))
        ):
            usable[(c.submission.partner, kind)] = c
    return usable


@dataclass(frozen=True)
class Delivery:
    """A submission reduced to what the status of a partner depends on. Not a boundary of its
    own: built from a `Submission` (with its `ValidationResult` where one is at hand) by `of`
    only, whether the submission comes from a run (merge), the store (status, the daily ladder)
    or an inbox validated in place (the rehearsal)."""

    partner: str
    kind: str
    arrived: date
    valid: bool
    version: int = 1
    file_name: str | None = None
    sha256: str | None = None
    errors: int = 0

    @classmethod
    def of(cls, sub: Submission, result: ValidationResult | None = None) -> Delivery:
        """The delivery of `sub`: valid as `result` says, or as the store recorded it
        (`SubmissionStatus.passed`) when only the stored row is at hand (no error count then)."""
        return cls(
            partner=sub.partner,
            kind=(result.kind if result is not None else None) or sub.kind or "",
            arrived=sub.modified_at.date(),
            valid=result.valid if result is not None else sub.status.passed,
            version=sub.version,
            file_name=sub.file_name,
            sha256=sub.sha256,
            errors=len(result.errors) if result is not None else 0,
        )


def partner_states(project: Project, milestone: Milestone, deliveries: Iterable[Delivery]) -> list[PartnerState]:
    """on time / late / missing / invalid for every partner that owes a required input.

    The newest delivery decides: a broken re-upload makes the partner "invalid" even if an
    older valid version exists (merge still uses that one's data).
    """
    newest: dict[tuple[str, str], Delivery] = {}
    for d in deliveries:
        key = (d.partner, d.kind)
        if key not in newest or (d.version, d.arrived) > (newest[key].version, newest[key].arrived):
            newest[key] = d
    states = []
    for req in milestone.inputs:
        for p in project.deliverers(req):
            found = newest.get((p.id, req.kind))
            if found is None:
                status = PartnerStatus.missing
            elif not found.valid:
                status = PartnerStatus.invalid
            else:
                status = PartnerStatus.on_time if found.arrived <= milestone.due else PartnerStatus.late
            states.append(
                PartnerState(
                    partner=p.id,
                    city=p.city,
                    kind=req.kind,
                    status=status,
                    file_name=found.file_name if found else None,
                    version=found.version if found else None,
                    sha256=found.sha256 if found else None,
                    errors=found.errors if found else 0,
                )
            )
    return states


def _city_order(project: Project) -> dict[str, int]:
    order: dict[str, int] = {}
    for p in project.participants:
        order.setdefault(p.city, len(order))
    return order


def measure_value(measure: Measure, rows: list[dict[str, Any]]) -> float:
    """A measure over one city's rows: a count (optionally filtered) or a column's sum."""
    if measure.where is not None:
        column, wanted = measure.where
        rows = [r for r in rows if r.get(column) == wanted]
    if measure.column is None:
        return len(rows)
    return sum(float(r.get(measure.column) or 0) for r in rows)


def comparative_table(
    kind: InputKind, delivered: list[CheckedSubmission], city_of: dict[str, str], order: dict[str, int]
) -> ComparativeTable:
    by_city: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in delivered:
        by_city[city_of[c.submission.partner]].extend(c.result.rows)
    personal = kind.personal_columns()
    detail_columns = [col for col in kind.columns() if col not in personal]
    measures = [*kind.measures, *grouped_measures(kind, by_city.values())]
    labels = [m.label for m in measures]
    rows, totals = [], dict.fromkeys(labels, 0.0)
    for city in sorted(by_city, key=lambda c: order.get(c, 99)):
        row: dict[str, Any] = {"city": city}
        for m in measures:
            row[m.label] = measure_value(m, by_city[city])
            totals[m.label] += row[m.label]
        rows.append(row)
    details = [
        {"city": city, **{col: r.get(col) for col in detail_columns}}
        for city in sorted(by_city, key=lambda c: order.get(c, 99))
        for r in by_city[city]
    ]
    return ComparativeTable(
        kind=kind.id,
        label=kind.label,
        columns=labels,
        rows=rows,
        totals=totals,
        detail_columns=detail_columns,
        details=details,
        **kind_notes(kind, measures),
    )


def kind_notes(kind: InputKind, measures: Iterable[Measure]) -> dict[str, Any]:
    """What the report needs to know of a table's kind (units, which measures sum, the chart,
    the category field, the personal columns), carried with the table: rendering needs no kinds."""
    measures = list(measures)
    return {
        "measure_units": {m.label: m.unit for m in measures if m.unit},
        "field_units": field_units(kind),
        "summed": {m.label: m.column for m in measures if m.column},
        "chart": kind.chart,
        "category": next((name for name, f in kind.model.model_fields.items() if _is_choice(f.annotation)), None),
        "personal": sorted(kind.personal_columns()),
    }


def grouped_measures(kind: InputKind, rows: Iterable[list[dict[str, Any]]]) -> list[Measure]:
    """A count per value of the kind's `group_by` column, in the order the values first appear."""
    if kind.group_by is None:
        return []
    values = dict.fromkeys(r.get(kind.group_by) for city_rows in rows for r in city_rows)
    return [Measure(str(v), where=(kind.group_by, v)) for v in values if v is not None]


def field_units(kind: InputKind) -> dict[str, str]:
    """Units of a kind's fields (`json_schema_extra={"unit": …}`); a year without one is a year
    all the same (never "1 999")."""
    units = {}
    for name, f in kind.model.model_fields.items():
        if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get(UNIT):
            units[name] = str(f.json_schema_extra[UNIT])
        elif (f.description or "").startswith("Year "):
            units[name] = "year"
    return units


def _is_choice(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is not None and str(annotation).startswith("typing.Literal")


def narrative_block(kind: InputKind, c: CheckedSubmission, city: str) -> NarrativeBlock:
    """Flatten a narrative or meeting report into a title and Markdown paragraphs (section
    headings as `###`, outcomes as list items), which the report shows as headings and lists."""
    doc = c.result.document or {}
    paragraphs: list[str] = []
    if kind.is_meeting_report:
        title = f"{city}: {doc.get('title', 'Meeting report')}"
        paragraphs.append(f"Date: {prose_dates(str(doc.get('date')))} · Host city: {doc.get('city')}")
        attendance = doc.get("attendance") or []
        if attendance:
            total = sum(int(a.get("participants") or 0) for a in attendance)
            per_city = ", ".join(f"{a['city']} {a['participants']}" for a in attendance)
            paragraphs.append(f"Participants: {total} ({per_city})")
        paragraphs += [f"- {o}" for o in doc.get("outcomes") or []]
    else:
        title = f"{city}: {doc.get('title') or kind.label}"
    for section in doc.get("sections") or []:
        paragraphs.append(f"### {section['heading']}")  # Markdown, as the rest: the report shows a heading
        paragraphs += [p.strip() for p in str(section["text"]).split("\n\n") if p.strip()]
    return NarrativeBlock(city=city, kind=kind.id, title=title, paragraphs=paragraphs)
