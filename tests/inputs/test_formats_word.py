"""Word documents partners send: meeting reports and narratives read from their headings and
tables, attendance and row kinds as Word tables."""

from __future__ import annotations

from tests.kinds import KINDS
from wpflow.inputs.validate import validate_file


def test_a_meeting_report_in_word_reads_its_fields_from_headings(tmp_path):
    """Date, City, Attendance ('Tallinn: 3') and Outcomes as Heading 1 sections fill the report's
    typed fields; other headings stay narrative sections."""
    from docx import Document

    doc = Document()
    doc.add_paragraph("Second ARG meeting", style="Title")
    for heading, paragraphs in [
        ("Date", ["14.09.2006"]),
        ("City", ["Tallinn"]),
        ("Attendance", ["Tallinn: 4", "Rīga: 3"]),
        ("Outcomes", ["Survey agreed.", "Next meeting in Oslo."]),
        ("Discussion", ["Long and useful."]),
    ]:
        doc.add_heading(heading, level=1)
        for text in paragraphs:
            doc.add_paragraph(text)
    path = tmp_path / "meeting_report.docx"
    doc.save(str(path))
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    report = result.document
    assert (report["title"], report["date"], report["city"]) == ("Second ARG meeting", "2006-09-14", "Tallinn")
    assert report["attendance"] == [{"city": "Tallinn", "participants": 4}, {"city": "Rīga", "participants": 3}]
    assert report["outcomes"] == ["Survey agreed.", "Next meeting in Oslo."]
    assert [s["heading"] for s in report["sections"]] == ["Discussion"]


def test_a_narrative_in_word_reads_headings_and_tables_as_sections(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("Progress in Rīga", style="Title")
    doc.add_paragraph("Template instructions: replaced text goes under the headings.")
    doc.add_heading("Progress", level=1)
    doc.add_paragraph("Survey done in Rīga and Jūrmala.")
    table = doc.add_table(rows=2, cols=2)
    for r, cells in enumerate([["Activity", "Status"], ["Survey", "done"]]):
        for c, value in enumerate(cells):
            table.cell(r, c).text = value
    doc.add_heading("Next steps", level=1)
    doc.add_paragraph("Workshop in Łódź.")
    path = tmp_path / "progress_narrative.docx"
    doc.save(str(path))
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert result.document == {
        "title": "Progress in Rīga",
        "sections": [
            {"heading": "Progress", "text": "Survey done in Rīga and Jūrmala.\n\nActivity | Status\n\nSurvey | done"},
            {"heading": "Next steps", "text": "Workshop in Łódź."},
        ],
    }


def test_meeting_attendance_as_a_word_table(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("Second ARG meeting", style="Title")
    for heading, text in [("Date", "2006-09-14"), ("City", "Tallinn"), ("Outcomes", "Survey agreed.")]:
        doc.add_heading(heading, level=1)
        doc.add_paragraph(text)
    doc.add_heading("Attendance", level=1)
    table = doc.add_table(rows=3, cols=2)
    for r, cells in enumerate([["City", "Participants"], ["Tallinn", "4"], ["Rīga", "3"]]):
        for c, value in enumerate(cells):
            table.cell(r, c).text = value
    path = tmp_path / "meeting_report.docx"
    doc.save(str(path))
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert result.document["attendance"] == [
        {"city": "Tallinn", "participants": 4},
        {"city": "Rīga", "participants": 3},
    ]


def test_row_kind_as_a_word_table(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("Our seed funding schemes")
    table = doc.add_table(rows=2, cols=5)
    for r, cells in enumerate(
        [
            ["Name", "Provider", "Level", "Instrument", "Budget (EUR)"],
            ["Rīga Seed", "Rīgas dome", "municipal", "grant", "1 250 000,50"],
        ]
    ):
        for c, value in enumerate(cells):
            table.cell(r, c).text = value
    path = tmp_path / "seed_funding.docx"
    doc.save(str(path))
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert result.rows[0]["budget_eur"] == 1_250_000.5 and result.rows[0]["provider"] == "Rīgas dome"
