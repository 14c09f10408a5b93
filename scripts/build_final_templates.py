"""Make `templates/wp_report.docx` and `templates/final_report.docx` from `templates/report.docx`.

The WP final reports and the joint final report wear the milestone report's house style: its
styles, title page, contents list, footer with page numbers, table look and chart placement.
This script copies report.docx and writes the new body from the milestone template's own
paragraphs and tables (cloned, so a secretariat's edits to report.docx's look carry over when
the script is run again). Data tables are marker tables (`wpflow.report.docx_tables`): one prototype
row the renderer replaces with rows measured from their content, so no word or number breaks.
Once written, the templates are Word files like any other: edit them in Word; run this script
again only to start over from report.docx.

    .venv/bin/python scripts/build_final_templates.py
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterable
from pathlib import Path

import docx
from docx.oxml.ns import qn
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_report_template import find_p, keep_next, para, text_of

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
SMALL = "18"  # 9 pt, as the milestone report's partner status and provenance tables


class Source:
    """The milestone template's paragraphs and tables to clone."""

    def __init__(self, body: etree._Element) -> None:
        self.body = body
        self.programme = find_p(body, "{{ programme }}")
        self.title = find_p(body, "{{ project }}")
        self.subtitle = find_p(body, "{{ project_title }}")
        self.big_line = find_p(body, "Work package {{ wp_id }}: {{ wp_title }}")
        self.line = find_p(body, "Period: {{ start }} – {{ end }}")
        self.labelled = find_p(body, "Version: {{ version }}")
        self.contents_heading = find_p(body, "Contents")
        toc = next(i for i in body.iter(qn("w:instrText")) if "TOC" in (i.text or ""))
        self.toc = next(toc.iterancestors(qn("w:p")))
        self.chapter = find_p(body, "Activities")  # Heading1 on a new page
        self.heading = find_p(body, "Meetings")  # Heading1 kept with what follows
        self.chart = find_p(body, "{{ t.chart }}")
        self.caption = find_p(body, "Figure: {{ t.chart_measure }} per city.")
        tables = list(body.iter(qn("w:tbl")))
        self.totals_table = next(t for t in tables if "{{ t.city_rows }}" in text_of(t))
        self.rows_table = next(t for t in tables if "{{ t.detail_rows }}" in text_of(t))

    @staticmethod
    def retext(p: etree._Element, text: str) -> etree._Element:
        """A copy of `p` holding `text` in its first run (other runs dropped)."""
        p = copy.deepcopy(p)
        runs = p.findall(qn("w:r"))
        for r in runs[1:]:
            p.remove(r)
        runs[0].find(qn("w:t")).text = text
        return p

    def labelled_line(self, label: str, value: str) -> etree._Element:
        p = copy.deepcopy(self.labelled)
        label_run, value_run = p.findall(qn("w:r"))
        label_run.find(qn("w:t")).text = f"{label}: "
        value_run.find(qn("w:t")).text = value
        return p

    def title_page(self, lines: list[str], labelled: list[tuple[str, str]]) -> list[etree._Element]:
        out = [copy.deepcopy(self.programme), copy.deepcopy(self.title), copy.deepcopy(self.subtitle)]
        out += [self.retext(self.big_line, lines[0])] + [self.retext(self.line, t) for t in lines[1:]]
        return out + [self.labelled_line(label, value) for label, value in labelled]

    def contents(self) -> list[etree._Element]:
        return [copy.deepcopy(self.contents_heading), copy.deepcopy(self.toc)]

    def h1(self, text: str, *, new_page: bool = False) -> etree._Element:
        return self.retext(self.chapter if new_page else self.heading, text)

    def figure(self, image: str, caption: str) -> list[etree._Element]:
        """The chart kept with its caption below it."""
        return [keep_next(self.retext(self.chart, image)), self.retext(self.caption, caption)]

    def table(
        self, marker: str, headers: Iterable[str], *, totals: bool = False, small: bool = False
    ) -> etree._Element:
        """A marker table: the header's first cell names the label column; the renderer writes
        the other headers, the rows and (with `totals`) the total row from the data."""
        tbl = copy.deepcopy(self.totals_table if totals else self.rows_table)
        rows = tbl.findall(qn("w:tr"))
        first_header = rows[0].find(qn("w:tc"))
        first_header.find(f".//{qn('w:t')}").text = next(iter(headers))
        rows[1].find(f".//{qn('w:t')}").text = marker
        if small:
            for r in tbl.iter(qn("w:r")):
                rpr = r.find(qn("w:rPr"))
                if rpr is None:
                    rpr = etree.Element(qn("w:rPr"))
                    r.insert(0, rpr)
                if rpr.find(qn("w:sz")) is None:
                    etree.SubElement(rpr, qn("w:sz")).set(qn("w:val"), SMALL)
        return tbl


def kept(tbl: etree._Element) -> etree._Element:
    """Every paragraph of a table kept with the next: a short table stays on one page with the
    chart or text after it (the renderer's rows copy the marker row's paragraph)."""
    for p in tbl.iter(qn("w:p")):
        keep_next(p)
    return tbl


def caption(text: str) -> etree._Element:
    """A table's numbered caption above it, kept with the table."""
    return keep_next(para(text, "Caption"))


def changes(src: Source) -> list[etree._Element]:
    return [
        para("{%p if changes %}"),
        src.h1("Changes since {{ changes_since }}"),
        para("{%p for c in changes %}"),
        para("{{ c }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p endif %}"),
    ]


def bullets(items: str, intro: str | None = None) -> list[etree._Element]:
    return [
        *([keep_next(para(intro))] if intro else []),
        para(f"{{%p for n in {items} %}}"),
        para("{{ n }}", "ListBullet"),
        para("{%p endfor %}"),
    ]


def narrative(blocks: str, awaiting: str) -> list[etree._Element]:
    """The coordinator's Markdown blocks, each in its style; while none, the awaiting sentence."""
    return [
        para(f"{{%p for b in {blocks} %}}"),
        para("{%p if b.kind == 'heading' %}"),
        para("{{ b.text }}", "Heading3"),
        para("{%p elif b.kind == 'bullet' %}"),
        para("{{ b.text }}", "ListBullet"),
        para("{%p elif b.kind == 'numbered' %}"),
        para("{{ b.text }}", "ListNumber"),
        para("{%p else %}"),
        para("{{ b.text }}"),
        para("{%p endif %}"),
        para("{%p endfor %}"),
        para(f"{{%p if not {blocks} %}}"),
        para(f"{{{{ {awaiting} }}}}"),
        para("{%p endif %}"),
    ]


def title_page(src: Source, lines: list[str], labelled: list[tuple[str, str]]) -> list[etree._Element]:
    """The milestone report's title page, then the status note and the programme's publicity
    block (the EU emblem and the funding line)."""
    return [
        *src.title_page(lines, labelled),
        para("{%p if status_note %}"),
        para("{{ status_note }}"),
        para("{%p endif %}"),
        para("{%p if emblem %}"),
        para("{{ emblem }}"),
        para("{{ publicity_line }}"),
        para("{%p endif %}"),
    ]


def conclusions(src: Source) -> list[etree._Element]:
    return [
        src.h1("Conclusions and next steps"),
        para("Conclusions", "Heading2"),
        *narrative("conclusions", "awaiting_conclusions"),
        para("Next steps", "Heading2"),
        *narrative("next_steps", "awaiting_next_steps"),
    ]


# -- the WP final report ------------------------------------------------------------------------
def wp_body(src: Source) -> list[etree._Element]:
    return [
        *title_page(
            src,
            ["Work package {{ wp_id }}: {{ wp_title }}", "{{ kind_line }}", "Period: {{ start }} – {{ end }}"],
            [
                ("Author", "{{ author }}"),
                ("Project coordinator", "{{ coordinator }}"),
                ("Date", "{{ as_of }}"),
                ("Version", "{{ version }}"),
                ("Status", "{{ status_word }}"),
            ],
        ),
        *src.contents(),
        *changes(src),
        src.h1("Summary", new_page=True),
        *bullets("key_figures", "{{ key_figures_intro }}"),
        *narrative("summary", "awaiting_summary"),
        src.h1("Objective and outputs"),
        para("{{ objective_text }}"),
        caption("{{ outputs_caption }}"),
        kept(src.table("{{ output_rows }}", ["Milestone"], small=True)),
        para("{{ outputs_note }}"),
        src.h1("The milestones"),
        para("{%p for m in milestones %}"),
        para("{{ m.heading }}", "Heading2"),
        para("{{ m.period }}"),
        para("{%p if m.activities %}"),
        keep_next(para("The work plan:")),
        para("{%p endif %}"),
        para("{%p for a in m.activities %}"),
        para("{{ a }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{{ m.output }}"),
        para("{%p for f in m.figures %}"),
        para("{{ f }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p if m.has_rows %}"),
        caption("{{ m.rows_caption }}"),
        src.table("{{ m.rows }}", ["Partner"], small=True),
        para("{%p else %}"),
        para("{{ m.no_rows }}"),
        para("{%p endif %}"),
        para("{%p endfor %}"),
        src.h1("Results in figures"),
        para("{%p if tables %}"),
        keep_next(para("{{ tables_intro }}")),
        para("{%p endif %}"),
        para("{%p for t in tables %}"),
        para("{{ t.label }}", "Heading2"),
        keep_next(para("{{ t.intro }}")),
        caption("{{ t.table_caption }}"),
        kept(src.table("{{ t.city_rows }}", ["City"], totals=True)),
        para("{%p if t.chart %}"),
        *src.figure("{{ t.chart }}", "{{ t.figure_caption }}"),
        para("{%p endif %}"),
        para("{%p endfor %}"),
        para("{%p if not tables %}"),
        para("{{ no_tables_reason }}"),
        para("{%p endif %}"),
        src.h1("Meetings"),
        para("{%p if meetings %}"),
        keep_next(para("{{ meetings_intro }}")),
        para("{%p if meetings_chart %}"),
        *src.figure("{{ meetings_chart }}", "{{ meetings_figure_caption }}"),
        para("{%p endif %}"),
        caption("{{ meetings_caption }}"),
        kept(src.table("{{ meeting_rows }}", ["No."], small=True)),
        para("{{ meetings_note }}"),
        para("{%p else %}"),
        para("No meetings are planned in this work package."),
        para("{%p endif %}"),
        *conclusions(src),
        src.h1("Annex: provenance"),
        keep_next(para("{{ provenance_text }}")),
        para("{%p if inputs %}"),
        caption("{{ inputs_caption }}"),
        src.table("{{ input_rows }}", ["Milestone"], small=True),
        para("{%p else %}"),
        para("{{ no_inputs_reason }}"),
        para("{%p endif %}"),
    ]


# -- the joint final report ---------------------------------------------------------------------
def final_body(src: Source) -> list[etree._Element]:
    return [
        *title_page(
            src,
            ["Joint final report", "{{ kind_line }}", "Period: {{ start }} – {{ end }}"],
            [
                ("Author", "{{ author }}"),
                ("Project coordinator", "{{ coordinator }}"),
                ("Date", "{{ as_of }}"),
                ("Version", "{{ version }}"),
                ("Status", "{{ status_word }}"),
            ],
        ),
        *src.contents(),
        *changes(src),
        src.h1("Executive summary", new_page=True),
        *bullets("key_figures", "{{ key_figures_intro }}"),
        *narrative("summary", "awaiting_summary"),
        src.h1("Objectives"),
        *bullets("objectives", "{{ objectives_intro }}"),
        para("{%p if horizontal_themes %}"),
        *bullets("horizontal_themes", "Its horizontal themes:"),
        para("{%p endif %}"),
        src.h1("The partnership"),
        keep_next(para("{{ partnership_text }}")),
        caption("{{ members_caption }}"),
        kept(src.table("{{ member_rows }}", ["City"], small=True)),
        para("{{ assumed_note }}"),
        para("{%p for w in wps %}"),
        src.h1("{{ w.heading }}"),
        para("{{ w.intro }}"),
        para("Outputs", "Heading2"),
        caption("{{ w.outputs_caption }}"),
        kept(src.table("{{ w.output_rows }}", ["Milestone"], small=True)),
        para("Results", "Heading2"),
        para("{%p for f in w.figures %}"),
        para("{{ f }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p if w.achievements %}"),
        keep_next(para("{{ w.achievements_intro }}")),
        para("{%p endif %}"),
        para("{%p for a in w.achievements %}"),
        para("{{ a }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p if w.summary %}"),
        keep_next(para("{{ w.summary_intro }}")),
        para("{%p endif %}"),
        para("{%p for b in w.summary %}"),
        para("{{ b }}"),
        para("{%p endfor %}"),
        para("{%p endfor %}"),
        src.h1("Meetings and dissemination"),
        keep_next(para("{{ meetings_text }}")),
        para("{%p if meetings_chart %}"),
        *src.figure("{{ meetings_chart }}", "{{ meetings_figure_caption }}"),
        para("{%p endif %}"),
        caption("{{ meetings_caption }}"),
        src.table("{{ meeting_rows }}", ["No."], small=True),
        para("{{ meetings_note }}"),
        src.h1("Follow-up"),
        para("{{ follow_up_text }}"),
        para("{%p if follow_up %}"),
        caption("{{ follow_up_caption }}"),
        src.table("{{ follow_up_rows }}", ["Initiative"], small=True),
        para("{%p endif %}"),
        para("{%p if focus_areas %}"),
        *bullets("focus_areas", "{{ focus_areas_intro }}"),
        para("{%p endif %}"),
        src.h1("Budget"),
        keep_next(para("{{ budget_text }}")),
        para("{%p if budget %}"),
        caption("{{ budget_caption }}"),
        kept(src.table("{{ budget_rows }}", ["Item"], small=True)),
        para("{%p endif %}"),
        *conclusions(src),
        src.h1("Annex A: delivery per city"),
        keep_next(para("{{ cities_text }}")),
        caption("{{ cities_caption }}"),
        kept(src.table("{{ city_rows }}", ["City"], small=True)),
        *src.figure("{{ cities_chart }}", "{{ cities_figure_caption }}"),
        src.h1("Annex B: provenance"),
        keep_next(para("{{ provenance_text }}")),
        para("{%p if versions %}"),
        caption("{{ versions_caption }}"),
        kept(src.table("{{ version_rows }}", ["Report"], small=True)),
        para("{%p endif %}"),
    ]


def build(target: Path, body_of, footer_label: str) -> None:
    document = docx.Document(str(TEMPLATES / "report.docx"))
    body = document.element.body
    src = Source(body)
    new = body_of(src)
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    sect = body.find(qn("w:sectPr"))
    for el in new:
        sect.addprevious(el)
    for section in document.sections:
        for t in section.footer._element.iter(qn("w:t")):
            if t.text and "{{ milestone_id }}" in t.text:
                t.text = t.text.replace("{{ milestone_id }}", footer_label)
    props = document.core_properties
    props.author = "{{ author }}"  # the report's author (a WP: its coordinator; the joint report: the lead)
    props.title = "{{ project }}: " + footer_label
    props.subject = "{{ project_title }}"
    props.comments = "Template of wpflow; edit it in Word. Text in double curly braces is filled in per report."
    document.save(str(target))
    print(f"wrote {target}")


def main() -> None:
    build(TEMPLATES / "wp_report.docx", wp_body, "{{ wp_id }} final report")
    build(TEMPLATES / "final_report.docx", final_body, "joint final report")


if __name__ == "__main__":
    main()
