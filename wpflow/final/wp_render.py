"""The WP final report's context: summary, objective and outputs, the milestones (their work,
output and figures; who delivered what, or one sentence when nobody did), the comparative
tables with their charts, the meetings, the coordinator's conclusions and the provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.final import MilestoneChapter, WPStory
from wpflow.final.deliverable import (
    MEETINGS_NOTE,
    Captions,
    Issue,
    and_join,
    delivered_text,
    frame_context,
    image,
    issue_context,
    meetings_chart,
    provenance_text,
    wp_figures,
)
from wpflow.final.tables import (
    comparative_fill,
    deliveries_fill,
    inputs_fill,
    key,
    meetings_fill,
    outputs_fill,
    status_counts,
)
from wpflow.report.charts import chart_measure, chart_png
from wpflow.report.docx_tables import TableFill, marker
from wpflow.report.plain_words import kind_title, long_date
from wpflow.report.render import sanitize

DELIVERED = ("on time", "late", "invalid")


def kinds_asked(m: MilestoneChapter) -> str:
    return and_join([kind_title(k, m.kind_titles) for k in dict.fromkeys(d.kind for d in m.deliveries)])


def no_rows_text(m: MilestoneChapter) -> str:
    """One sentence instead of a table in which nobody delivered anything."""
    if not m.deliveries:
        return f"{m.milestone_id} asked the partners for no files."
    cities = and_join(list(dict.fromkeys(d.city for d in m.deliveries)))
    if m.standing == "not yet due":
        return f"{kinds_asked(m)} from {cities} are due on {long_date(m.due)}; none has arrived yet."
    return f"No partner delivered {kinds_asked(m)} for {m.milestone_id}; {len(m.deliveries)} were asked ({cities})."


def milestone_context(m: MilestoneChapter, n: int, story: WPStory, caps: Captions, fills: dict[str, TableFill]) -> dict:
    has_rows = any(d.status in DELIVERED for d in m.deliveries)
    rows_caption = ""
    if has_rows:
        fills[key(f"deliveries:{n}")] = deliveries_fill(m)
        counted = status_counts(d.status for d in m.deliveries)
        rows_caption = caps.table(f"{m.milestone_id}: who was asked for {kinds_asked(m)} ({counted}).")
    expected = "; ".join(m.expected_outputs)
    return {
        "heading": f"{m.milestone_id}: {m.title}",
        "period": f"{long_date(m.start)} – {long_date(m.end)}; inputs due {long_date(m.due)}.",
        "activities": list(m.activities),
        "output": (f"Expected output: {expected}. " if expected else "")
        + f"Delivered: {delivered_text(m, story.as_of)}.",
        "figures": list(m.key_figures),
        "has_rows": has_rows,
        "rows_caption": rows_caption,
        "rows": key(f"deliveries:{n}"),
        "no_rows": "" if has_rows else no_rows_text(m),
    }


def wp_context(
    story: WPStory, issue: Issue, *, tpl: Any | None, when: datetime, template_sha: str
) -> tuple[dict[str, Any], dict[str, TableFill]]:
    caps = Captions()
    final = story.status == "final"
    fills: dict[str, TableFill] = {key("outputs"): outputs_fill(story.milestones, story.as_of)}
    outputs_caption = caps.table(f"{story.wp_id}: expected outputs and what was delivered.")
    milestones = [milestone_context(m, n, story, caps, fills) for n, m in enumerate(story.milestones)]
    tables = []
    for n, merged in enumerate(story.tables):
        fills[marker(n, "cities")] = comparative_fill(merged)
        t = merged.table
        measure = chart_measure(t)
        source = " and ".join(merged.milestones)
        chart = image(tpl, chart_png(t, measure)) if tpl is not None and measure and t.rows else None
        table_caption = caps.table(f"{t.label} per city, from the {source} report{'s' * (len(merged.milestones) > 1)}.")
        tables.append(
            {
                "label": t.label,
                "intro": "One row per city"
                + (" and milestone" if len(merged.milestones) > 1 else "")
                + "; the last row holds the totals.",
                "table_caption": table_caption,
                "city_rows": marker(n, "cities"),
                "figure_caption": caps.figure(f"{measure} per city.") if measure and t.rows else "",
                "chart": chart,
            }
        )
    fills[key("meetings")] = meetings_fill(story.meetings, with_wp=False)
    chart = meetings_chart(tpl, story)
    meetings_figure_caption = caps.figure(f"{story.wp_id}'s meetings by month and host city.") if chart else ""
    meetings_caption = caps.table(f"{story.wp_id}'s meetings; the numbers label the dots of the figure.")
    fills[key("inputs")] = inputs_fill(story.inputs)
    inputs_caption = caps.table("Every partner file the milestone reports used.")
    held = sum(1 for x in story.meetings if x.reported)
    text = {
        "project": story.project,
        "project_title": story.project_title,
        "programme": story.programme,
        "wp_id": story.wp_id,
        "wp_title": story.wp_title,
        "kind_line": "Final report of the work package" if final else "Draft of the work package's final report",
        "start": long_date(story.start),
        "end": long_date(story.end),
        "as_of": long_date(story.as_of),
        "key_figures_intro": f"Key figures as of {long_date(story.as_of)}, from the milestone reports:",
        "key_figures": wp_figures(story),
        "objective_text": f"{story.objective} Co-ordinated by {story.coordinator}, from {long_date(story.start)} "
        f"to {long_date(story.end)}.",
        "outputs_caption": outputs_caption,
        "output_rows": key("outputs"),
        "outputs_note": "A milestone's report is complete when every requested input had arrived valid.",
        "tables_intro": "The comparative tables of the milestone reports, merged where milestones ask for the "
        "same kind of input.",
        "no_tables_reason": "No milestone report of this work package holds a comparative table"
        + ("." if any(m.standing == "reported" for m in story.milestones) else f" by {long_date(story.as_of)}."),
        "meetings": bool(story.meetings),
        "meetings_intro": f"{len(story.meetings)} meetings, in month order: {held} reported held by the project, "
        "the others as the work plan schedules them.",
        "meetings_figure_caption": meetings_figure_caption,
        "meetings_caption": meetings_caption,
        "meeting_rows": key("meetings"),
        "meetings_note": MEETINGS_NOTE if any(x.assumed for x in story.meetings) else "",
        "provenance_text": provenance_text(issue, when, template_sha, "work package's final report"),
        "inputs": bool(story.inputs),
        "inputs_caption": inputs_caption,
        "input_rows": key("inputs"),
        "no_inputs_reason": "No milestone report of this work package had used a partner file by "
        f"{long_date(story.as_of)}.",
        **issue_context(issue),
    }
    frame = frame_context(tpl, story.frame, final=final, what="work package", end=story.end, as_of=story.as_of)
    context = {**sanitize(text), **sanitize({k: v for k, v in frame.items() if k != "emblem"})}
    context["emblem"] = frame["emblem"]
    context["milestones"] = sanitize(milestones)
    context["tables"] = [
        {**sanitize({k: v for k, v in t.items() if k != "chart"}), "chart": t["chart"]} for t in tables
    ]
    context["meetings_chart"] = chart
    return context, fills
