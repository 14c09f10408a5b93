"""What makes the final reports deliverables rather than data: the title page's status and
publicity block, the coordinator's narrative (or the sections still awaited), numbered
captions, and the words every report shares. Used by `wp_render` and `project_render`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docx.shared import Mm

from schemas.deliverable import NARRATIVE_SECTIONS, ReportFrame, TextBlock
from schemas.final import MilestoneChapter, ProjectStory, WPStory
from wpflow.final.charts import meetings_png
from wpflow.report.plain_words import long_date
from wpflow.report.render import CHART_WIDTH

EMBLEM_WIDTH = Mm(22)
MEETINGS_NOTE = "* Month or host city derived from the work plan's schedule, not stated in it."


@dataclass(frozen=True)
class Issue:
    """What the title page and "Changes since" say about the version being rendered."""

    version: str  # "2", or "draft"
    changes_since: str = ""
    changes: tuple[str, ...] = ()


class Captions:
    """Numbers tables and figures in the order the template shows them."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self, text: str) -> str:
        self.tables += 1
        return f"Table {self.tables}: {text}"

    def figure(self, text: str) -> str:
        self.figures += 1
        return f"Figure {self.figures}: {text}"


def and_join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def image(tpl: Any, png: bytes, width: Any = CHART_WIDTH) -> Any:
    from docxtpl import InlineImage

    return InlineImage(tpl, io.BytesIO(png), width=width)


def meetings_chart(tpl: Any, story: WPStory | ProjectStory) -> Any:
    placed = [x for x in story.meetings if x.month[:4].isdigit() and x.city != "not stated"]
    if tpl is None or not placed:
        return None
    return image(tpl, meetings_png(story.meetings, story.start.isoformat()[:7], story.end.isoformat()[:7]))


def issue_context(issue: Issue) -> dict[str, Any]:
    return {"version": issue.version, "changes_since": issue.changes_since, "changes": list(issue.changes)}


def blocks(items: list[TextBlock]) -> list[dict[str, str]]:
    return [{"kind": b.kind, "text": b.text} for b in items]


def frame_context(
    tpl: Any, frame: ReportFrame | None, *, final: bool, what: str, end: date, as_of: date
) -> dict[str, Any]:
    """Title page and narrative: FINAL only once the period is over and the coordinator has
    written every section; otherwise DRAFT, saying why."""
    narrative = frame.narrative if frame is not None else None
    awaiting = narrative.awaiting() if narrative is not None else list(NARRATIVE_SECTIONS.values())
    if not final:
        note = f"Draft: the {what} ends on {long_date(end)}; this draft shows the work as of {long_date(as_of)}."
    elif awaiting:
        note = f"Draft: awaiting the coordinator's {and_join([a.lower() for a in awaiting])}."
    else:
        note = ""
    emblem = None
    if tpl is not None and frame is not None and frame.emblem_path is not None:
        from docxtpl import InlineImage

        emblem = InlineImage(tpl, frame.emblem_path, width=EMBLEM_WIDTH)
    publicity = frame.publicity if frame is not None else None
    line = ""
    if publicity is not None:
        line = publicity.line + (f" within the {publicity.programme}" if publicity.programme else "") + "."
    return {
        "status_word": "FINAL" if final and not awaiting else "DRAFT",
        "status_note": note,
        "emblem": emblem,
        "publicity_line": line,
        "author": frame.author if frame is not None else "",
        "coordinator": frame.coordinator if frame is not None else "",
        "summary": blocks(narrative.summary) if narrative else [],
        "conclusions": blocks(narrative.conclusions) if narrative else [],
        "next_steps": blocks(narrative.next_steps) if narrative else [],
        "awaiting_summary": "Awaiting the coordinator's summary.",
        "awaiting_conclusions": "Awaiting the coordinator's conclusions.",
        "awaiting_next_steps": "Awaiting the coordinator's next steps.",
    }


def provenance_text(issue: Issue, when: datetime, template_sha: str, what: str) -> str:
    made = "This draft" if issue.version == "draft" else f"Version {issue.version} of the {what}"
    return (
        f"{made} was compiled on {long_date(when.date())} from the milestone reports issued to the partners, "
        f"never from the partners' files again; the layout is the template with SHA-256 {template_sha}. "
        "The same reports and template give the same document."
    )


# -- what a milestone delivered -----------------------------------------------------------------
def delivered_text(m: MilestoneChapter, as_of: date) -> str:
    """The milestone's output as delivered: the report issued, its version and date."""
    if m.standing == "reported" and m.report_version is not None and m.report_as_of is not None:
        return f"Report v{m.report_version} of {long_date(m.report_as_of)} ({m.report_status})"
    if m.standing == "not yet due":
        return f"Not yet due ({long_date(m.due)})"
    if m.standing == "nothing arrived":
        return f"No report: nothing arrived by {long_date(m.due)}"
    return f"No report issued by {long_date(as_of)}"


def delivered_inputs(chapters: list[MilestoneChapter]) -> tuple[int, int, int, int]:
    """(asked, on time, late, still open) over the milestones' requested inputs."""
    statuses = [d.status for m in chapters for d in m.deliveries]
    return len(statuses), statuses.count("on time"), statuses.count("late"), statuses.count("open")


def wp_figures(story: WPStory) -> list[str]:
    """The WP's key figures: reports issued, inputs delivered, meetings, then the headline of
    each comparative table its milestone reports hold."""
    ms = story.milestones
    reported = [m for m in ms if m.standing == "reported"]
    complete = sum(1 for m in reported if m.report_status == "complete")
    lines = [f"{len(reported)} of {len(ms)} milestones delivered their report to the partners ({complete} complete)."]
    asked, on_time, late, open_ = delivered_inputs(ms)
    if asked:
        line = f"The partners delivered {on_time + late} of {asked} requested inputs ({on_time} on time, {late} late)"
        lines.append(line + (f"; {open_} not yet due." if open_ else "."))
    held = sum(1 for x in story.meetings if x.reported)
    if story.meetings:
        lines.append(
            f"{len(story.meetings)} meetings in the work plan and the project's reports, {held} reported held."
        )
    for m in ms:
        lines += [f"{m.milestone_id}: {f}" for f in m.key_figures[1:]]
    return lines
