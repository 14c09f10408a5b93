"""The final reports' tables as marker fills (`wpflow.report.docx_tables`): rows of text measured
before they are written, so a column is as wide as its content needs and nothing breaks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from schemas.final import (
    CityWPCell,
    ConsortiumMember,
    InputUsed,
    MergedTable,
    MilestoneChapter,
    SentVersion,
    TimelineMeeting,
)
from wpflow.report.docx_tables import MARKER_PREFIX, Column, TableFill
from wpflow.report.plain_words import format_value, kind_title, long_date, month_words
from wpflow.report.render import field_units
from wpflow.report.table_layout import column_need

SMALL_PT = 9.0  # the small-print tables of the templates (scripts/build_final_templates.py)
STATUS_ORDER = ("on time", "late", "invalid", "missing", "open")


def key(name: str) -> str:
    """The marker a template cell renders to, and the fill's key."""
    return f"{MARKER_PREFIX}{name}"


def text_fill(
    headers: Sequence[str | tuple[str, bool]], rows: Iterable[Sequence[str]], *, landscape_ok: bool = False
) -> TableFill:
    """A table of texts: the first cell labels the row; a header given as (label, True) is a
    numeric column (right-aligned, never wrapped). Text wraps between words, so these tables
    stay on the portrait page unless `landscape_ok` (one turned page per milestone reads badly)."""
    texts = [list(r) for r in rows]
    columns = [Column(h, h, "", False) if isinstance(h, str) else Column(h[0], h[0], "", h[1]) for h in headers]
    needs = [
        column_need(c.label, {r[n] for r in texts}, numeric=c.numeric, font_pt=SMALL_PT)
        for n, c in enumerate(columns, start=1)
    ]
    return TableFill(columns, texts, labels={r[0] for r in texts}, needs=needs, landscape_ok=landscape_ok)


def status_counts(statuses: Iterable[str]) -> str:
    """'6 on time, 1 late, 1 missing' — the statuses counted, in reading order."""
    counts = Counter(statuses)
    parts = [f"{counts[s]} {s}" for s in STATUS_ORDER if counts.get(s)]
    parts += [f"{n} {s}" for s, n in counts.items() if s not in STATUS_ORDER]
    return ", ".join(parts) or "—"


def report_cell(m: MilestoneChapter) -> str:
    if m.standing == "reported" and m.report_version is not None and m.report_as_of is not None:
        return f"v{m.report_version} of {long_date(m.report_as_of)}, {m.report_status}"
    return {"nothing arrived": "none: nothing arrived", "not yet due": "not yet due"}.get(m.standing, "none yet")


def milestones_fill(chapters: list[MilestoneChapter]) -> TableFill:
    rows = [
        [
            m.milestone_id,
            m.title,
            long_date(m.due),
            report_cell(m),
            status_counts(d.status for d in m.deliveries) if m.deliveries else "no inputs asked for",
        ]
        for m in chapters
    ]
    return text_fill(["Title", "Due", "Report", "Inputs"], rows)


def deliveries_fill(m: MilestoneChapter) -> TableFill:
    """Partner, city, status, arrival and file; the input's kind only when the milestone asks
    for more than one (the sentence above the table names a single one), so the long file
    names keep their room."""
    several = len({d.kind for d in m.deliveries}) > 1
    rows = [
        [
            d.organisation,
            d.city,
            *([kind_title(d.kind)] if several else []),
            d.status,
            long_date(d.arrived) if d.arrived else "—",
            f"{d.file_name} (v{d.version})" if d.file_name else "—",
        ]
        for d in m.deliveries
    ]
    return text_fill(["City", *(["Input"] if several else []), "Status", "Arrived", "File"], rows)


def comparative_fill(merged: MergedTable) -> TableFill:
    """One row per city (per city and milestone when merged), the totals row from the reports."""
    table = merged.table
    units = field_units(table.kind)
    columns = [Column(c, c, units.get(c, "")) for c in table.columns]
    rows = [[str(r["city"]), *(format_value(r.get(c.key), c.unit) for c in columns)] for r in table.rows]
    total = [format_value(table.totals.get(c.key), c.unit) for c in columns]
    needs = [
        column_need(c.label, [r[n] for r in rows] + [total[n - 1]], numeric=True) for n, c in enumerate(columns, 1)
    ]
    return TableFill(columns, rows, total, labels={r[0] for r in rows}, needs=needs, landscape_ok=True)


def meetings_fill(meetings: list[TimelineMeeting], *, with_wp: bool) -> TableFill:
    rows = [
        [
            month_words(x.month),
            x.city,
            *([x.wp_id] if with_wp else []),
            x.topic,
            x.milestone_id,
            "assumed" if x.assumed else "",
        ]
        for x in meetings
    ]
    return text_fill(["City", *(["WP"] if with_wp else []), "Topic", "Milestone", "Note"], rows)


def inputs_fill(inputs: list[InputUsed]) -> TableFill:
    rows = [[i.file_name, i.organisation, i.milestone_id, kind_title(i.kind), str(i.version), i.sha256] for i in inputs]
    return text_fill(["Partner", "Milestone", "Input", ("Version", True), "SHA-256"], rows, landscape_ok=True)


def figures_fill(tables: list[MergedTable]) -> TableFill:
    rows = []
    for merged in tables:
        units = field_units(merged.table.kind)
        cities = len({str(r["city"]).split(" · ")[0] for r in merged.table.rows})
        for measure in merged.table.columns:
            rows.append(
                [
                    merged.table.label,
                    measure,
                    format_value(merged.table.totals.get(measure), units.get(measure, "")),
                    str(cities) if merged.table.rows else "—",
                    ", ".join(merged.milestones),
                ]
            )
    return text_fill(["Measure", ("Total", True), ("Cities", True), "From"], rows)


def members_fill(members: list[ConsortiumMember]) -> TableFill:
    rows = [[p.organisation, p.city, p.country, p.role, p.disputed or ""] for p in members]
    return text_fill(["City", "Country", "Role", "Where the sources disagree"], rows)


def matrix_fill(cities: list[str], wp_ids: list[str], matrix: list[CityWPCell]) -> TableFill:
    cell = {(c.city, c.wp_id): c.counts for c in matrix}
    rows = [[city, *(status_counts(_expand(cell.get((city, wp), {}))) for wp in wp_ids)] for city in cities]
    return text_fill(wp_ids, rows)


def _expand(counts: dict[str, int]) -> list[str]:
    return [s for s, n in counts.items() for _ in range(n)]


def versions_fill(versions: list[SentVersion]) -> TableFill:
    rows = [
        [v.report, str(v.version), long_date(v.as_of), v.status, str(v.recipients), v.fingerprint[:16]]
        for v in versions
    ]
    return text_fill([("Version", True), "As of", "Status", ("E-mails", True), "Fingerprint"], rows)
