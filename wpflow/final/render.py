"""Render a WP final report and the joint final report: their stories in people's words,
into `templates/wp_report.docx` and `templates/final_report.docx` (docxtpl), with the
milestone reports' machinery — measured tables spliced as WordprocessingML, a filled contents
list, stable bytes for the same content, a PDF beside the DOCX when LibreOffice is there."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import wpflow
from schemas.final import MilestoneChapter, ProjectStory, WPStory
from schemas.records import ReportRef
from wpflow.files import file_sha256
from wpflow.final.charts import city_status_png, meetings_png
from wpflow.final.tables import (
    comparative_fill,
    deliveries_fill,
    figures_fill,
    inputs_fill,
    key,
    matrix_fill,
    meetings_fill,
    members_fill,
    milestones_fill,
    status_counts,
    versions_fill,
)
from wpflow.report.charts import chart_measure, chart_png
from wpflow.report.docx_tables import TableFill, marker
from wpflow.report.plain_words import kind_title, long_date, long_datetime
from wpflow.report.render import CHART_WIDTH, sanitize, write_docx

WP_TEMPLATE = "wp_report.docx"
FINAL_TEMPLATE = "final_report.docx"


@dataclass(frozen=True)
class Issue:
    """What the title page and "Changes since" say about the version being rendered."""

    version: str  # "2", or "draft"
    changes_since: str = ""
    changes: tuple[str, ...] = ()


def standing_text(m: MilestoneChapter, as_of: date) -> str:
    due = f"Inputs due {long_date(m.due)}."
    if m.standing == "reported" and m.report_version is not None and m.report_as_of is not None:
        text = f"{due} In force: report v{m.report_version} of {long_date(m.report_as_of)} ({m.report_status})."
        if not m.summary_kept:
            text += " That version was issued before summaries were kept: its tables show totals only."
        return text
    if m.standing == "nothing arrived":
        return f"{due} Nothing usable arrived by the due date, so no report went to the partners."
    if m.standing == "not yet due":
        return f"{due} Not yet due on {long_date(as_of)}: what has arrived so far is shown."
    return f"{due} Inputs arrived, but no report had been issued by {long_date(as_of)}."


def rows_intro(m: MilestoneChapter) -> str:
    kinds = list(dict.fromkeys(d.kind for d in m.deliveries))
    asked = kind_title(kinds[0]) if len(kinds) == 1 else "what"
    return f"Who was asked for {asked}, and where it stood ({status_counts(d.status for d in m.deliveries)}):"


def image(tpl: Any, png: bytes) -> Any:
    from docxtpl import InlineImage

    return InlineImage(tpl, io.BytesIO(png), width=CHART_WIDTH)


def meetings_chart(tpl: Any, story: WPStory | ProjectStory) -> Any:
    placed = [x for x in story.meetings if x.month[:4].isdigit() and x.city != "not stated"]
    if tpl is None or not placed:
        return None
    return image(tpl, meetings_png(story.meetings, story.start.isoformat()[:7], story.end.isoformat()[:7]))


def issue_context(issue: Issue) -> dict[str, Any]:
    return {"version": issue.version, "changes_since": issue.changes_since, "changes": list(issue.changes)}


def provenance_text(issue: Issue, when: datetime, template_sha: str, what: str) -> str:
    made = "This draft" if issue.version == "draft" else f"This is version {issue.version} of the {what}; it"
    return (
        f"{made} was made by wpflow {wpflow.__version__} on {long_datetime(when)} from the template with "
        f"SHA-256 {template_sha}, from the milestone reports the store kept — never from the partners' files "
        "again. The same store and the same template make the same report."
    )


# -- the WP final report ------------------------------------------------------------------------
def wp_context(
    story: WPStory, issue: Issue, *, tpl: Any | None, when: datetime, template_sha: str
) -> tuple[dict[str, Any], dict[str, TableFill]]:
    fills: dict[str, TableFill] = {key("milestones"): milestones_fill(story.milestones)}
    milestones = []
    for n, m in enumerate(story.milestones):
        fills[key(f"deliveries:{n}")] = deliveries_fill(m)
        milestones.append(
            {
                "heading": f"{m.milestone_id}: {m.title}",
                "standing": standing_text(m, story.as_of),
                "activities": list(m.activities),
                "has_rows": bool(m.deliveries),
                "rows_intro": rows_intro(m),
                "rows": key(f"deliveries:{n}"),
            }
        )
    tables = []
    for n, merged in enumerate(story.tables):
        fills[marker(n, "cities")] = comparative_fill(merged)
        t = merged.table
        measure = chart_measure(t)
        source = " and ".join(merged.milestones)
        tables.append(
            {
                "label": t.label,
                "intro": (
                    f"From the {source} report{'s' if len(merged.milestones) > 1 else ''}: one row per city"
                    + (" and milestone" if len(merged.milestones) > 1 else "")
                    + "; the last row holds the totals."
                ),
                "city_rows": marker(n, "cities"),
                "chart_measure": measure or "",
                "chart": image(tpl, chart_png(t, measure)) if tpl is not None and measure and t.rows else None,
            }
        )
    fills[key("meetings")] = meetings_fill(story.meetings, with_wp=False)
    fills[key("inputs")] = inputs_fill(story.inputs)
    final = story.status == "final"
    text = {
        "project": story.project,
        "project_title": story.project_title,
        "programme": story.programme,
        "wp_id": story.wp_id,
        "wp_title": story.wp_title,
        "kind_line": "Final report of the work package" if final else "Draft of the work package's final report",
        "start": long_date(story.start),
        "end": long_date(story.end),
        "coordinator": story.coordinator,
        "as_of": long_date(story.as_of),
        "objective_text": (
            f"{story.wp_id} works on {story.objective[:1].lower()}{story.objective[1:]}, co-ordinated by "
            f"{story.coordinator}, from {long_date(story.start)} to {long_date(story.end)}. This report tells "
            f"its work milestone by milestone, from the milestone reports issued."
        ),
        "status_text": (
            f"The work package ended on {long_date(story.end)}; this is its final report as of "
            f"{long_date(story.as_of)}."
            if final
            else f"The work package ends on {long_date(story.end)}: this draft shows what existed on "
            f"{long_date(story.as_of)} and was sent to nobody."
        ),
        "milestone_rows": key("milestones"),
        "no_tables_reason": "No milestone report of this work package holds a comparative table"
        + ("." if any(m.standing == "reported" for m in story.milestones) else f" by {long_date(story.as_of)}."),
        "meetings": bool(story.meetings),
        "meetings_intro": "Every meeting the sources name for this work package, in month order; assumed months "
        "or cities are derived from the work plan.",
        "meeting_rows": key("meetings"),
        "source_notes": story.source_notes,
        "provenance_text": provenance_text(issue, when, template_sha, "work package's final report"),
        "inputs": bool(story.inputs),
        "input_rows": key("inputs"),
        "no_inputs_reason": "No milestone report of this work package had used a partner file by "
        f"{long_date(story.as_of)}.",
        **issue_context(issue),
    }
    context = sanitize(text)
    context["milestones"] = sanitize(milestones)
    context["tables"] = [
        {**sanitize({k: v for k, v in t.items() if k != "chart"}), "chart": t["chart"]} for t in tables
    ]
    context["meetings_chart"] = meetings_chart(tpl, story)
    return context, fills


# -- the joint final report ---------------------------------------------------------------------
def wp_chapter(w: WPStory, n: int, compiler: str | None, fills: dict[str, TableFill]) -> dict[str, Any]:
    fills[key(f"wp:{n}:milestones")] = milestones_fill(w.milestones)
    fills[key(f"wp:{n}:figures")] = figures_fill(w.tables)
    compiles = (
        " It compiles the work of the other work packages, so its chapter comes last." if w.wp_id == compiler else ""
    )
    return {
        "heading": f"{w.wp_id}: {w.wp_title}",
        "intro": f"{w.objective}. Co-ordinated by {w.coordinator}, "
        f"{long_date(w.start)} – {long_date(w.end)}.{compiles}",
        "status": f"{sum(m.standing == 'reported' for m in w.milestones)} of {len(w.milestones)} milestones "
        f"reported; {len(w.meetings)} meetings; {len(w.inputs)} partner files used.",
        "milestone_rows": key(f"wp:{n}:milestones"),
        "has_figures": bool(w.tables),
        "figure_rows": key(f"wp:{n}:figures"),
        "notes": w.source_notes,
        "see_also": f"The whole story of {w.wp_id} — who delivered what and when, the merged tables, the "
        f"meetings and every file used — is in its own final report, {w.wp_id}.docx.",
    }


def city_lines(story: ProjectStory) -> list[str]:
    lines = []
    for city in story.cities:
        counts: Counter[str] = Counter()
        for c in story.matrix:
            if c.city == city:
                counts.update(c.counts)
        total = sum(counts.values())
        shown = status_counts(s for s, n in counts.items() for _ in range(n))
        lines.append(f"{city}: {total} milestone{'s' if total != 1 else ''} asked for its inputs — {shown}.")
    return lines


def project_context(
    story: ProjectStory, issue: Issue, *, tpl: Any | None, when: datetime, template_sha: str
) -> tuple[dict[str, Any], dict[str, TableFill]]:
    fills: dict[str, TableFill] = {key("members"): members_fill(story.members)}
    chapters = [wp_chapter(w, n, story.compiler, fills) for n, w in enumerate(story.wps)]
    wp_ids = [w.wp_id for w in story.wps]
    fills[key("cities")] = matrix_fill(story.cities, sorted(wp_ids), story.matrix)
    fills[key("meetings")] = meetings_fill(story.meetings, with_wp=True)
    fills[key("versions")] = versions_fill(story.versions)
    final = story.status == "final"
    partners = sum(1 for p in story.members if p.role != "observer")
    observers = len(story.members) - partners
    text = {
        "project": story.project,
        "project_title": story.project_title,
        "programme": story.programme,
        "kind_line": "Final report of the project" if final else "Draft of the project's joint final report",
        "start": long_date(story.start),
        "end": long_date(story.end),
        "lead": story.lead,
        "as_of": long_date(story.as_of),
        "intro_text": (
            f"{story.project} — {story.project_title} — ran from {long_date(story.start)} to {long_date(story.end)} "
            f"under {story.programme}, led by {story.lead}. This report joins the final reports of its "
            f"{len(story.wps)} work packages into one document"
            + (
                f" as of {long_date(story.as_of)}."
                if final
                else f": a draft as of {long_date(story.as_of)}, sent to nobody."
            )
        ),
        "structure_text": (
            f"After the consortium, a chapter per work package; {story.compiler}, which compiles the work of the "
            "others, comes last. Then what each city delivered across the work packages, the meetings of the "
            "whole project on one timeline, and an annex of every report version issued."
            if story.compiler
            else "After the consortium, a chapter per work package; then what each city delivered across the "
            "work packages, the meetings of the whole project on one timeline, and an annex of every report "
            "version issued."
        ),
        "consortium_text": f"{partners} partner organisations and {observers} observers; where the sources disagree "
        "on a participant's role, the last column says so.",
        "member_rows": key("members"),
        "consortium_notes": story.consortium_notes,
        "cities_text": (
            "Per city and work package, its milestones by status: the statuses the command \u201cwpflow status\u201d "
            "shows (the worst of a milestone's inputs; open while not yet due), counted. A dash means the city "
            "was asked for nothing."
        ),
        "city_rows": key("cities"),
        "city_lines": city_lines(story),
        "meetings_text": f"{len(story.meetings)} meetings across the work packages, in month order; meetings "
        "whose month or host city the sources do not state are listed, not charted.",
        "meeting_rows": key("meetings"),
        "annex_text": "Every milestone and work package report version issued, with the e-mails that carried it.",
        "versions": bool(story.versions),
        "version_rows": key("versions"),
        "provenance_text": provenance_text(issue, when, template_sha, "joint final report"),
        **issue_context(issue),
    }
    context = sanitize(text)
    context["wps"] = sanitize(chapters)
    context["cities_chart"] = image(tpl, city_status_png(story.cities, story.matrix)) if tpl is not None else None
    context["meetings_chart"] = meetings_chart(tpl, story)
    return context, fills


# -- render -------------------------------------------------------------------------------------
def render_story(
    story: WPStory | ProjectStory,
    issue: Issue,
    out: Path,
    *,
    templates_dir: Path,
    pdf: bool = False,
) -> ReportRef:
    """Write `out` (a DOCX) atomically, and a PDF beside it when asked and LibreOffice is there.
    Dated the as-of day, so the same story renders the same bytes."""
    from docxtpl import DocxTemplate

    is_wp = isinstance(story, WPStory)
    template_path = templates_dir / (WP_TEMPLATE if is_wp else FINAL_TEMPLATE)
    template_sha = file_sha256(template_path)
    when = datetime.combine(story.as_of, datetime.min.time(), tzinfo=UTC)
    tpl = DocxTemplate(str(template_path))
    if isinstance(story, WPStory):
        context, fills = wp_context(story, issue, tpl=tpl, when=when, template_sha=template_sha)
    else:
        context, fills = project_context(story, issue, tpl=tpl, when=when, template_sha=template_sha)
    report_id = story.wp_id if isinstance(story, WPStory) else "final"
    return write_docx(tpl, context, fills, out, report_id=report_id, template_sha256=template_sha, when=when, pdf=pdf)
