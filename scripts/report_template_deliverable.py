"""The milestone report's structure as a deliverable, an idempotent edit of `templates/report.docx`.

A report a coordinator signs reads: title page (programme, project, WP, deliverable, version,
date, DRAFT/FINAL, author and coordinator, the publicity block), executive summary, method and
sources, results by city, partner contributions, conclusions and next steps, annexes. This
edit moves the template's existing sections into that order and adds the missing ones; quality
notes for the coordinator ("notes on the sources") leave the report — `wpflow project check`
says them. Run by `scripts/build_report_template.py`; a template already edited is left as it is.
"""

from __future__ import annotations

import copy

import docx
from build_report_template import find_p, has, insert_after, keep_next, para, text_of
from docx.oxml.ns import qn
from lxml import etree


def blocks(var: str, heading: str = "Heading3") -> list[etree._Element]:
    """A person's Markdown blocks (`wpflow.report.narrative.markdown_blocks`) as headings,
    bulleted and numbered items and paragraphs."""
    return [
        para(f"{{%p for b in {var} %}}"),
        para("{%p if b.kind == 'heading' %}"),
        para("{{ b.text }}", heading, keep_next=True),
        para("{%p elif b.kind == 'bullet' %}"),
        para("{{ b.text }}", "ListBullet"),
        para("{%p elif b.kind == 'numbered' %}"),
        para("{{ b.text }}", "ListContinue"),
        para("{%p else %}"),
        para("{{ b.text }}"),
        para("{%p endif %}"),
        para("{%p endfor %}"),
    ]


def coordinators(var: str, awaiting: str) -> list[etree._Element]:
    """The coordinator's section, or the sentence saying it is awaited."""
    return [para(f"{{%p if {var} %}}"), *blocks(var), para("{%p else %}"), para(awaiting), para("{%p endif %}")]


def block_end(start: etree._Element) -> etree._Element:
    """The `{%p endif %}`/`{%p endfor %}` closing the block `start` opens, nesting counted."""
    depth, el = 0, start
    while True:
        text = text_of(el)
        if text.startswith(("{%p if", "{%p for")):
            depth += 1
        elif text.startswith(("{%p endif", "{%p endfor")):
            depth -= 1
            if depth == 0:
                return el
        el = el.getnext()


def span(start: etree._Element) -> list[etree._Element]:
    end, out = block_end(start), [start]
    while out[-1] is not end:
        out.append(out[-1].getnext())
    return out


def restyle(p: etree._Element, style: str) -> None:
    p.find(qn("w:pPr")).find(qn("w:pStyle")).set(qn("w:val"), style)


def retext(p: etree._Element, text: str) -> None:
    ts = list(p.iter(qn("w:t")))
    ts[0].text = text
    for t in ts[1:]:
        t.text = ""


def move_page_break(src: etree._Element, dst: etree._Element) -> None:
    brk = src.find(qn("w:pPr")).find(qn("w:pageBreakBefore"))
    if brk is not None:
        src.find(qn("w:pPr")).remove(brk)
        ppr = dst.find(qn("w:pPr"))
        ppr.insert(1 if ppr.find(qn("w:pStyle")) is not None else 0, brk)


def title_page(body: etree._Element) -> None:
    milestone = find_p(body, "Milestone {{ milestone_id }}: {{ milestone_title }}")
    milestone.addnext(para("{{ deliverable }}", bold_label="Deliverable: ", spacing_after=40))
    for t in find_p(body, "Status: {{ status }}").iter(qn("w:t")):
        if t.text == "Status: ":  # complete or incomplete: what the inputs are, not the document
            t.text = "Inputs: "
    insert_after(
        find_p(body, "Version: {{ version }}"),
        para("{{ document_status }}", bold_label="Document status: ", spacing_after=40),
        para("{{ author }}{{ author_mark }}", bold_label="Author: ", spacing_after=40),
        para("{{ coordinator }}{{ coordinator_mark }}", bold_label="Project coordinator: ", spacing_after=40),
        para("{%p if draft %}"),
        para("", bold_label="{{ draft_line }}", spacing_after=40),
        para("{%p endif %}"),
        para("{%p if title_marked %}"),
        para("{{ assumed_note }}", "Caption"),
        para("{%p endif %}"),
        para("{%p if publicity %}"),
        para("{%p if emblem %}"),
        para("{{ emblem }}", spacing_after=40),
        para("{%p endif %}"),
        para("{{ publicity_line }}", spacing_after=0),
        para("{{ publicity_programme }}"),
        para("{%p endif %}"),
    )


def executive_summary_and_method(body: etree._Element) -> None:
    changes_end = block_end(find_p(body, "{%p if changes %}"))
    activities = find_p(body, "Activities")
    summary = para("Executive summary", "Heading1")
    insert_after(
        changes_end,
        summary,
        para("{{ figures_intro }}"),
        para("{%p for f in key_figures %}"),
        para("{{ f }}", "ListBullet"),
        para("{%p endfor %}"),
        *coordinators("summary_blocks", "{{ awaiting_summary }}"),
        para("Method and sources", "Heading1"),
        para("What was asked, of whom", "Heading2"),
        para("{%p for r in requests %}"),
        para("{{ r }}", "ListBullet"),
        para("{%p endfor %}"),
    )
    move_page_break(activities, summary)
    restyle(activities, "Heading2")
    retext(activities, "The work plan")
    activities.addnext(para("{{ plan_intro }}"))
    meetings = find_p(body, "Meetings")
    restyle(meetings, "Heading2")
    for t in meetings.itersiblings():
        if t.tag == qn("w:tbl"):
            table = t
            break
    for wt in table.iter(qn("w:t")):
        if wt.text == "{{ 'assumed' if m.assumed else '' }}":
            wt.text = "{{ m.note }}"
    table.addprevious(para("Table {{ meetings_table_no }}: meetings of the milestone.", "Caption", keep_next=True))
    note = table.getnext()
    retext(note, "{{ meetings_note }}")
    note.addprevious(para("{%p if meetings_note %}"))
    note.addnext(para("{%p endif %}"))
    meetings_end = block_end(meetings.getnext())
    rates = rates_table(table)
    insert_after(
        meetings_end,
        para("{%p if definitions %}"),
        para("Definitions", "Heading2"),
        para("{%p for d in definitions %}"),
        para("{{ d }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p if definitions_marked %}"),
        para("{{ assumed_note }}"),
        para("{%p endif %}"),
        para("{%p endif %}"),
        para("{%p if has_amounts %}"),
        para("Currencies", "Heading2"),
        para("{{ conversion }}"),
        para("{%p if rates %}"),
        para("Table {{ rates_table_no }}: conversion rates to the euro.", "Caption", keep_next=True),
        rates,
        para("{%p if rates_marked %}"),
        para("{{ assumed_note }}"),
        para("{%p endif %}"),
        para("{%p endif %}"),
        para("{%p endif %}"),
    )
    notes = find_p(body, "{%p if source_notes %}")
    for el in span(notes):
        body.remove(el)


def rates_table(meetings: etree._Element) -> etree._Element:
    """The meetings table's look, with the rates' columns."""
    table = copy.deepcopy(meetings)
    texts = {
        "City": "Currency",
        "Month": "Per euro",
        "Topic": "Source",
        "Note": "Used in",
        "{%tr for m in meetings %}": "{%tr for r in rates %}",
        "{{ m.city }}": "{{ r.currency }}{{ r.mark }}",  # the code; its name leads the source
        "{{ m.month }}": "{{ r.per_eur }}",
        "{{ m.topic }}": "{{ r.source }}",
        "{{ m.note }}": "{{ r.countries }}",
    }
    for wt in table.iter(qn("w:t")):
        wt.text = texts.get(wt.text or "", wt.text)
    widths = [1300, 1100, 4900, 1770]  # twips: a code, a rate, a sentence, a country
    for col, w in zip(table.find(qn("w:tblGrid")).findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(w))
    for tr in table.findall(qn("w:tr")):
        for tc, w in zip(tr.findall(qn("w:tc")), widths, strict=True):
            tc.find(qn("w:tcPr")).find(qn("w:tcW")).set(qn("w:w"), str(w))
    return table


def results_and_contributions(body: etree._Element) -> None:
    loop = find_p(body, "{%p for t in tables %}")
    loop_end = block_end(loop)
    label = loop.getnext()
    restyle(label, "Heading2")
    loop.addprevious(para("Results by city", "Heading1"))
    loop.addprevious(para("{{ results_intro }}", keep_next=True))
    intro = find_p(body, "One row per city", start=True)
    retext(intro, "Table {{ t.table_no }}: {{ t.caption }}")
    restyle_or_add(intro, "Caption")
    city_table = next(intro.itersiblings(qn("w:tbl")))
    for tr in city_table.findall(qn("w:tr"))[:-1]:  # all but the totals: the table holds together
        for p in tr.iter(qn("w:p")):
            keep_next(p)
    figure = find_p(body, "Figure: {{ t.chart_measure }} per city.")
    retext(figure, "Figure {{ t.figure_no }}: {{ t.chart_measure }} per city.")
    chart = figure.getprevious()
    keep_next(chart)
    keep_next(figure)
    # the chart first, its caption, then the table: each kept with the next, so a chart never
    # stands on one page and its table on another
    insert_after(label, *span(chart.getprevious()))
    details = find_p(body, "{%p if t.has_details %}")
    detail_part = span(details)
    insert_after(
        block_end(intro.getprevious()),  # {%p if t.has_rows %}'s endif
        para("{%p for line in t.analysis %}"),
        para("{{ line }}"),
        para("{%p endfor %}"),
    )
    insert_after(loop_end, para("{%p if not tables %}"), para("{{ no_tables }}"), para("{%p endif %}"))
    after_loop = loop_end.getnext().getnext().getnext()  # the if-not-tables block's endif
    status_start = find_p(body, "Partner status").getprevious()
    missing_start = find_p(body, "Missing inputs").getprevious()
    status_block, missing_block = span(status_start), span(missing_start)
    contributions = [
        para("{%p if requires_inputs or expects_narratives %}"),
        para("Partner contributions", "Heading1"),
        para("{%p endif %}"),
    ]
    insert_after(after_loop, *contributions, *status_block, *missing_block)
    status = find_p(body, "Partner status")
    restyle(status, "Heading2")
    status_intro = status.getnext()
    retext(status_intro, "Table {{ status_table_no }}: the status of every required input per partner.")
    restyle_or_add(status_intro, "Caption")
    status_table = next(status.itersiblings(qn("w:tbl")))
    for wt in status_table.iter(qn("w:t")):
        if wt.text == "{{ s.organisation }}":
            wt.text = "{{ s.organisation }}{{ s.mark }}"
    insert_after(status_table, para("{%p if status_marked %}"), para("{{ assumed_note }}"), para("{%p endif %}"))
    restyle(find_p(body, "Missing inputs"), "Heading2")
    narratives = find_p(body, "Narratives")
    restyle(narratives, "Heading2")
    retext(narratives, "Partners' narratives")
    title = find_p(body, "{{ n.title }}")
    restyle(title, "Heading3")
    old_loop = find_p(body, "{%p for text in n.paragraphs %}")
    for el in span(old_loop):
        if el is old_loop:
            continue
        body.remove(el)
    insert_after(old_loop, *blocks("n.blocks", "Heading4"))
    body.remove(old_loop)
    narratives_end = block_end(narratives.getprevious())
    insert_after(
        narratives_end,
        para("Conclusions and next steps", "Heading1"),
        para("Conclusions", "Heading2"),
        *coordinators("conclusion_blocks", "{{ awaiting_conclusions }}"),
        para("Next steps", "Heading2"),
        *coordinators("next_step_blocks", "{{ awaiting_next_steps }}"),
    )
    annexes(body, detail_part)


def annexes(body: etree._Element, detail_part: list[etree._Element]) -> None:
    provenance = find_p(body, "Appendix: provenance")
    retext(provenance, "{{ provenance_heading }}")
    heading = para("Annex A: data", "Heading1")
    opening = [para("{%p if any_details %}"), heading, para("{{ data_intro }}"), para("{%p for t in tables %}")]
    for el in opening:
        provenance.addprevious(el)
    for el in detail_part:
        provenance.addprevious(el)
    provenance.addprevious(para("{%p endfor %}"))
    provenance.addprevious(para("{%p endif %}"))
    intro = find_p(body, "Every entry the partners delivered", start=True)
    retext(
        intro, "Table {{ t.detail_table_no }}: every entry the partners delivered, by city. Personal data is not shown."
    )
    restyle_or_add(intro, "Caption")
    sentence = find_p(body, "This is version {{ version }}", start=True)
    retext(
        sentence,
        "This is version {{ version }} of the report, made on {{ generated_on }} from the report template "
        "{{ template_short }}; the same inputs, template and coordinator's text make the same report. "
        "{{ provenance_files }}",
    )


def restyle_or_add(p: etree._Element, style: str) -> None:
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        ppr = etree.Element(qn("w:pPr"))
        p.insert(0, ppr)
    found = ppr.find(qn("w:pStyle"))
    if found is None:
        found = etree.Element(qn("w:pStyle"))
        ppr.insert(0, found)
    found.set(qn("w:val"), style)
    keep_next(p)


def footer_status(document: docx.document.Document) -> None:
    """DRAFT or FINAL on every page, beside the project and the milestone."""
    for p in document.sections[0].footer.paragraphs:
        for run in p.runs:
            if run.text.startswith("{{ project }} · {{ milestone_id }}") and "document_status" not in run.text:
                run.text = run.text.replace("{{ milestone_id }}", "{{ milestone_id }} · {{ document_status }}", 1)


def deliverable_structure(body: etree._Element) -> None:
    if has(body, "Executive summary"):
        return
    title_page(body)
    executive_summary_and_method(body)
    results_and_contributions(body)
