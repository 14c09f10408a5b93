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
from build_report_template import find_p, para, text_of

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
        return [self.retext(self.chart, image), self.retext(self.caption, caption)]

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


def keep_next(p: etree._Element) -> etree._Element:
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        ppr = etree.Element(qn("w:pPr"))
        p.insert(0, ppr)
    if ppr.find(qn("w:keepNext")) is None:
        ppr.insert(1 if ppr.find(qn("w:pStyle")) is not None else 0, etree.Element(qn("w:keepNext")))
    return p


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
        *([para(intro)] if intro else []),
        para(f"{{%p for n in {items} %}}"),
        para("{{ n }}", "ListBullet"),
        para("{%p endfor %}"),
    ]


# -- the WP final report ------------------------------------------------------------------------
def wp_body(src: Source) -> list[etree._Element]:
    return [
        *src.title_page(
            ["Work package {{ wp_id }}: {{ wp_title }}", "{{ kind_line }}", "Period: {{ start }} – {{ end }}"],
            [("Co-ordinator", "{{ coordinator }}"), ("As of", "{{ as_of }}"), ("Version", "{{ version }}")],
        ),
        *src.contents(),
        *changes(src),
        src.h1("Objective", new_page=True),
        para("{{ objective_text }}"),
        para("{{ status_text }}"),
        src.h1("Milestones"),
        keep_next(para("The milestones in order, with the report in force for each and what the partners delivered.")),
        src.table("{{ milestone_rows }}", ["Milestone"], small=True),
        para("{%p for m in milestones %}"),
        para("{{ m.heading }}", "Heading2"),
        para("{{ m.standing }}"),
        para("{%p for a in m.activities %}"),
        para("{{ a }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p if m.has_rows %}"),
        keep_next(para("{{ m.rows_intro }}")),
        src.table("{{ m.rows }}", ["Partner"], small=True),
        para("{%p endif %}"),
        para("{%p endfor %}"),
        src.h1("Comparative tables", new_page=True),
        para("{%p if tables %}"),
        para("The tables of the milestone reports, merged where milestones ask for the same kind of input."),
        para("{%p endif %}"),
        para("{%p for t in tables %}"),
        para("{{ t.label }}", "Heading2"),
        keep_next(para("{{ t.intro }}")),
        src.table("{{ t.city_rows }}", ["City"], totals=True),
        para("{%p if t.chart %}"),
        *src.figure("{{ t.chart }}", "Figure: {{ t.chart_measure }} per city."),
        para("{%p endif %}"),
        para("{%p endfor %}"),
        para("{%p if not tables %}"),
        para("{{ no_tables_reason }}"),
        para("{%p endif %}"),
        src.h1("Meetings"),
        para("{%p if meetings %}"),
        keep_next(para("{{ meetings_intro }}")),
        src.table("{{ meeting_rows }}", ["Month"], small=True),
        para("{%p if meetings_chart %}"),
        *src.figure("{{ meetings_chart }}", "Figure: the meetings by month and host city."),
        para("{%p endif %}"),
        para("{%p else %}"),
        para("No meetings are planned in this work package."),
        para("{%p endif %}"),
        para("{%p if source_notes %}"),
        src.h1("Notes on the sources"),
        *bullets("source_notes", "The project's own documents disagree on this work package, or leave something open:"),
        para("{%p endif %}"),
        src.h1("Appendix: provenance", new_page=True),
        para("{{ provenance_text }}"),
        para("{%p if inputs %}"),
        keep_next(para("Every partner file the milestone reports used, by milestone:")),
        src.table("{{ input_rows }}", ["File"], small=True),
        para("{%p else %}"),
        para("{{ no_inputs_reason }}"),
        para("{%p endif %}"),
    ]


# -- the joint final report ---------------------------------------------------------------------
def final_body(src: Source) -> list[etree._Element]:
    return [
        *src.title_page(
            ["Joint final report", "{{ kind_line }}", "Period: {{ start }} – {{ end }}"],
            [("Lead partner", "{{ lead }}"), ("As of", "{{ as_of }}"), ("Version", "{{ version }}")],
        ),
        *src.contents(),
        *changes(src),
        src.h1("The project", new_page=True),
        para("{{ intro_text }}"),
        para("{{ structure_text }}"),
        src.h1("The consortium"),
        keep_next(para("{{ consortium_text }}")),
        src.table("{{ member_rows }}", ["Organisation"], small=True),
        para("{%p if consortium_notes %}"),
        para("Notes on the sources", "Heading2"),
        *bullets("consortium_notes", "The project's own documents disagree about the consortium or the project:"),
        para("{%p endif %}"),
        para("{%p for w in wps %}"),
        src.h1("{{ w.heading }}", new_page=True),
        para("{{ w.intro }}"),
        para("{{ w.status }}"),
        keep_next(para("Its milestones, with the report in force for each and what the partners delivered:")),
        src.table("{{ w.milestone_rows }}", ["Milestone"], small=True),
        para("{%p if w.has_figures %}"),
        para("Results in figures", "Heading2"),
        keep_next(para("The totals across cities of the work package's comparative tables:")),
        src.table("{{ w.figure_rows }}", ["Input"], small=True),
        para("{%p endif %}"),
        para("{%p if w.notes %}"),
        para("Notes on the sources", "Heading2"),
        para("{%p for n in w.notes %}"),
        para("{{ n }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p endif %}"),
        para("{{ w.see_also }}"),
        para("{%p endfor %}"),
        src.h1("The cities across the work packages", new_page=True),
        keep_next(para("{{ cities_text }}")),
        src.table("{{ city_rows }}", ["City"], small=True),
        *src.figure("{{ cities_chart }}", "Figure: each city's milestones by status, over every work package."),
        para("{%p for c in city_lines %}"),
        para("{{ c }}", "ListBullet"),
        para("{%p endfor %}"),
        src.h1("Meetings of the project", new_page=True),
        para("{{ meetings_text }}"),
        para("{%p if meetings_chart %}"),
        *src.figure("{{ meetings_chart }}", "Figure: the project's meetings by month and host city, by work package."),
        para("{%p endif %}"),
        src.table("{{ meeting_rows }}", ["Month"], small=True),
        src.h1("Annex: report versions issued", new_page=True),
        para("{{ provenance_text }}"),
        para("{%p if versions %}"),
        keep_next(para("{{ annex_text }}")),
        src.table("{{ version_rows }}", ["Report"], small=True),
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
