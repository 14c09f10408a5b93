"""Sentences the data can say, computed from a `WPSummary`: totals, shares, ranks.

Deterministic (ties broken by the tables' city order) and computed from the same totals the
tables print, so the executive summary and the tables never disagree — the tests hold them to
it. The coordinator's judgement is not here: that is `wpflow.report.narrative`.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.records import ComparativeTable, WPSummary
from wpflow.report.plain_words import format_value, long_date

NBSP = "\u00a0"  # "39 %" and "€1.2 m" never break across lines


@dataclass(frozen=True)
class Measured:
    """A measure of a table: its label, its unit, whether it counts rows or sums a column."""

    label: str
    unit: str
    counts: bool


def measures_of(table: ComparativeTable) -> list[Measured]:
    return [
        Measured(label, table.measure_units.get(label, ""), counts=label not in table.summed) for label in table.columns
    ]


def amount(value: float, unit: str) -> str:
    """An amount as a sentence says it: '€123.3 m', '€725 500', '14'."""
    if unit == "EUR":
        if abs(value) >= 1_000_000:
            return f"€{value / 1_000_000:.1f}{NBSP}m"
        return f"€{format_value(value, 'EUR')}"
    text = format_value(value, unit)
    return f"{text}{NBSP}{unit}" if unit and unit != "year" else text


def share(part: float, whole: float) -> str:
    return f"{round(100 * part / whole)}{NBSP}%" if whole else f"0{NBSP}%"


def short_label(label: str) -> str:
    """'Annual budget (EUR)' → 'annual budget': a measure inside a sentence."""
    return label.split(" (")[0].lower()


def and_list(items: list[str]) -> str:
    """'Berlin', 'Berlin and Riga', 'Berlin, Oslo and Riga'."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def cities_asked(summary: WPSummary, kind: str) -> list[str]:
    return list(dict.fromkeys(s.city for s in summary.partners if s.kind == kind))


def ranked(table: ComparativeTable, label: str) -> list[tuple[str, float]]:
    """(city, value) by value, largest first; equal values in the table's own city order."""
    values = [(str(r["city"]), float(r.get(label) or 0)) for r in table.rows]
    return sorted(values, key=lambda cv: -cv[1])


def count_sentence(summary: WPSummary, table: ComparativeTable) -> str | None:
    """'14 public seed-funding schemes in 7 of 8 cities asked.'"""
    counting = next((m for m in measures_of(table) if m.counts), None)
    if counting is None:
        return None
    total = table.totals.get(counting.label, 0)
    with_any = sum(1 for r in table.rows if (r.get(counting.label) or 0) > 0)
    asked = cities_asked(summary, table.kind)
    of = f" of {len(asked)} cities asked" if asked else " cities"
    return f"{format_value(total)} {table.label[:1].lower() + table.label[1:]} in {with_any}{of}."


def share_sentence(table: ComparativeTable, measure: Measured) -> str | None:
    """'Annual budget: €9.2 m in total; Stockholm holds 37 %, followed by Berlin (23 %) and Helsinki (14 %).'"""
    total = table.totals.get(measure.label, 0)
    order = ranked(table, measure.label)
    if not order or not total:
        return None
    top, *rest = order
    counting = next((m for m in measures_of(table) if m.counts and m.label != measure.label), None)
    row = next(r for r in table.rows if str(r["city"]) == top[0])
    count = f"'s {format_value(row.get(counting.label))} {counting.label.lower()}" if counting else ""
    line = f"{measure.label.split(' (')[0]}: {amount(total, measure.unit)} in total; {top[0]}{count} hold"
    line += f"{'' if count else 's'} {share(top[1], total)}"
    followers = [f"{city} ({share(v, total)})" for city, v in rest[:2] if v]
    if followers:
        line += ", followed by " + " and ".join(followers)
    return line + "."


def delivery_sentence(summary: WPSummary) -> str:
    """'7 of 8 required inputs had arrived valid by 30 June 2006; missing: Oslo.'"""
    states = summary.partners
    if not states:
        return "This milestone asks the partners for no files."
    delivered = sum(1 for s in states if s.status.delivered)
    line = f"{delivered} of {len(states)} required inputs had arrived valid by {long_date(summary.as_of)}"
    if summary.missing:
        line += "; missing: " + ", ".join(summary.missing)
    return line + "."


def table_figures(summary: WPSummary, table: ComparativeTable) -> list[str]:
    """The headline sentences of one comparative table."""
    if not table.rows:
        return []
    lines = [count_sentence(summary, table)]
    lines += [share_sentence(table, m) for m in measures_of(table) if not m.counts]
    return [line for line in lines if line]


def key_figures(summary: WPSummary) -> list[str]:
    """The executive summary's figures: the inputs that arrived, then each table's headline."""
    lines = [delivery_sentence(summary)]
    for table in summary.tables:
        lines += table_figures(summary, table)
    return lines


def comparison(summary: WPSummary, table: ComparativeTable) -> list[str]:
    """A short comparative analysis of one table: the range between cities and, where rows
    carry a category (a scheme's level), how the amounts divide between its values."""
    if len(table.rows) < 2:
        return []
    lines = []
    for m in measures_of(table):
        order = [(c, v) for c, v in ranked(table, m.label) if v]
        if len(order) < 2:
            continue
        high, small = order[0][1], order[-1][1]
        if high == small:
            lines.append(f"By {short_label(m.label)}, the cities are level: {amount(high, m.unit)} each.")
            continue
        top = [c for c, v in order if v == high]
        low = [c for c, v in order if v == small]
        line = f"By {short_label(m.label)}, {and_list(top)} lead{'s' if len(top) == 1 else ''} with "
        line += f"{amount(high, m.unit)}{'' if len(top) == 1 else ' each'} and {and_list(low)} "
        line += f"{'has' if len(low) == 1 else 'have'} the least, {amount(small, m.unit)}"
        line += "" if len(low) == 1 else " each"
        if high / small >= 2:
            line += f"; the largest is {high / small:.0f} times the smallest"
        lines.append(line + ".")
    lines += category_split(table)
    return lines


def category_split(table: ComparativeTable) -> list[str]:
    """How the summed amounts divide between the values of the rows' first category field
    (a field with a fixed list of values, such as a scheme's level)."""
    summed = next(iter(table.summed.items()), None)
    field = table.category
    if summed is None or field is None or not table.details:
        return []
    label, column = summed
    totals: dict[str, float] = {}
    for d in table.details:
        totals[str(d.get(field))] = totals.get(str(d.get(field)), 0.0) + float(d.get(column) or 0)
    whole = sum(totals.values())
    if not whole or len(totals) < 2:
        return []
    parts = sorted(totals.items(), key=lambda kv: -kv[1])
    words = ", ".join(f"{value} {share(v, whole)}" for value, v in parts)
    return [f"By {field.replace('_', ' ')}, the {short_label(label)} divides: {words}."]
