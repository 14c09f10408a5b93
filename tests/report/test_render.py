"""The Word report: title page, fields, tables, chart."""

from __future__ import annotations

import pytest

from schemas.records import (
    ComparativeTable,
)
from tests.report.documents import (
    all_text,
    document,
    part_xml,
    table_with,
)


# -- title page, headings, fields -----------------------------------------------------------
def test_title_page_names_project_wp_milestone_period_and_status(report):
    text = all_text(document(report))
    for expected in [
        "BaltMet Inno",
        "Baltic Metropoles Innovation Strategy",
        "Interreg IIIB Baltic Sea Region",
        "WP4",
        "Innovation environment benchmarking",
        "WP4-M3",
        "Public seed funding schemes",
        "1 January 2006",
        "30 June 2006",
        "incomplete",
        "3 July 2006",
    ]:
        assert expected in text
    assert "Version: 1" in [p.text for p in document(report).paragraphs]
    assert "{{" not in text and "{%" not in text
    assert report.path.endswith("WP4-M3.docx") and report.milestone_id == "WP4-M3"


def test_toc_is_a_complex_field_refreshed_on_open(report):
    body = part_xml(report, "word/document.xml")
    assert 'w:fldCharType="begin"' in body and 'w:fldCharType="separate"' in body
    assert 'TOC \\o "1-3" \\h \\z \\u' in body
    assert '<w:updateFields w:val="true"/>' in part_xml(report, "word/settings.xml")


def test_sections_use_word_heading_styles(report):
    """A deliverable's order: summary, method, results, contributions, conclusions, annexes."""
    d = document(report)
    level = {1: [], 2: [], 3: []}
    for p in d.paragraphs:
        if p.style.name in ("Heading 1", "Heading 2", "Heading 3"):
            level[int(p.style.name[-1])].append(p.text)
    assert level[1] == [
        "Executive summary",
        "Method and sources",
        "Results by city",
        "Partner contributions",
        "Conclusions and next steps",
        "Annex A: provenance",
    ]
    assert level[2] == [
        "What was asked, of whom",
        "The work plan",
        "Meetings",
        "Currencies",
        "Public seed-funding schemes",
        "Partner status",
        "Missing inputs",
        "Partners' narratives",
        "Conclusions",
        "Next steps",
    ]
    assert level[3] == ["Malmö: Progress", "Rīga: Progress"]


def test_meetings_mark_assumed_ones(report):
    table = table_with(document(report), "City", "Topic")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows == [
        ["Malmö", "March 2006", "Seed funding workshop", ""],
        ["Rīga", "May 2006", "Steering group", "assumed†"],
    ]


def test_partner_status_in_words(report):
    table = table_with(document(report), "Partner", "Status")
    by_city = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    assert by_city["Oslo"][3:] == ["missing", "—", ""]
    assert by_city["Rīga"][2:] == ["Public seed-funding schemes", "late", "seed_Rīga.xlsx", "1"]
    assert by_city["Malmö"][3] == "on time"


def test_missing_cities_listed(report):
    paragraphs = [p.text for p in document(report).paragraphs if p.style.name == "Heading 2" or p.text == "Oslo"]
    at = paragraphs.index("Missing inputs")
    assert "Oslo" in paragraphs[at + 1 : at + 4]


def test_missing_inputs_follow_partner_status(report):
    """The same story, told together, under the partners' contributions after the results."""
    headings = [p.text for p in document(report).paragraphs if p.style.name == "Heading 2"]
    assert headings[headings.index("Partner status") + 1] == "Missing inputs"
    assert headings.index("Public seed-funding schemes") < headings.index("Partner status")


# -- chart --------------------------------------------------------------------------------
def test_chart_is_an_inline_png(report):
    d = document(report)
    assert len(d.inline_shapes) == 1
    blip = d.inline_shapes[0]._inline.xpath(".//a:blip/@r:embed")[0]
    image = d.part.related_parts[blip]
    assert image.content_type == "image/png" and image.blob.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Annual budget (EUR) per city" in all_text(d)


@pytest.mark.parametrize("cities", [7, 500], ids=["a bar per city", "500 cities as one step outline"])
def test_chart_png_is_byte_stable_and_shows_the_values(cities: int) -> None:
    from wpflow.report.charts import CHART_DPI, CHART_SIZE_IN, chart_png

    def table(budgets: list[float]) -> ComparativeTable:
        rows = [{"city": f"City {i}", "Annual budget (EUR)": b} for i, b in enumerate(budgets)]
        return ComparativeTable(
            kind="seed_funding", label="Seed", columns=["Annual budget (EUR)"], rows=rows, totals={}
        )

    budgets = [float(100_000 * (1 + i % 9)) for i in range(cities)]
    png = chart_png(table(budgets), "Annual budget (EUR)")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"Software" not in png
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (round(CHART_SIZE_IN[0] * CHART_DPI), round(CHART_SIZE_IN[1] * CHART_DPI))
    assert chart_png(table(budgets), "Annual budget (EUR)") == png
    assert chart_png(table([*budgets[:-1], 0.0]), "Annual budget (EUR)") != png  # the last city's bar


def test_xml_text_escapes_and_drops_exactly_what_xml_forbids() -> None:
    from wpflow.report.docx_tables import _XML_TEXT, xml_text

    for code in sorted(_XML_TEXT):  # every character it changes, alone and inside a text
        char = chr(code)
        assert xml_text(f"a{char}b") == f"a{char}b".translate(_XML_TEXT) != f"a{char}b"
    assert xml_text("Rīga\t10\u202f000 € «ok»\n") == "Rīga\t10\u202f000 € «ok»\n"  # kept as it is
