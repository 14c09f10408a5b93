"""Apply wpflow's structural edits to `templates/report.docx`, keeping what a secretariat changed.

The template is a Word file people edit; this script makes the edits the renderer relies on
(version on the title page, "Changes since …", sections only where they apply, rows that
never split, contents-list styles, and the structure of a deliverable:
`scripts/report_template_deliverable.py`) with python-docx/lxml, so they
are reviewable and repeatable. Each edit first checks whether it is already there: running the
script twice changes nothing.

    .venv/bin/python scripts/build_report_template.py [templates/report.docx]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
W = nsdecls("w")


def text_of(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(qn("w:t")))


def para(
    text: str,
    style: str | None = None,
    *,
    bold_label: str | None = None,
    keep_next: bool = False,
    spacing_after: int | None = None,
) -> etree._Element:
    """A paragraph as the template writes them: optional style, optional bold 'Label: ' run."""
    ppr = ""
    if style or keep_next or spacing_after is not None:
        ppr = (
            "<w:pPr>"
            + (f'<w:pStyle w:val="{style}"/>' if style else "")
            + ("<w:keepNext/>" if keep_next else "")
            + (f'<w:spacing w:after="{spacing_after}"/>' if spacing_after is not None else "")
            + "</w:pPr>"
        )
    label = f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{bold_label}</w:t></w:r>' if bold_label else ""
    return parse_xml(f'<w:p {W}>{ppr}{label}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>')


def keep_next(p: etree._Element) -> etree._Element:
    """Keep with the next paragraph: a caption with its table, a chart with its caption."""
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        ppr = etree.Element(qn("w:pPr"))
        p.insert(0, ppr)
    if ppr.find(qn("w:keepNext")) is None:
        ppr.insert(1 if ppr.find(qn("w:pStyle")) is not None else 0, etree.Element(qn("w:keepNext")))
    return p


def find_p(body: etree._Element, text: str, start: bool = False) -> etree._Element:
    for p in body.iter(qn("w:p")):
        t = text_of(p)
        if t.startswith(text) if start else t == text:
            return p
    raise LookupError(f"no paragraph {text!r} in the template")


def has(body: etree._Element, text: str) -> bool:
    return any(text in text_of(p) for p in body.iter(qn("w:p")))


def insert_after(anchor: etree._Element, *elements: etree._Element) -> None:
    for el in reversed(elements):
        anchor.addnext(el)


def wrap(first: etree._Element, last: etree._Element, condition: str) -> None:
    """Put `{%p if condition %}` before `first` and `{%p endif %}` after `last`."""
    first.addprevious(para(f"{{%p if {condition} %}}"))
    last.addnext(para("{%p endif %}"))


# -- the edits --------------------------------------------------------------------------------
def title_version(body: etree._Element) -> None:
    if not has(body, "{{ version }}"):
        as_of = find_p(body, "As of: {{ as_of }}")
        as_of.addnext(para("{{ version }}", bold_label="Version: ", spacing_after=40))


def contents_placeholder(body: etree._Element) -> None:
    for t in body.iter(qn("w:t")):
        if (t.text or "").startswith("Word fills in the table of contents"):
            t.text = "The contents are filled in when the report is made; Word refreshes them on open."


def changes_section(body: etree._Element) -> None:
    if has(body, "{%p if changes %}"):
        return
    toc = next(i for i in body.iter(qn("w:instrText")) if "TOC" in (i.text or ""))
    toc_p = next(toc.iterancestors(qn("w:p")))
    insert_after(
        toc_p,
        para("{%p if changes %}"),
        para("Changes since {{ changes_since }}", "Heading1"),
        para("{%p for c in changes %}"),
        para("{{ c }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p endif %}"),
    )


def source_notes_section(body: etree._Element) -> None:
    if has(body, "{%p if source_notes %}"):
        return
    partner_status = find_p(body, "Partner status")
    partner_status.addprevious(para("{%p if source_notes %}"))
    for el in [
        para("Notes on the sources", "Heading1"),
        para("The project's own documents disagree on this milestone, or leave something open:"),
        para("{%p for n in source_notes %}"),
        para("{{ n }}", "ListBullet"),
        para("{%p endfor %}"),
        para("{%p endif %}"),
    ]:
        partner_status.addprevious(el)


def sections_that_apply(body: etree._Element) -> None:
    """Partner status and missing inputs only when the milestone asks for inputs; narratives
    only when it asks for a narrative; empty tables say why instead of showing a bare header."""
    if has(body, "{%p if requires_inputs %}"):
        return
    status_heading = find_p(body, "Partner status")
    status_table = next(status_heading.itersiblings(qn("w:tbl")))
    wrap(status_heading, status_table, "requires_inputs")
    missing_heading = find_p(body, "Missing inputs")
    missing_end = find_p(body, "None: every required input was received.").getnext()  # {%p endif %}
    wrap(missing_heading, missing_end, "requires_inputs")
    narratives = find_p(body, "Narratives")
    narratives_end = find_p(body, "No narrative contributions were received.").getnext()
    wrap(narratives, narratives_end, "expects_narratives")
    intro = find_p(body, "One row per city", start=True)
    city_table = next(intro.itersiblings(qn("w:tbl")))
    intro.addprevious(para("{%p if t.has_rows %}"))
    city_table.addnext(para("{%p endif %}"))
    city_table.addnext(para("{{ t.empty_reason }}"))
    city_table.addnext(para("{%p else %}"))
    provenance_table = next(find_p(body, "Appendix: provenance").itersiblings(qn("w:tbl")))
    provenance_table.addprevious(para("{%p if inputs %}"))
    provenance_table.addnext(para("{%p endif %}"))
    provenance_table.addnext(para("{{ no_inputs_reason }}"))
    provenance_table.addnext(para("{%p else %}"))


def missing_inputs_after_status(body: etree._Element) -> None:
    """The "Missing inputs" section follows "Partner status": the same story (who delivered what), and
    after a landscape table of all entries it stood alone on a portrait page of its own."""
    if has(body, "Executive summary"):
        return  # the deliverable edit placed both, and nests an assumed-organisation note in the status
    status_end = find_p(body, "Partner status").getprevious()  # {%p if requires_inputs %}
    while text_of(status_end) != "{%p endif %}":
        status_end = status_end.getnext()
    heading = find_p(body, "Missing inputs")
    start = heading.getprevious()  # its own {%p if requires_inputs %}
    if start.getprevious() is status_end:
        return
    end = find_p(body, "None: every required input was received.").getnext().getnext()  # if-not, then its block
    block = [start]
    while block[-1] is not end:
        block.append(block[-1].getnext())
    insert_after(status_end, *block)


def provenance_words(body: etree._Element) -> None:
    if has(body, "This is version {{ version }}"):
        return
    p = find_p(body, "This report ", start=True)
    runs = p.findall(qn("w:r"))
    for r in runs[1:]:
        p.remove(r)
    runs[0].find(qn("w:t")).text = (
        "This is version {{ version }} of the report, made by wpflow {{ wpflow_version }} on {{ generated_at }} "
        "from the template with SHA-256 {{ template_sha256 }}. The same inputs and the same template make the "
        "same report."
    )


def partner_column(body: etree._Element) -> None:
    for t in body.iter(qn("w:t")):
        if t.text == "{{ s.partner }}":
            t.text = "{{ s.organisation }}"


def keep_with_table(body: etree._Element) -> None:
    """A sentence introducing a table stays on the page where the table starts."""
    for tbl in body.iter(qn("w:tbl")):
        prev = tbl.getprevious()
        while prev is not None and prev.tag == qn("w:p") and text_of(prev).startswith("{%"):
            prev = prev.getprevious()
        if prev is None or prev.tag != qn("w:p"):
            continue
        ppr = prev.find(qn("w:pPr"))
        if ppr is None:
            ppr = etree.Element(qn("w:pPr"))
            prev.insert(0, ppr)
        if ppr.find(qn("w:keepNext")) is None:  # after pStyle, as CT_PPrBase orders them
            ppr.insert(1 if ppr.find(qn("w:pStyle")) is not None else 0, etree.Element(qn("w:keepNext")))


def page_breaks_as_properties(body: etree._Element) -> None:
    """A paragraph holding only a page break makes a blank page whenever the text before it
    ends at the foot of a page; `pageBreakBefore` on the next heading never does."""
    for br in list(body.iter(qn("w:br"))):
        p = next(br.iterancestors(qn("w:p")))
        if br.get(qn("w:type")) != "page" or text_of(p) or p.getparent() is not body:
            continue
        after = p.getnext()
        while after is not None and text_of(after).startswith("{%"):
            after = after.getnext()
        ppr = after.find(qn("w:pPr"))
        if ppr is None:
            ppr = etree.Element(qn("w:pPr"))
            after.insert(0, ppr)
        if ppr.find(qn("w:pageBreakBefore")) is None:
            at = 1 if ppr.find(qn("w:pStyle")) is not None else 0
            at += ppr.find(qn("w:keepNext")) is not None
            at += ppr.find(qn("w:keepLines")) is not None
            ppr.insert(at, etree.Element(qn("w:pageBreakBefore")))
        body.remove(p)


def small_print(body: etree._Element) -> None:
    """Partner status and provenance hold long names, file names and hashes: 9 pt lets them fit
    the portrait width without breaking a word (`wpflow.report.docx_tables` measures at that size)."""
    for first_header in ("Partner", "File"):
        tbl = next(t for t in body.iter(qn("w:tbl")) if text_of(t.find(f"{qn('w:tr')}/{qn('w:tc')}")) == first_header)
        for r in tbl.iter(qn("w:r")):
            rpr = r.find(qn("w:rPr"))
            if rpr is None:
                rpr = etree.Element(qn("w:rPr"))
                r.insert(0, rpr)
            if rpr.find(qn("w:sz")) is None:
                etree.SubElement(rpr, qn("w:sz")).set(qn("w:val"), "18")


def rows_never_split(body: etree._Element) -> None:
    for tr in body.iter(qn("w:tr")):
        trpr = tr.find(qn("w:trPr"))
        if trpr is None:
            trpr = etree.Element(qn("w:trPr"))
            tr.insert(0, trpr)
        if trpr.find(qn("w:cantSplit")) is None:
            trpr.insert(0, etree.Element(qn("w:cantSplit")))


def toc_styles(document: docx.document.Document) -> None:
    """TOC 1 and TOC 2 paragraph styles (Word's names), so the written contents list looks like
    the one Word would make and a secretariat can restyle it."""
    styles = document.styles.element
    for level, indent in ((1, 0), (2, 220)):
        if styles.find(f"{qn('w:style')}[@{qn('w:styleId')}='TOC{level}']") is not None:
            continue
        styles.append(
            parse_xml(
                f'<w:style {W} w:type="paragraph" w:styleId="TOC{level}"><w:name w:val="toc {level}"/>'
                '<w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:uiPriority w:val="39"/><w:unhideWhenUsed/>'
                f'<w:pPr><w:spacing w:after="60"/><w:ind w:left="{indent}"/></w:pPr>'
                + ("<w:rPr><w:b/></w:rPr>" if level == 1 else "")
                + "</w:style>"
            )
        )


def deliverable(body: etree._Element) -> None:
    """The report as a deliverable (scripts/report_template_deliverable.py); imported here,
    not above, because that module builds on this one's helpers."""
    from report_template_deliverable import deliverable_structure

    deliverable_structure(body)


def source_notes_until_deliverable(body: etree._Element) -> None:
    """The notes on the sources were added here once; the deliverable edit takes them out
    again (they are the coordinator's, `wpflow project check`), so never add them after it."""
    if not has(body, "Executive summary"):
        source_notes_section(body)


EDITS: list[Callable[[etree._Element], None]] = [
    title_version,
    contents_placeholder,
    changes_section,
    source_notes_until_deliverable,
    sections_that_apply,
    missing_inputs_after_status,
    provenance_words,
    partner_column,
    deliverable,
    keep_with_table,
    page_breaks_as_properties,
    small_print,
    rows_never_split,
]


def main(path: Path) -> None:
    document = docx.Document(str(path))
    body = document.element.body
    for edit in EDITS:
        edit(body)
    toc_styles(document)
    from report_template_deliverable import footer_status

    footer_status(document)
    # the DOCX's author is the project's coordinator, rendered by docxtpl like the title
    document.core_properties.author = "{{ coordinator }}"
    document.core_properties.last_modified_by = ""
    document.core_properties.comments = "Milestone report {{ milestone_id }} of {{ project }}: {{ milestone_title }}."
    document.save(str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "templates" / "report.docx")
