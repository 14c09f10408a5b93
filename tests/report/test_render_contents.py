"""The Word report's provenance and determinism, scale and escaping, the templates' contract, and
the sections that apply (contents, version, changes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from schemas.records import (
    ComparativeTable,
    NarrativeBlock,
)
from tests.kinds import KINDS
from tests.report.documents import (
    GENERATED_AT,
    HASHES,
    NNBSP,
    TEMPLATES,
    all_text,
    document,
    headings_of,
    part_xml,
    render,
    seed_funding_table,
    table_with,
)
from wpflow.milestone.merge import kind_notes
from wpflow.report.render import render_report, report_context, template_variables


# -- provenance and determinism -------------------------------------------------------------
def test_provenance_lists_input_hashes_template_hash_version_and_time(report):
    import wpflow

    text = all_text(document(report))
    for sha in HASHES:
        assert sha in text
    assert "seed_Malmö.xlsx" in text
    # the template's hash shortened in the sentence; the files' hashes in full in the annex's table
    assert report.template_sha256[:12] in text and report.template_sha256 not in text
    assert "made on 3 July 2006 from the report template" in text
    assert "wpflow" not in text and wpflow.__version__ not in text  # the deliverable is the project's
    assert "T09:30:00" not in text and "2006-07-03" not in text


def test_same_inputs_render_the_same_bytes(summary, tmp_path):
    first, second = render(summary, tmp_path / "a"), render(summary, tmp_path / "b")
    assert all_text(document(first)) == all_text(document(second))
    assert Path(first.path).read_bytes() == Path(second.path).read_bytes()
    assert first.sha256 == second.sha256
    props = document(first).core_properties
    assert props.created == props.modified == GENERATED_AT
    assert props.author == "the lead partner"  # the fixture has no frame; a project's: tests/report/test_deliverable.py
    assert props.last_modified_by == props.author
    assert props.title == "BaltMet Inno WP4-M3: Public seed funding schemes"


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
        **kind_notes(KINDS["marketing_contacts"], KINDS["marketing_contacts"].measures),
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


# -- contents, version, changes, sections that apply ---------------------------------


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
    # a note on the sources is for the coordinator (`wpflow project check`), never in the deliverable
    assert "'Kick-off' (March 2005): host city not stated." not in [p.text for p in d.paragraphs]
    assert "Notes on the sources" not in text


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
