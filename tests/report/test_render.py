"""The Word report: content, fields, tables, chart, provenance, determinism, escaping, contract."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from schemas.records import (
    ComparativeTable,
    MeetingRow,
    NarrativeBlock,
    PartnerState,
    ReportRef,
    Submission,
    WPSummary,
)
from schemas.settings import ROOT
from wpflow.report.render import render_report, report_context, template_variables

TEMPLATES = ROOT / "templates"
GENERATED_AT = datetime(2006, 7, 3, 9, 30, tzinfo=UTC)
NNBSP = "\u202f"
CITIES = ["Helsinki", "Stockholm", "Malmö", "Rīga", "Tallinn", "Vilnius", "Berlin", "Oslo"]
BUDGETS = [1_250_000, 3_400_000, 980_000, 410_000, 725_500, 300_000, 2_100_000]  # Oslo is missing
HASHES = ["a" * 64, "0123456789abcdef" * 4, "f" * 63 + "0"]


def seed_funding_table(detail_rows: int = 0) -> ComparativeTable:
    delivered = CITIES[:-1]
    rows = [{"city": c, "Schemes": 2.0, "Annual budget (EUR)": float(b)} for c, b in zip(delivered, BUDGETS)]
    details = [
        {
            "city": delivered[i % len(delivered)],
            "name": f"Seed scheme {i}",
            "provider": "Agency",
            "level": "national",
            "instrument": "grant",
            "budget_eur": 10_000 * (i + 1),
            "ticket_min_eur": 5_000,
            "ticket_max_eur": 50_000,
            "since": 1999,
        }
        for i in range(detail_rows)
    ]
    return ComparativeTable(
        kind="seed_funding",
        label="Public seed-funding schemes",
        columns=["Schemes", "Annual budget (EUR)"],
        rows=rows,
        totals={"Schemes": 14.0, "Annual budget (EUR)": float(sum(BUDGETS))},
        detail_columns=[
            "name",
            "provider",
            "level",
            "instrument",
            "budget_eur",
            "ticket_min_eur",
            "ticket_max_eur",
            "since",
        ],
        details=details,
    )


def submission(partner: str, file_name: str, sha: str, version: int = 1) -> Submission:
    when = datetime(2006, 6, 20, 12, tzinfo=UTC)
    return Submission(
        project="BaltMet Inno",
        partner=partner,
        milestone="WP4-M3",
        kind="seed_funding",
        file_name=file_name,
        sha256=sha,
        size=20_480,
        received_at=when,
        modified_at=when,
        version=version,
        status="accepted",
        archive_path=f"outputs/archive/{sha}",
    )


@pytest.fixture
def summary() -> WPSummary:
    """WP4-M3 (public seed funding) as the merge step would hand it over, Oslo missing."""
    partners = [
        PartnerState(
            partner=f"p{i}",
            city=c,
            kind="seed_funding",
            status="missing" if c == "Oslo" else ("late" if c == "Rīga" else "on time"),
            file_name=None if c == "Oslo" else f"seed_{c}.xlsx",
            version=None if c == "Oslo" else 1,
        )
        for i, c in enumerate(CITIES)
    ]
    return WPSummary(
        project="BaltMet Inno",
        project_title="Baltic Metropoles Innovation Strategy",
        programme="Interreg IIIB Baltic Sea Region",
        wp_id="WP4",
        wp_title="Innovation environment benchmarking",
        milestone_id="WP4-M3",
        milestone_title="Public seed funding schemes",
        start=date(2006, 1, 1),
        end=date(2006, 6, 30),
        due=date(2006, 6, 30),
        as_of=date(2006, 7, 3),
        activities=["Collect the public seed-funding schemes of each metropolis", "Compare budgets and tickets"],
        meetings=[
            MeetingRow(city="Malmö", month="2006-03", topic="Seed funding workshop", assumed=False),
            MeetingRow(city="Rīga", month="2006-05", topic="Steering group", assumed=True),
        ],
        tables=[seed_funding_table()],
        narratives=[
            NarrativeBlock(
                city="Malmö",
                kind="progress_narrative",
                title="Malmö: Progress",
                paragraphs=["Schemes mapped with the regional agency.", "Two new schemes since 2005."],
            ),
            NarrativeBlock(
                city="Rīga",
                kind="progress_narrative",
                title="Rīga: Progress",
                paragraphs=["Latvian Guarantee Agency data included."],
            ),
        ],
        partners=partners,
        missing=["Oslo"],
        inputs=[
            submission("p2", "seed_Malmö.xlsx", HASHES[0]),
            submission("p3", "seed_Rīga.xlsx", HASHES[1], 2),
            submission("p0", "seed_Helsinki.xlsx", HASHES[2]),
        ],
        status="incomplete",
    )


def render(summary: WPSummary, out: Path) -> ReportRef:
    return render_report(summary, out, templates_dir=TEMPLATES, generated_at=GENERATED_AT)


@pytest.fixture
def report(summary: WPSummary, tmp_path: Path) -> ReportRef:
    return render(summary, tmp_path)


def document(ref: ReportRef) -> docx.document.Document:
    return docx.Document(ref.path)


def all_text(d: docx.document.Document) -> str:
    """Body text in document order, tables included."""
    return "\n".join(t.text or "" for t in d.element.body.iter(qn("w:t")))


def part_xml(ref: ReportRef, name: str) -> str:
    with zipfile.ZipFile(ref.path) as z:
        return z.read(name).decode("utf-8")


def table_with(d: docx.document.Document, first_header: str, header_cell: str):
    return next(
        t
        for t in d.tables
        if t.rows[0].cells[0].text == first_header and header_cell in [c.text for c in t.rows[0].cells]
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
    headings = {(p.style.name, p.text) for p in document(report).paragraphs if p.style.name.startswith("Heading")}
    for section in [
        "Activities",
        "Meetings",
        "Partner status",
        "Public seed-funding schemes",
        "Narratives",
        "Missing inputs",
        "Appendix: provenance",
    ]:
        assert ("Heading 1", section) in headings
    assert ("Heading 2", "Malmö: Progress") in headings and ("Heading 2", "Rīga: Progress") in headings


def test_footer_has_page_field(report):
    footer = part_xml(report, "word/footer1.xml")
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer
    assert "BaltMet Inno · WP4-M3" in document(report).sections[0].footer.paragraphs[0].text


# -- tables -------------------------------------------------------------------------------
def test_comparative_table_has_a_row_per_city_and_totals(report):
    table = table_with(document(report), "City", "Annual budget (EUR)")
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["City", "Schemes", "Annual budget (EUR)"]
    assert [r[0] for r in rows[1:-1]] == CITIES[:-1]
    assert rows[3] == ["Malmö", "2", f"980{NNBSP}000"]
    assert rows[4] == ["Rīga", "2", f"410{NNBSP}000"]
    assert rows[-1] == ["Total", "14", f"9{NNBSP}165{NNBSP}500"]
    assert table._tbl.tblGrid.findall(qn("w:gridCol")).__len__() == 3


def test_header_rows_repeat_on_each_page(report):
    for table in document(report).tables:
        assert table.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
        assert all(r._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None for r in table.rows[1:])


def test_meetings_mark_assumed_ones(report):
    table = table_with(document(report), "City", "Topic")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows == [
        ["Malmö", "March 2006", "Seed funding workshop", ""],
        ["Rīga", "May 2006", "Steering group", "assumed"],
    ]


def test_partner_status_in_words(report):
    table = table_with(document(report), "Partner", "Status")
    by_city = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    assert by_city["Oslo"][3:] == ["missing", "—", ""]
    assert by_city["Rīga"][2:] == ["Public seed-funding schemes", "late", "seed_Rīga.xlsx", "1"]
    assert by_city["Malmö"][3] == "on time"


def test_missing_cities_listed(report):
    paragraphs = [p.text for p in document(report).paragraphs if p.style.name == "Heading 1" or p.text == "Oslo"]
    at = paragraphs.index("Missing inputs")
    assert "Oslo" in paragraphs[at + 1 : at + 4]


def test_missing_inputs_follow_partner_status(report):
    """The same story, told together; after a landscape table of all entries "Missing inputs"
    stood alone on a portrait page (scripts/build_report_template.py)."""
    headings = [p.text for p in document(report).paragraphs if p.style.name == "Heading 1"]
    assert headings[headings.index("Partner status") + 1] == "Missing inputs"
    assert headings.index("Missing inputs") < headings.index("Public seed-funding schemes")


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


# -- provenance and determinism -------------------------------------------------------------
def test_provenance_lists_input_hashes_template_hash_version_and_time(report):
    import wpflow

    text = all_text(document(report))
    for sha in HASHES:
        assert sha in text
    assert "seed_Malmö.xlsx" in text
    assert report.template_sha256 in text and len(report.template_sha256) == 64
    assert wpflow.__version__ in text and "3 July 2006, 09:30 UTC" in text
    assert "T09:30:00" not in text and "2006-07-03" not in text


def test_same_inputs_render_the_same_bytes(summary, tmp_path):
    first, second = render(summary, tmp_path / "a"), render(summary, tmp_path / "b")
    assert all_text(document(first)) == all_text(document(second))
    assert Path(first.path).read_bytes() == Path(second.path).read_bytes()
    assert first.sha256 == second.sha256
    props = document(first).core_properties
    assert props.created == props.modified == GENERATED_AT
    assert props.author == "wpflow" and props.title == "BaltMet Inno WP4-M3: Public seed funding schemes"


def test_other_time_changes_the_report(summary, tmp_path):
    later = render_report(summary, tmp_path, templates_dir=TEMPLATES, generated_at=datetime(2006, 7, 4, tzinfo=UTC))
    assert later.sha256 != render(summary, tmp_path / "b").sha256


# -- scale and escaping -----------------------------------------------------------------------
def test_detail_table_of_2000_rows_renders_every_row(summary, tmp_path):
    big = summary.model_copy(update={"tables": [seed_funding_table(detail_rows=2000)]})
    table = table_with(document(render(big, tmp_path)), "City", "Budget (EUR)")
    assert [c.text for c in table.rows[0].cells] == [
        "City",
        "Name",
        "Provider",
        "Level",
        "Instrument",
        "Budget (EUR)",
        "Ticket min (EUR)",
        "Ticket max (EUR)",
        "Since",
    ]
    assert len(table.rows) == 2001
    assert [c.text for c in table.rows[2000].cells] == [
        "Tallinn",
        "Seed scheme 1999",
        "Agency",
        "national",
        "grant",
        f"20{NNBSP}000{NNBSP}000",
        f"5{NNBSP}000",
        f"50{NNBSP}000",
        "1999",
    ]
    assert len(table._tbl.tblGrid.findall(qn("w:gridCol"))) == 9
    alignments = [c.paragraphs[0].alignment for c in table.rows[1].cells]
    assert alignments[5] == WD_ALIGN_PARAGRAPH.RIGHT and alignments[1] != WD_ALIGN_PARAGRAPH.RIGHT


def test_markup_and_control_characters_render_as_text(summary, tmp_path):
    nasty = "R&D <b>grants</b> \x01\x0bbell\x07"
    table = seed_funding_table(detail_rows=1)
    table.details[0]["name"] = nasty
    table.rows[0]["city"] = "Helsinki <&>"
    odd = summary.model_copy(
        update={
            "tables": [table],
            "activities": [nasty],
            "project": "R&D <Net>",
            "narratives": [
                NarrativeBlock(city="Malmö", kind="progress_narrative", title="A & B <c>", paragraphs=[nasty])
            ],
        }
    )
    rendered = document(render(odd, tmp_path))
    text = all_text(rendered)
    assert "R&D <b>grants</b> bell" in text and "R&D <Net>" in text
    assert rendered.core_properties.title == "R&D <Net> WP4-M3: Public seed funding schemes"
    assert "Helsinki <&>" in text and "A & B <c>" in text
    assert "\x01" not in text and "\x07" not in text


def test_personal_columns_never_rendered(summary, tmp_path):
    contacts = ComparativeTable(
        kind="marketing_contacts",
        label="Marketing organisations and contact persons",
        columns=["Organisations"],
        rows=[{"city": "Malmö", "Organisations": 1.0}],
        totals={"Organisations": 1.0},
        detail_columns=["organisation", "type", "contact_name", "email", "phone"],
        details=[
            {
                "city": "Malmö",
                "organisation": "Malmö Turism",
                "type": "tourism board",
                "contact_name": "Anna Svensson",
                "email": "anna@example.se",
                "phone": "+46 40 123",
            }
        ],
    )
    text = all_text(document(render(summary.model_copy(update={"tables": [contacts]}), tmp_path)))
    assert "Malmö Turism" in text
    assert "Anna Svensson" not in text and "anna@example.se" not in text and "+46 40 123" not in text


# -- contract ---------------------------------------------------------------------------------
FINAL_TEMPLATES = {"wp_report.docx", "final_report.docx"}  # their contract: tests/final/test_final_reports.py


@pytest.mark.parametrize(
    "template", sorted(t for t in TEMPLATES.rglob("*.docx") if t.name not in FINAL_TEMPLATES), ids=lambda p: p.name
)
def test_every_template_variable_is_provided(template, summary):
    used = template_variables(template)
    assert used, "a report template without variables is not a template"
    assert used <= set(report_context(summary)), used - set(report_context(summary))


# -- issue 12: contents, version, changes, sections that apply ---------------------------------
def headings_of(d: docx.document.Document) -> list[str]:
    return [p.text for p in d.paragraphs if p.style.name in ("Heading 1", "Heading 2")]


def test_contents_list_is_written_with_every_heading(report):
    d = document(report)
    entries = [p.text for p in d.paragraphs if p.style.name.lower() in ("toc 1", "toc 2")]
    assert entries == headings_of(d)
    assert "Word fills in" not in all_text(d)
    body = part_xml(report, "word/document.xml")
    assert body.count('w:fldCharType="begin"') == body.count('w:fldCharType="end"')  # one TOC field, closed


def test_changes_section_only_when_something_changed(summary, tmp_path):
    assert not any(h.startswith("Changes since") for h in headings_of(document(render(summary, tmp_path / "a"))))
    v2 = summary.model_copy(
        update={
            "version": 2,
            "changes_since": "v1 of 3 July 2006",
            "changes": ["Oslo delivered its seed-funding schemes."],
        }
    )
    d = document(render(v2, tmp_path / "b"))
    heads = headings_of(d)
    assert heads[0] == "Changes since v1 of 3 July 2006"  # right after the contents list
    texts = [p.text for p in d.paragraphs]
    assert "Oslo delivered its seed-funding schemes." in texts and "Version: 2" in texts
    assert "This is version 2 of the report" in all_text(d)


def test_sections_only_where_they_apply(summary, tmp_path):
    no_narrative = summary.model_copy(update={"narratives": []})
    text = all_text(document(render(no_narrative, tmp_path / "a")))
    assert "No narrative contributions were received." not in text and "Narratives" not in text
    nothing = summary.model_copy(
        update={
            "narratives": [],
            "partners": [],
            "missing": [],
            "inputs": [],
            "tables": [],
            "source_notes": ["'Kick-off' (2005-03): host city not stated"],
        }
    )
    d = document(render(nothing, tmp_path / "b"))
    assert "Partner status" not in headings_of(d) and "Missing inputs" not in headings_of(d)
    text = all_text(d)
    assert "asks the partners for no files" in text
    assert "'Kick-off' (March 2005): host city not stated." in [p.text for p in d.paragraphs]


def test_partners_by_organisation_and_kinds_by_title(summary, tmp_path):
    named = summary.model_copy(update={"organisations": {"p2": "City of Malmö, Business Development"}})
    d = document(render(named, tmp_path))
    status = table_with(d, "Partner", "Status")
    assert "City of Malmö, Business Development" in [r.cells[0].text for r in status.rows]
    provenance = table_with(d, "File", "SHA-256")
    assert [r.cells[2].text for r in provenance.rows[1:]] == ["Public seed-funding schemes"] * 3


def test_without_libreoffice_the_docx_stands_alone_said_once(summary, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on it
    import wpflow.report.pdf

    monkeypatch.setattr(wpflow.report.pdf, "_warned", type(wpflow.report.pdf._warned)())  # a fresh "said once" flag
    with caplog.at_level("WARNING", logger="wpflow.report.pdf"):
        first = render_report(summary, tmp_path / "a", templates_dir=TEMPLATES, generated_at=GENERATED_AT, pdf=True)
        second = render_report(summary, tmp_path / "b", templates_dir=TEMPLATES, generated_at=GENERATED_AT, pdf=True)
    assert first.pdf_path is None and second.pdf_path is None and Path(first.path).exists()
    assert [r.message for r in caplog.records].count(
        "LibreOffice (soffice) is not installed: reports are written as DOCX only, without a PDF"
    ) == 1
