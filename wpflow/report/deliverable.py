"""The template variables that make a milestone report a deliverable: the title page's
author, coordinator, DRAFT/FINAL and publicity block; the executive summary; method and
sources; numbered tables and figures; the comparison under each table; assumptions marked;
the coordinator's sections or the words saying they are awaited.

Sentences here are computed from the summary and its frame (`schemas.deliverable.ReportFrame`);
prose only people can write comes from the coordinator's Markdown (`wpflow.report.narrative`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from docx.shared import Mm

from schemas.deliverable import NARRATIVE_SECTIONS, ReportFrame, TextBlock
from schemas.records import WPSummary
from wpflow.report.key_figures import and_list, comparison, key_figures, measures_of
from wpflow.report.narrative import markdown_blocks
from wpflow.report.plain_words import kind_title, long_date

MARK = "†"
ASSUMED_NOTE = f"{MARK} Assumed: the project's source documents do not state this; the project definition fills it in."
EMBLEM_WIDTH = Mm(27)


def shown_blocks(blocks: Iterable[TextBlock]) -> list[dict[str, str]]:
    """Blocks as the template shows them; numbered items carry their number (Word's own list
    numbering would run on from one list into the next)."""
    out, number = [], 0
    for b in blocks:
        number = number + 1 if b.kind == "numbered" else 0
        out.append({"kind": b.kind, "text": f"{number}. {b.text}" if b.kind == "numbered" else b.text})
    return out


def awaited(frame: ReportFrame | None) -> list[str]:
    """The coordinator's sections the report still waits for, by heading."""
    if frame is None or frame.narrative is None:
        return list(NARRATIVE_SECTIONS.values())
    return frame.narrative.awaiting()


def meeting_note(month: str, assumed: bool, as_of: date) -> str:
    """'planned' for a meeting after the report's date; 'assumed' when derived, not stated."""
    notes = []
    if len(month) == 7 and month[4] == "-" and month > as_of.isoformat()[:7]:
        notes.append("planned")
    if assumed:
        notes.append(f"assumed{MARK}")
    return ", ".join(notes)


def requests(summary: WPSummary, frame: ReportFrame | None) -> list[str]:
    """What was asked, of whom: per input kind, the cities asked, the due date and the ask."""
    asked = frame.asked if frame is not None else {}
    lines = []
    for kind in dict.fromkeys(s.kind for s in summary.partners):
        cities = list(dict.fromkeys(s.city for s in summary.partners if s.kind == kind))
        title = kind_title(kind, summary.kind_titles)
        line = f"{title}: from the local co-ordinators of {len(cities)} cities ({and_list(cities)})"
        line += f", due {long_date(summary.due)}"
        note = asked.get(kind, "").strip().rstrip(".")
        lines.append(line + (f". Asked for: {note[:1].lower() + note[1:]}." if note else "."))
    if not lines:
        lines.append("This milestone asks the partners for no files; the report rests on the work plan.")
    return lines


def numbering(summary: WPSummary, frame: ReportFrame | None, tables: list[dict[str, Any]]) -> dict[str, Any]:
    """Tables and figures numbered in the order the template shows them."""
    count = {"table": 0, "figure": 0}

    def next_no(what: str, present: bool) -> int | None:
        if not present:
            return None
        count[what] += 1
        return count[what]

    numbers: dict[str, Any] = {
        "meetings_table_no": next_no("table", bool(summary.meetings)),
        "rates_table_no": next_no("table", bool(frame and frame.rates) and has_amounts(summary)),
    }
    for t in tables:
        t["table_no"] = next_no("table", t["has_rows"])
        t["figure_no"] = next_no("figure", t["chart"] is not None)
    numbers["status_table_no"] = next_no("table", bool(summary.partners))
    for t in tables:
        t["detail_table_no"] = next_no("table", t["has_details"])
    numbers["provenance_table_no"] = next_no("table", bool(summary.inputs))
    return numbers


def deliverable_context(
    summary: WPSummary, context: dict[str, Any], tpl: Any | None, template_sha256: str, when: date
) -> dict[str, Any]:
    """The deliverable's variables, given the report's base `context` (its tables are numbered
    and given their comparison in place)."""
    from docxtpl import InlineImage

    frame = summary.frame
    waiting = awaited(frame)
    draft = bool(waiting)
    narrative = frame.narrative if frame is not None else None
    assumed = set(frame.assumed_organisations) if frame is not None else set()
    for s, row in zip(summary.partners, context["partners"], strict=True):
        row["mark"] = MARK if s.partner in assumed else ""
    for n, row in zip(summary.narratives, context["narratives"], strict=True):
        row["blocks"] = shown_blocks(markdown_blocks("\n\n".join(n.paragraphs)))
    context["meetings"] = [
        {**row, "note": meeting_note(m.month, m.assumed, summary.as_of)}
        for m, row in zip(summary.meetings, context["meetings"], strict=True)
    ]
    for t, row in zip(summary.tables, context["tables"], strict=True):
        row["caption"] = f"{t.label} per city, with the totals across cities."
        row["analysis"] = comparison(summary, t)
    publicity = frame.publicity if frame is not None else None
    emblem = None
    if tpl is not None and frame is not None and frame.emblem_path:
        emblem = InlineImage(tpl, frame.emblem_path, width=EMBLEM_WIDTH)
    rates = frame.rates if frame is not None else []
    definitions = frame.definitions if frame is not None else []
    any_details = any(t.details for t in summary.tables)
    author_mark = MARK if frame is not None and frame.author_assumed else ""
    coordinator_mark = MARK if frame is not None and frame.coordinator_assumed else ""
    out: dict[str, Any] = {
        "deliverable": f"milestone report {summary.milestone_id}",
        "document_status": "DRAFT" if draft else "FINAL",
        "draft": draft,
        "draft_line": f"DRAFT: awaiting the coordinator's {and_list([w.lower() for w in waiting])}.",
        "author": frame.author if frame is not None else "the work package coordinator",
        "author_mark": author_mark,
        "coordinator": frame.coordinator if frame is not None else "the lead partner",
        "coordinator_mark": coordinator_mark,
        "title_marked": bool(author_mark or coordinator_mark),
        "assumed_note": ASSUMED_NOTE,
        "publicity": publicity is not None,
        "emblem": emblem,
        "publicity_line": publicity.line if publicity is not None else "",
        "publicity_programme": (publicity.programme or summary.programme) if publicity is not None else "",
        "figures_intro": f"Key figures, computed from the partners' data as of {long_date(summary.as_of)}:",
        "key_figures": key_figures(summary),
        "summary_blocks": shown_blocks(narrative.summary) if narrative else [],
        "awaiting_summary": "The coordinator's summary is awaited; until it is written this report is a DRAFT.",
        "requests": requests(summary, frame),
        "plan_intro": (
            "What the work plan foresees for this milestone: planned activities in the work plan's words, "
            "not a record of work done."
        ),
        "meetings_note": meetings_note(context["meetings"], summary.as_of),
        "definitions": [f"{d.term}{MARK if d.assumed else ''}: {d.text}" for d in definitions],
        "definitions_marked": any(d.assumed for d in definitions),
        "conversion": currency_sentence(frame),
        "rates": [
            {
                "currency": r.currency,
                "mark": MARK if r.assumed else "",
                "per_eur": f"{r.per_eur:g}",
                "source": f"{r.name}: {r.source} ({long_date(r.as_of)})",
                "countries": ", ".join(r.countries),
            }
            for r in rates
        ],
        "rates_marked": any(r.assumed for r in rates),
        "has_amounts": has_amounts(summary),
        "results_intro": (
            "Each table has one row per city and the totals across cities; amounts are in euro. "
            "The sentences under each table compare the cities on the same figures."
        ),
        "no_tables": "This milestone asks the partners for no figures to compare.",
        "status_marked": any(s.partner in assumed for s in summary.partners),
        "conclusion_blocks": shown_blocks(narrative.conclusions) if narrative else [],
        "awaiting_conclusions": "The coordinator's conclusions are awaited.",
        "next_step_blocks": shown_blocks(narrative.next_steps) if narrative else [],
        "awaiting_next_steps": "The coordinator's next steps are awaited.",
        "any_details": any_details,
        "data_intro": "Every entry the partners delivered, table by table, by city.",
        "provenance_heading": f"Annex {'B' if any_details else 'A'}: provenance",
        "generated_on": long_date(when),
        "template_short": template_sha256[:12],
    }
    numbers = numbering(summary, frame, context["tables"])
    out.update(numbers)
    out["provenance_files"] = (
        f"Table {numbers['provenance_table_no']} lists every partner file used, with its full SHA-256."
        if numbers["provenance_table_no"]
        else ""
    )
    return out


def has_amounts(summary: WPSummary) -> bool:
    """Whether the report shows money: only then do its currencies and rates matter."""
    return any(m.unit == "EUR" for t in summary.tables for m in measures_of(t))


def meetings_note(meetings: list[dict[str, Any]], as_of: date) -> str:
    """What the meetings table's notes mean, for the notes it holds."""
    notes = [m["note"] for m in meetings]
    line = ""
    if any("planned" in n for n in notes):
        line = f"Meetings marked planned fall after {long_date(as_of)}, the date of this report: planned, not held."
    if any(MARK in n for n in notes):
        line = f"{line} {ASSUMED_NOTE}".strip()
    return line


def currency_sentence(frame: ReportFrame | None) -> str:
    if frame is None:
        return "Amounts are in euro."
    line = f"Every amount in this report is in {'euro' if frame.currency == 'EUR' else frame.currency}."
    return line + (f" {frame.conversion}" if frame.conversion else "")
