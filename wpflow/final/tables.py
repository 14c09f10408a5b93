"""The final reports' tables as marker fills (`wpflow.report.docx_tables`): rows of text measured
before they are written, so a column is as wide as its content needs and nothing breaks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from schemas.final import (
    Budget,
    CityWPCell,
    ConsortiumMember,
    FollowUpInitiative,
    InputUsed,
    MergedTable,
    MilestoneChapter,
    SentVersion,
    TimelineMeeting,
)
from wpflow.final.deliverable import delivered_text
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


def deliveries_fill(m: MilestoneChapter) -> TableFill:
    """Partner, city, status, arrival and file; the input's kind only when the milestone asks
    for more than one (the sentence above the table names a single one), so the long file
    names keep their room."""
    several = len({d.kind for d in m.deliveries}) > 1
    rows = [
        [
            d.organisation,
            d.city,
            *([kind_title(d.kind, m.kind_titles)] if several else []),
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
    units = field_units(table)
    columns = [Column(c, c, units.get(c, "")) for c in table.columns]
    rows = [[str(r["city"]), *(format_value(r.get(c.key), c.unit) for c in columns)] for r in table.rows]
    total = [format_value(table.totals.get(c.key), c.unit) for c in columns]
    needs = [
        column_need(c.label, [r[n] for r in rows] + [total[n - 1]], numeric=True) for n, c in enumerate(columns, 1)
    ]
    return TableFill(columns, rows, total, labels={r[0] for r in rows}, needs=needs, landscape_ok=True)


def meetings_fill(meetings: list[TimelineMeeting], *, with_wp: bool) -> TableFill:
    """Numbered as the dots of the timeline chart are."""
    rows = [
        [
            str(n),
            month_words(x.month) + (" *" if x.assumed else ""),
            x.city,
            *([x.wp_id] if with_wp else []),
            x.topic,
            x.milestone_id,
            "held" if x.reported else "planned",
        ]
        for n, x in enumerate(meetings, start=1)
    ]
    return text_fill(["Month", "City", *(["WP"] if with_wp else []), "Topic", "Milestone", "Status"], rows)


def inputs_fill(inputs: list[InputUsed]) -> TableFill:
    """Portrait (a turned page at the end of a report leaves a blank one after it): the file's
    SHA-256 shortened to the 16 characters that identify it among the project's files."""
    rows = [[i.milestone_id, i.organisation, i.file_name, str(i.version), i.sha256[:16]] for i in inputs]
    return text_fill(["Partner", "File", ("Version", True), "SHA-256 (first 16)"], rows)


def outputs_fill(chapters: list[MilestoneChapter], as_of: date) -> TableFill:
    """The work plan's expected outputs against what each milestone delivered."""
    rows = [[m.milestone_id, "; ".join(m.expected_outputs) or m.title, delivered_text(m, as_of)] for m in chapters]
    return text_fill(["Expected output", "Delivered"], rows)


def follow_up_fill(initiatives: list[FollowUpInitiative]) -> TableFill:
    rows = [[f.name, f.summary, f.status, f.partners] for f in initiatives]
    return text_fill(["What it does", "Status", "Cities and partners"], rows)


def budget_fill(budget: Budget) -> TableFill:
    erdf = budget.total_eur * budget.erdf_rate
    rate = f"{budget.erdf_rate * 100:.1f}".rstrip("0").rstrip(".")
    own = f"{(1 - budget.erdf_rate) * 100:.1f}".rstrip("0").rstrip(".")
    rows = [
        ["Total budget", format_value(budget.total_eur, "EUR")],
        [f"EU co-financing (ERDF, {rate} %)", format_value(erdf, "EUR")],
        [f"Partners' own co-financing ({own} %)", format_value(budget.total_eur - erdf, "EUR")],
    ]
    return text_fill([("Amount (EUR)", True)], rows)


def members_fill(members: list[ConsortiumMember]) -> TableFill:
    """The organisations by city (cities in the order they first appear); an organisation the
    seeds do not name carries an asterisk, explained under the table."""
    cities = list(dict.fromkeys(p.city for p in members))
    rows = [
        [p.city, p.organisation + (" *" if p.assumed else ""), p.country, p.role]
        for city in cities
        for p in members
        if p.city == city
    ]
    return text_fill(["Organisation", "Country", "Role"], rows)


def matrix_totals(matrix: list[CityWPCell]) -> Counter[str]:
    total: Counter[str] = Counter()
    for c in matrix:
        total.update(c.counts)
    return total


def matrix_fill(cities: list[str], wp_ids: list[str], matrix: list[CityWPCell]) -> TableFill:
    """City × WP, each cell its milestones counted by status; the last row the totals per WP
    and, in its last cell, over every WP (what the executive summary says)."""
    cell = {(c.city, c.wp_id): c.counts for c in matrix}
    rows = [
        [city, *(status_counts(_expand(cell.get((city, wp), {}))) for wp in wp_ids), _all(cell, [city], wp_ids)]
        for city in cities
    ]
    per_wp = [status_counts(_expand(matrix_totals([c for c in matrix if c.wp_id == wp]))) for wp in wp_ids]
    rows.append(["Total", *per_wp, status_counts(_expand(matrix_totals(matrix)))])
    return text_fill([*wp_ids, "All"], rows)


def _all(cell: dict[tuple[str, str], dict[str, int]], cities: list[str], wp_ids: list[str]) -> str:
    total: Counter[str] = Counter()
    for city in cities:
        for wp in wp_ids:
            total.update(cell.get((city, wp), {}))
    return status_counts(_expand(total))


def _expand(counts: dict[str, int] | Counter[str]) -> list[str]:
    return [s for s, n in counts.items() for _ in range(n)]


def versions_fill(versions: list[SentVersion]) -> TableFill:
    rows = [
        [v.report, str(v.version), long_date(v.as_of), v.status, str(v.recipients), v.fingerprint[:16]]
        for v in versions
    ]
    return text_fill([("Version", True), "As of", "Status", ("E-mails", True), "Fingerprint"], rows)
