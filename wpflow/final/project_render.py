"""The joint final report's context, in the order of a programme's final report: executive
summary, objectives, the partnership, per work package its objective, outputs and results,
meetings and dissemination, follow-up, budget, the coordinator's conclusions, and the annexes
(delivery per city, provenance)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.final import ProjectStory, WPStory
from wpflow.final.charts import city_status_png
from wpflow.final.deliverable import (
    MEETINGS_NOTE,
    Captions,
    Issue,
    frame_context,
    image,
    issue_context,
    meetings_chart,
    provenance_text,
    wp_figures,
)
from wpflow.final.tables import (
    budget_fill,
    follow_up_fill,
    key,
    matrix_fill,
    matrix_totals,
    meetings_fill,
    members_fill,
    outputs_fill,
    versions_fill,
)
from wpflow.report.docx_tables import TableFill
from wpflow.report.key_figures import NBSP, amount
from wpflow.report.plain_words import format_value, long_date
from wpflow.report.render import sanitize


def wp_chapter(w: WPStory, n: int, caps: Captions, fills: dict[str, TableFill], compiler: str | None) -> dict:
    fills[key(f"wp:{n}:outputs")] = outputs_fill(w.milestones, w.as_of)
    compiles = (
        " It compiles the work of the other work packages, so its chapter comes last." if w.wp_id == compiler else ""
    )
    narrative = w.frame.narrative if w.frame is not None else None
    return {
        "heading": f"{w.wp_id}: {w.wp_title}",
        "intro": f"{w.objective} Co-ordinated by {w.coordinator}, {long_date(w.start)} – {long_date(w.end)}.{compiles}",
        "outputs_caption": caps.table(f"{w.wp_id}: expected outputs and what was delivered."),
        "output_rows": key(f"wp:{n}:outputs"),
        "figures": wp_figures(w),
        "achievements_intro": "Achievements the project reports for the work package:",
        "achievements": list(w.achievements),
        "summary_intro": "In the words of the work package's co-ordinator:",
        "summary": [b.text for b in narrative.summary] if narrative else [],
    }


def summary_figures(story: ProjectStory) -> list[str]:
    """The executive summary's figures, each computed from what a table or chapter shows."""
    partners = [p for p in story.members if p.role != "observer"]
    observers = len(story.members) - len(partners)
    milestones = [m for w in story.wps for m in w.milestones]
    reported = [m for m in milestones if m.standing == "reported"]
    cities = len({p.city for p in partners})
    lines = [
        (
            f"{len(partners)} partner organisations from {cities} cities and {observers} observers worked in "
            f"{len(story.wps)} work packages from {long_date(story.start)} to {long_date(story.end)}."
        )
    ]
    budget = story.material.budget
    if budget is not None:
        lines.append(
            f"Total budget {amount(budget.total_eur, 'EUR')}, of which the EU co-financed "
            f"{percent(budget.erdf_rate)} from the ERDF ({amount(budget.total_eur * budget.erdf_rate, 'EUR')})."
        )
    lines.append(f"{len(reported)} of {len(milestones)} milestones delivered their report to the partners.")
    total = matrix_totals(story.matrix)
    asked = sum(total.values())
    if asked:
        done = total.get("on time", 0) + total.get("late", 0)
        lines.append(
            f"The cities delivered {done} of {asked} requested milestone inputs: {total.get('on time', 0)} on "
            f"time and {total.get('late', 0)} late (Annex A)."
        )
    held = sum(1 for x in story.meetings if x.reported)
    lines.append(
        f"{held} meetings and events are reported held; the work plans scheduled {len(story.meetings) - held} more."
    )
    follow = story.material.follow_up
    if follow:
        builds = sum(1 for f in follow if f.builds_on_project)
        lines.append(
            f"{len(follow)} follow-up initiatives of the partner cities continue the cooperation"
            + (f", {builds} of them built directly on the project's results." if builds else ".")
        )
    return lines


def percent(rate: float) -> str:
    """0.611 → '61.1 %', the sign never alone at the start of a line."""
    return f"{rate * 100:.1f}".removesuffix(".0") + f"{NBSP}%"


def budget_text(story: ProjectStory) -> str:
    budget = story.material.budget
    if budget is None:
        return "The project's sources give no budget."
    text = (
        f"The project's total budget was €{format_value(budget.total_eur, 'EUR')}, co-financed by the European "
        f"Regional Development Fund at {percent(budget.erdf_rate)}."
    )
    return text + (" The project database gives both figures without labels." if budget.assumed else "")


def project_context(
    story: ProjectStory, issue: Issue, *, tpl: Any | None, when: datetime, template_sha: str
) -> tuple[dict[str, Any], dict[str, TableFill]]:
    caps = Captions()
    final = story.status == "final"
    material = story.material
    fills: dict[str, TableFill] = {key("members"): members_fill(story.members)}
    members_caption = caps.table("The partnership: organisations by city.")
    chapters = [wp_chapter(w, n, caps, fills, story.compiler) for n, w in enumerate(story.wps)]
    chart = meetings_chart(tpl, story)
    meetings_figure_caption = caps.figure("The project's meetings by month and host city.") if chart else ""
    fills[key("meetings")] = meetings_fill(story.meetings, with_wp=True)
    meetings_caption = caps.table("Meetings of the project; the numbers label the dots of the figure.")
    follow_up_caption = caps.table("Follow-up initiatives of the partner cities.") if material.follow_up else ""
    fills[key("follow_up")] = follow_up_fill(material.follow_up)
    budget_caption = ""
    if material.budget is not None:
        fills[key("budget")] = budget_fill(material.budget)
        budget_caption = caps.table("The project's budget (EUR).")
    wp_ids = sorted(w.wp_id for w in story.wps)
    fills[key("cities")] = matrix_fill(story.cities, wp_ids, story.matrix)
    cities_caption = caps.table("Each city's milestone inputs by work package and status.")
    cities_figure_caption = caps.figure("Each city's milestone inputs by status, over every work package.")
    fills[key("versions")] = versions_fill(story.versions)
    versions_caption = caps.table("Every milestone and work package report version issued.")
    partners = sum(1 for p in story.members if p.role != "observer")
    held = sum(1 for x in story.meetings if x.reported)
    focus = material.focus_areas
    text = {
        "project": story.project,
        "project_title": story.project_title,
        "programme": story.programme,
        "kind_line": "Final report of the project" if final else "Draft of the project's joint final report",
        "start": long_date(story.start),
        "end": long_date(story.end),
        "as_of": long_date(story.as_of),
        "key_figures_intro": f"Key figures as of {long_date(story.as_of)}:",
        "key_figures": summary_figures(story),
        "objectives_intro": f"{story.project} — {story.project_title} — set out to:",
        "objectives": [o.text for o in material.objectives],
        "horizontal_themes": list(material.horizontal_themes),
        "partnership_text": f"{partners} partner organisations, led by {story.lead}, and "
        f"{len(story.members) - partners} observers.",
        "members_caption": members_caption,
        "member_rows": key("members"),
        "assumed_note": "* The project's documents name the city, not the organisation."
        if any(p.assumed for p in story.members)
        else "",
        "meetings_text": f"{len(story.meetings)} meetings and events across the work packages, in month order: "
        f"{held} reported held by the project, the others as the work plans schedule them. Meetings without a "
        "stated month or host city are listed, not charted.",
        "meetings_figure_caption": meetings_figure_caption,
        "meetings_caption": meetings_caption,
        "meeting_rows": key("meetings"),
        "meetings_note": MEETINGS_NOTE if any(x.assumed for x in story.meetings) else "",
        "follow_up_text": "The partner cities continue their cooperation in these initiatives, existing and "
        "planned (Annex I of the BaltMet cooperation)."
        if material.follow_up
        else "The project's sources name no follow-up initiatives.",
        "follow_up": bool(material.follow_up),
        "follow_up_caption": follow_up_caption,
        "follow_up_rows": key("follow_up"),
        "focus_areas": list(focus.items) if focus else [],
        "focus_areas_intro": "The project identified these focus areas for future intensified cooperation:",
        "budget_text": budget_text(story),
        "budget": material.budget is not None,
        "budget_caption": budget_caption,
        "budget_rows": key("budget"),
        "cities_text": "Per city and work package, the milestones that asked the city for inputs, counted by how "
        "the input stood on the report's date (open: not yet due). A dash: nothing was asked.",
        "cities_caption": cities_caption,
        "city_rows": key("cities"),
        "cities_figure_caption": cities_figure_caption,
        "provenance_text": provenance_text(issue, when, template_sha, "joint final report"),
        "versions": bool(story.versions),
        "versions_caption": versions_caption,
        "version_rows": key("versions"),
        **issue_context(issue),
    }
    frame = frame_context(tpl, story.frame, final=final, what="project", end=story.end, as_of=story.as_of)
    context = {**sanitize(text), **sanitize({k: v for k, v in frame.items() if k != "emblem"})}
    context["emblem"] = frame["emblem"]
    context["wps"] = sanitize(chapters)
    context["cities_chart"] = image(tpl, city_status_png(story.cities, story.matrix)) if tpl is not None else None
    context["meetings_chart"] = chart
    return context, fills
