"""Render a WP final report and the joint final report: their stories in people's words,
into `templates/wp_report.docx` and `templates/final_report.docx` (docxtpl), with the
milestone reports' machinery — measured tables spliced as WordprocessingML, a filled contents
list, stable bytes for the same content, a PDF beside the DOCX when LibreOffice is there.

The contexts are `wp_render.wp_context` and `project_render.project_context`; what makes
either a deliverable (title page, status, narrative, captions) is `deliverable`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from schemas.final import ProjectStory, WPStory
from schemas.records import ReportRef
from wpflow.files import file_sha256
from wpflow.final.deliverable import Issue
from wpflow.final.project_render import project_context
from wpflow.final.wp_render import wp_context
from wpflow.report.render import write_docx

WP_TEMPLATE = "wp_report.docx"
FINAL_TEMPLATE = "final_report.docx"

__all__ = ["FINAL_TEMPLATE", "WP_TEMPLATE", "Issue", "project_context", "render_story", "wp_context"]


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
