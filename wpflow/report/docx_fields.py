"""Fields of the report that viewers do not compute: the contents list and the update flag.

Word refreshes a TOC field on open (`w:updateFields`), but LibreOffice, browsers' and mail
programs' viewers show the field's stored result as it is. So the result is written here from
the headings the report has: one paragraph per heading, linked to a bookmark on the heading,
without page numbers: only a layout knows them, and a number we guessed could be wrong. Word
rebuilds the whole list, numbers included, on open; the PDF step has LibreOffice update it
before the export (`wpflow/report/uno_export.py`), since LibreOffice computes no page numbers
inside a stored result (PAGEREF fields there stay empty, measured with LibreOffice 7.4).
"""

from __future__ import annotations

from typing import Any

from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml import etree

from wpflow.report.docx_tables import style_of, text_of, xml_text

TOC_LEVELS = {"Heading1": 1, "Heading2": 2}
BOOKMARK_BASE = 9000  # far above the ids Word gives a secretariat's own bookmarks
# CT_Settings children that follow w:updateFields (ECMA-376 Part 1, 17.15.1.78; python-docx's list)
_AFTER_UPDATE_FIELDS = (
    "w:hdrShapeDefaults",
    "w:footnotePr",
    "w:endnotePr",
    "w:compat",
    "w:docVars",
    "w:rsids",
    "m:mathPr",
    "w:attachedSchema",
    "w:themeFontLang",
    "w:clrSchemeMapping",
    "w:doNotIncludeSubdocsInStats",
    "w:doNotAutoCompressPictures",
    "w:forceUpgrade",
    "w:captions",
    "w:readModeInkLockDown",
    "w:smartTagType",
    "sl:schemaLibrary",
    "w:shapeDefaults",
    "w:doNotEmbedSmartTags",
    "w:decimalSymbol",
    "w:listSeparator",
)


def ensure_update_fields(document: Any) -> None:
    """Ask Word to refresh the TOC and page fields on open, even if an edit dropped the flag.
    Placed where the CT_Settings sequence wants it: Word rejects out-of-order settings."""
    settings = document.settings.element
    settings.remove_all("w:updateFields")
    flag = OxmlElement("w:updateFields", {qn("w:val"): "true"})
    settings.insert_element_before(flag, *_AFTER_UPDATE_FIELDS)


def headings(body: etree._Element) -> list[tuple[int, etree._Element]]:
    """(level, paragraph) of every top-level heading the contents list shows, in order."""
    found = [(style_of(p), p) for p in body.iterchildren(qn("w:p")) if text_of(p).strip()]
    return [(TOC_LEVELS[style], p) for style, p in found if style is not None and style in TOC_LEVELS]


def bookmark(p: etree._Element, number: int) -> str:
    """Wrap the heading's runs in a `_Toc…` bookmark, as Word does, and return its name."""
    name = f"_Toc{BOOKMARK_BASE + number}"
    start = parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="{BOOKMARK_BASE + number}" w:name="{name}"/>')
    end = parse_xml(f'<w:bookmarkEnd {nsdecls("w")} w:id="{BOOKMARK_BASE + number}"/>')
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        p.insert(0, start)
    else:
        ppr.addnext(start)
    p.append(end)
    return name


def entry_xml(level: int, text: str, anchor: str, opening: str = "", closing: str = "") -> str:
    """One contents line: style TOC<level>, the heading text linked to the heading."""
    return (
        f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="TOC{level}"/></w:pPr>{opening}'
        f'<w:hyperlink w:anchor="{anchor}" w:history="1">'
        f'<w:r><w:rPr><w:noProof/></w:rPr><w:t xml:space="preserve">{xml_text(text)}</w:t></w:r>'
        f"</w:hyperlink>{closing}</w:p>"
    )


def toc_field(body: etree._Element) -> etree._Element | None:
    """The paragraph holding the TOC field's instruction (the template's contents list)."""
    for instr in body.iter(qn("w:instrText")):
        if (instr.text or "").strip().startswith("TOC"):
            return next(instr.iterancestors(qn("w:p")))
    return None


def fill_contents(body: etree._Element) -> int:
    """Replace the TOC field's placeholder result by an entry per heading; returns how many.
    The field's begin/instruction/separate runs open the first entry and its end closes the
    last, so Word still sees one TOC field it can update."""
    field = toc_field(body)
    found = headings(body)
    if field is None or not found:
        return 0
    runs = field.findall(qn("w:r"))
    separate = next(
        i
        for i, r in enumerate(runs)
        if r.find(qn("w:fldChar")) is not None and r.find(qn("w:fldChar")).get(qn("w:fldCharType")) == "separate"
    )
    opening = "".join(etree.tostring(r, encoding="unicode") for r in runs[: separate + 1])
    closing = etree.tostring(runs[-1], encoding="unicode")
    entries = []
    for n, (level, p) in enumerate(found):
        anchor = bookmark(p, n)
        entries.append(
            entry_xml(
                level, text_of(p).strip(), anchor, opening if n == 0 else "", closing if n == len(found) - 1 else ""
            )
        )
    for xml in reversed(entries):
        field.addnext(parse_xml(xml))
    field.getparent().remove(field)
    return len(entries)
