"""What partners really send that is wrong, one row each: the file, what validation must say,
and where (sheet, row, column, field) — asserted on the issue as the receipt prints it."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from wpflow.inputs.safety import OLE_MAGIC
from wpflow.inputs.validate import validate_file

SEED = ["name", "provider", "level", "instrument", "budget_eur"]
GOOD_SEED = ["Riga Seed", "Riga City Council", "municipal", "grant", 1_000_000]
CLUSTER = ["name", "sector", "maturity", "companies", "proposed_for_transnational_analysis"]


def xlsx(sheet: str, header: list, *rows: list, extra_sheets: dict | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        ws.append(header)
        for row in rows:
            ws.append(row)
        for title, cells in (extra_sheets or {}).items():
            other = wb.create_sheet(title)
            for row in cells:
                other.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    return build


def seed(*rows: list) -> Callable[[], bytes]:
    return xlsx("Schemes", SEED, *rows)


def text(content: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: content.encode(encoding)


def docx(*paragraphs: tuple[str, str]) -> Callable[[], bytes]:
    def build() -> bytes:
        from docx import Document

        doc = Document()
        for style, words in paragraphs:
            doc.add_paragraph(words, style=style)
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()

    return build


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (8 << 20))  # 8 MB of zeros: ~8 KB packed
    return buf.getvalue()


def ole(*streams: str) -> Callable[[], bytes]:
    """A Compound File header and directory names: how an encrypted OOXML file or an old XLS begins."""
    return lambda: OLE_MAGIC + b"\0" * 504 + b"".join(n.encode("utf-16-le").ljust(64, b"\0") for n in streams)


def lying_zip() -> bytes:
    """A workbook whose sheet declares 5 000 bytes but unpacks to 2 MB: calamine must refuse it."""
    src = zipfile.ZipFile(io.BytesIO(seed(GOOD_SEED)()))
    big = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
        + b"A" * (2 << 20)
        + b"</t></is></c></row></sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            z.writestr(item.filename, big if item.filename == "xl/worksheets/sheet1.xml" else src.read(item.filename))
    raw = bytearray(out.getvalue())
    member = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("xl/worksheets/sheet1.xml")
    struct.pack_into("<I", raw, member.header_offset + 22, 5000)  # local header: uncompressed size
    at = raw.find(b"PK\x01\x02")
    while at != -1:  # central directory entries: uncompressed size at +24, name at +46
        if raw[at + 46 : at + 46 + struct.unpack_from("<H", raw, at + 28)[0]] == member.filename.encode():
            struct.pack_into("<I", raw, at + 24, 5000)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


def docx_table(*rows: list[str]) -> Callable[[], bytes]:
    def build() -> bytes:
        from docx import Document

        doc = Document()
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        for r, cells in enumerate(rows):
            for c, value in enumerate(cells):
                table.cell(r, c).text = value
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()

    return build


def meeting_docx_with_attendance(*rows: list[str]) -> Callable[[], bytes]:
    def build() -> bytes:
        from docx import Document

        doc = Document()
        doc.add_paragraph("Second ARG meeting", style="Title")
        for heading, text in [("Date", "14.09.2006"), ("City", "Tallinn"), ("Outcomes", "Survey agreed.")]:
            doc.add_heading(heading, level=1)
            doc.add_paragraph(text)
        doc.add_heading("Attendance", level=1)
        table = doc.add_table(rows=len(rows), cols=2)
        for r, cells in enumerate(rows):
            for c, value in enumerate(cells):
                table.cell(r, c).text = value
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()

    return build


def template(kind: str, sheet: str, header: list, *rows: list) -> Callable[[], bytes]:
    """A workbook with the hidden `_wpflow` sheet generated templates carry."""
    return xlsx(sheet, header, *rows, extra_sheets={"_wpflow": [["kind", kind], ["partner", "riga"]]})


CSV_SEED = "name;provider;level;instrument;budget_eur\n"
EVENTS = ["event", "date", "location"]

# (id, file name, builder, severity, (sheet, row, column, field), message fragment, extra kwargs)
CASES = [
    (
        "not-a-number",
        "seed_funding.xlsx",
        seed(["X", "Y", "municipal", "grant", "about 2 mio"]),
        "error",
        ("Schemes", 2, "E", "budget_eur"),
        "is not a number",
        {},
    ),
    (
        "negative-budget",
        "seed_funding.xlsx",
        seed(["X", "Y", "municipal", "grant", -5]),
        "error",
        ("Schemes", 2, "E", "budget_eur"),
        "'-5' must be at least 0",
        {},
    ),
    (
        "bad-choice",
        "seed_funding.xlsx",
        seed(["X", "Y", "city", "grant", 5]),
        "error",
        ("Schemes", 2, "C", "level"),
        "must be one of: municipal, regional, national or EU",
        {},
    ),
    (
        "empty-required",
        "seed_funding.xlsx",
        seed(["", "Y", "municipal", "grant", 5]),
        "error",
        ("Schemes", 2, "A", "name"),
        "is required",
        {},
    ),
    (
        "third-row",
        "seed_funding.xlsx",
        seed(GOOD_SEED, [*GOOD_SEED[:4], "1 000 000"], ["Z", "Y", "municipal", "gift", 1]),
        "error",
        ("Schemes", 4, "D", "instrument"),
        "must be one of",
        {},
    ),
    (
        "missing-column",
        "seed_funding.xlsx",
        xlsx("Schemes", SEED[:4], GOOD_SEED[:4]),
        "error",
        ("Schemes", 1, None, "budget_eur"),
        "required column is missing",
        {},
    ),
    (
        "unknown-column",
        "seed_funding.xlsx",
        xlsx("Schemes", [*SEED, "colour"], [*GOOD_SEED, "red"]),
        "error",
        ("Schemes", 1, "F", "colour"),
        "unknown column",
        {},
    ),
    (
        "header-only",
        "seed_funding.xlsx",
        xlsx("Schemes", SEED),
        "error",
        ("Schemes", None, None, None),
        "contains no data rows",
        {},
    ),
    (
        "duplicate-row",
        "seed_funding.xlsx",
        seed(GOOD_SEED, GOOD_SEED),
        "warning",
        ("Schemes", 3, None, None),
        "same as row 2",
        {},
    ),
    (
        "too-few-proposed-clusters",
        "pre_phase_clusters.xlsx",
        xlsx(
            "Clusters", CLUSTER, ["Life sciences", "Health", "mature", 40, "yes"], ["ICT", "ICT", "emerging", 9, "no"]
        ),
        "warning",
        ("Clusters", None, None, "proposed_for_transnational_analysis"),
        "1 row has",
        {},
    ),
    (
        "too-many-proposed-clusters",
        "pre_phase_clusters.xlsx",
        xlsx("Clusters", CLUSTER, *[[f"C{i}", "ICT", "mature", i, "yes"] for i in range(4)]),
        "warning",
        ("Clusters", None, None, "proposed_for_transnational_analysis"),
        "the milestone asks for 3",
        {},
    ),
    (
        "location-outside-region",
        "education_institutions.xlsx",
        xlsx(
            "Institutions",
            ["name", "type", "entrepreneurship_programme", "location"],
            ["Riga Technical University", "university", "yes", "Rīga"],
            ["Tartu Ülikool", "university", "no", "Tartu"],
        ),
        "warning",
        ("Institutions", 3, "D", "location"),
        "is outside Riga's metropolitan region (Riga, Jūrmala)",
        {"city": "Riga", "region": ["Jūrmala"]},
    ),
    (
        "bad-email",
        "marketing_contacts.xlsx",
        xlsx(
            "Contacts",
            ["organisation", "type", "contact_name", "email"],
            ["Riga Tourism", "city marketing agency", "Anna Bērziņa", "anna at riga"],
        ),
        "error",
        ("Contacts", 2, "D", "email"),
        "'anna at riga' is not an e-mail address",
        {},
    ),
    (
        "bool-word",
        "pre_phase_clusters.xlsx",
        xlsx("Clusters", CLUSTER, ["C", "ICT", "mature", 3, "perhaps"]),
        "error",
        ("Clusters", 2, "E", "proposed_for_transnational_analysis"),
        "must be yes or no",
        {},
    ),
    (
        "whole-number",
        "pre_phase_clusters.xlsx",
        xlsx("Clusters", CLUSTER, ["C", "ICT", "mature", 3.5, "yes"]),
        "error",
        ("Clusters", 2, "D", "companies"),
        "is not a whole number",
        {},
    ),
    (
        "csv-not-a-number",
        "seed_funding.csv",
        text(CSV_SEED + "Riga Seed;Riga;municipal;grant;about 2 mio\n"),
        "error",
        (None, 2, "E", "budget_eur"),
        "is not a number",
        {},
    ),
    (
        "csv-wrong-delimiter",
        "seed_funding.csv",
        text("name|provider|level|instrument|budget_eur\nA|B|municipal|grant|1\n"),
        "error",
        (None, 1, "A", "name|provider|level|instrument|budget_eur"),
        "unknown column",
        {},
    ),
    (
        "csv-empty-lines-only",
        "seed_funding.csv",
        text(CSV_SEED + ";;;;\n\n"),
        "error",
        (None, None, None, None),
        "contains no data rows",
        {},
    ),
    (
        "csv-cp1257-bad-level",
        "seed_funding.csv",
        text(CSV_SEED + "Rīgas fonds;Rīga;pilsēta;grant;1\n", "cp1257"),
        "error",
        (None, 2, "C", "level"),
        "must be one of",
        {},
    ),
    (
        "csv-duplicate",
        "seed_funding.csv",
        text(CSV_SEED + "A;B;municipal;grant;1\nA;B;municipal;grant;1\n"),
        "warning",
        (None, 3, None, None),
        "same as row 2",
        {},
    ),
    (
        "json-not-a-number",
        "seed_funding.json",
        text(json.dumps([{"name": "A", "provider": "B", "level": "EU", "instrument": "loan", "budget_eur": "lots"}])),
        "error",
        (None, 1, None, "budget_eur"),
        "is not a number",
        {},
    ),
    ("json-syntax", "seed_funding.json", text('[{"name": "A",}]'), "error", (None, None, None, None), "line 1", {}),
    (
        "json-object-not-rows",
        "seed_funding.json",
        text('{"name": "A"}'),
        "error",
        (None, None, None, None),
        "is not a list of rows",
        {},
    ),
    (
        "json-empty-list",
        "seed_funding.json",
        text("[]"),
        "error",
        (None, None, None, None),
        "contains no data rows",
        {},
    ),
    (
        "md-no-sections",
        "progress_narrative.md",
        text("---\ntitle: Progress\n---\n\nJust text.\n"),
        "error",
        (None, None, None, "sections"),
        "",
        {},
    ),
    (
        "md-meeting-without-date",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\ncity: Riga\noutcomes: [agreed]\n---\n"),
        "error",
        (None, None, None, "date"),
        "is required",
        {},
    ),
    (
        "md-meeting-bad-date",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\ndate: 31.13.2006\ncity: Riga\noutcomes: [agreed]\n---\n"),
        "error",
        (None, None, None, "date"),
        "date",
        {},
    ),
    (
        "md-meeting-ambiguous-date",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\ndate: 03/04/2006\ncity: Riga\noutcomes: [agreed]\n---\n"),
        "warning",
        (None, None, None, "date"),
        "read as 03 April 2006 (day first)",
        {},
    ),
    (
        "md-meeting-impossible-date",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\ndate: 31/02/2006\ncity: Riga\noutcomes: [agreed]\n---\n"),
        "error",
        (None, None, None, "date"),
        "date",
        {},
    ),
    (
        "md-meeting-negative-attendance",
        "meeting_report.md",
        text(
            "---\ntitle: ARG meeting\ndate: 2006-05-03\ncity: Riga\nattendance: [{city: Riga, participants: -2}]\n"
            "outcomes: [agreed]\n---\n"
        ),
        "error",
        (None, None, None, "attendance.0.participants"),
        "at least 0",
        {},
    ),
    (
        "docx-no-headings",
        "progress_narrative.docx",
        docx(("Normal", "We did a lot."), ("Normal", "More.")),
        "error",
        (None, None, None, "sections"),
        "",
        {},
    ),
    (
        "pdf-named-xlsx",
        "seed_funding.xlsx",
        lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        "error",
        (None, None, None, None),
        "is damaged or not a spreadsheet file",
        {},
    ),
    (
        "truncated-zip",
        "seed_funding.xlsx",
        lambda: seed(GOOD_SEED)()[:300],
        "error",
        (None, None, None, None),
        "is damaged",
        {},
    ),
    (
        "password-protected",
        "seed_funding.xlsx",
        ole("Root Entry", "EncryptionInfo", "EncryptedPackage"),
        "error",
        (None, None, None, None),
        "is password-protected; remove the password and send it again",
        {},
    ),
    (
        "password-protected-docx",
        "progress_narrative.docx",
        ole("Root Entry", "EncryptionInfo", "EncryptedPackage"),
        "error",
        (None, None, None, None),
        "password-protected",
        {},
    ),
    (
        "old-xls-named-xlsx",
        "seed_funding.xlsx",
        ole("Root Entry", "Workbook"),
        "error",
        (None, None, None, None),
        "is an Excel 97-2003 file (.xls) named .xlsx; rename it to .xls",
        {},
    ),
    (
        "old-doc-named-docx",
        "progress_narrative.docx",
        ole("Root Entry", "WordDocument"),
        "error",
        (None, None, None, None),
        "open it in Word and save it as .docx",
        {},
    ),
    (
        "damaged-xls",
        "seed_funding.xls",
        lambda: OLE_MAGIC + b"\xff" * 700,
        "error",
        (None, None, None, None),
        "is damaged or not a spreadsheet",
        {},
    ),
    (
        "zip-declares-less-than-it-holds",
        "seed_funding.xlsx",
        lying_zip,
        "error",
        (None, None, None, None),
        "is damaged or not a spreadsheet",
        {},
    ),
    (
        "zip-bomb",
        "seed_funding.xlsx",
        zip_bomb,
        "error",
        (None, None, None, None),
        "looks like a zip bomb and was not opened",
        {},
    ),
    (
        "zip-bomb-with-misleading-name",
        "notes.xlsx",
        zip_bomb,
        "error",
        (None, None, None, None),
        "looks like a zip bomb",
        {},
    ),
    (
        "too-big-xlsx",
        "seed_funding.xlsx",
        seed(*[[*GOOD_SEED[:4], i] for i in range(50)]),
        "error",
        (None, None, None, None),
        "KB accepted",
        {"max_bytes": 2000},
    ),
    (
        "too-big",
        "seed_funding.csv",
        text(CSV_SEED + "A;B;municipal;grant;1\n" * 200),
        "error",
        (None, None, None, None),
        "is 4 KB, more than the 1 KB accepted",
        {"max_bytes": 1000},
    ),
    (
        "undecodable-csv",
        "seed_funding.csv",
        lambda: CSV_SEED.encode() + b"\x81\x8d;\x81;municipal;grant;1\n",
        "error",
        (None, None, None, None),
        "cannot be decoded",
        {},
    ),
    ("empty-file", "seed_funding.csv", lambda: b"", "error", (None, None, None, None), "is empty", {}),
    (
        "unknown-kind",
        "notes.xlsx",
        xlsx("Sheet", ["what", "ever"], ["a", "b"]),
        "error",
        (None, None, None, None),
        "the milestone expects: seed_funding, meeting_report",
        {"expected": ["seed_funding", "meeting_report"]},
    ),
    (
        "template-for-another-milestone",
        "seed_funding.xlsx",
        template("education_institutions", "Institutions", ["name", "type", "entrepreneurship_programme"]),
        "error",
        (None, None, None, None),
        (
            "is the template for Educational and science institutions "
            "(education_institutions), which this milestone does not ask for; it expects: seed_funding"
        ),
        {"expected": ["seed_funding"]},
    ),
    # header row
    (
        "misspelt-column",
        "seed_funding.xlsx",
        xlsx("Schemes", [*SEED[:4], "budget_euro"], GOOD_SEED),
        "error",
        ("Schemes", 1, "E", "budget_euro"),
        "unknown column; did you mean budget_eur?",
        {},
    ),
    (
        "repeated-column",
        "seed_funding.xlsx",
        xlsx("Schemes", [*SEED, "Budget (EUR)"], [*GOOD_SEED, 5]),
        "error",
        ("Schemes", 1, "F", "budget_eur"),
        "repeats column E; delete one of them",
        {},
    ),
    (
        "no-header-row",
        "seed_funding.xlsx",
        xlsx("Schemes", [None, None], GOOD_SEED),
        "error",
        ("Schemes", 1, None, None),
        "has no column names in its first row",
        {},
    ),
    (
        "values-in-unnamed-column",
        "seed_funding.xlsx",
        xlsx("Schemes", [*SEED, None], [*GOOD_SEED, "call Anna"]),
        "warning",
        ("Schemes", 1, "F", None),
        "has no column name, so its values (from row 2) were not read",
        {},
    ),
    # CSV dialects
    (
        "csv-comma-not-a-number",
        "seed_funding.csv",
        text(
            'name,provider,level,instrument,budget_eur\n"Malmö fund",Malmö stad,municipal,grant,"12,5 tkr"\n', "cp1252"
        ),
        "error",
        (None, 2, "E", "budget_eur"),
        "'12,5 tkr' is not a number",
        {},
    ),
    (
        "csv-tab-bad-choice",
        "seed_funding.csv",
        text("name\tprovider\tlevel\tinstrument\tbudget_eur\nA\tB\tEU\tgift\t1\n"),
        "error",
        (None, 2, "D", "instrument"),
        "must be one of: grant, loan",
        {},
    ),
    (
        "xlsx-named-csv",
        "seed_funding.csv",
        seed(GOOD_SEED),
        "error",
        (None, None, None, None),
        "is not a text file",
        {},
    ),
    # JSON and documents
    (
        "json-row-not-an-object",
        "seed_funding.json",
        text('[{"name": "A"}, "B"]'),
        "error",
        (None, None, None, None),
        "row 2 is not a set of columns",
        {},
    ),
    (
        "json-document-is-a-list",
        "progress_narrative.json",
        text('[{"heading": "A", "text": "B"}]'),
        "error",
        (None, None, None, None),
        "is not a document",
        {},
    ),
    (
        "md-front-matter-syntax",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\noutcomes: [agreed\n---\n"),
        "error",
        (None, None, None, None),
        "front matter is not valid YAML on line 4",
        {},
    ),
    (
        "md-front-matter-unclosed",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\n\n# Notes\n"),
        "error",
        (None, None, None, None),
        "no --- line closes",
        {},
    ),
    (
        "md-front-matter-not-fields",
        "meeting_report.md",
        text("---\n- a list\n---\n"),
        "error",
        (None, None, None, None),
        "front matter must be 'field: value' lines",
        {},
    ),
    (
        "md-unknown-field",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\ndate: 2006-05-03\ncity: Riga\noutcomes: [agreed]\nvenue: City Hall\n---\n"),
        "error",
        (None, None, None, "venue"),
        "is not a field of this input",
        {},
    ),
    (
        "md-date-with-time",
        "meeting_report.md",
        text("---\ntitle: ARG meeting\ndate: 2006-05-03 14:00\ncity: Riga\noutcomes: [agreed]\n---\n"),
        "error",
        (None, None, None, "date"),
        "has a time of day",
        {},
    ),
    (
        "docx-table-not-a-number",
        "seed_funding.docx",
        docx_table(SEED, ["Riga Seed", "Riga", "EU", "loan", "lots"]),
        "error",
        (None, 2, "E", "budget_eur"),
        "'lots' is not a number",
        {},
    ),
    (
        "docx-without-table",
        "seed_funding.docx",
        docx(("Normal", "The schemes are listed below.")),
        "error",
        (None, None, None, None),
        "has no table",
        {},
    ),
    (
        "docx-attendance-table-negative",
        "meeting_report.docx",
        meeting_docx_with_attendance(["City", "Participants"], ["Tallinn", "4"], ["Rīga", "-3"]),
        "error",
        (None, None, None, "attendance.1.participants"),
        "must be at least 0",
        {},
    ),
    (
        "damaged-docx",
        "progress_narrative.docx",
        seed(GOOD_SEED),
        "error",
        (None, None, None, None),
        "is damaged or not a Word file",
        {},
    ),
    # a row kind with a date column and at most two rows (registered by the `dated_kind` fixture)
    (
        "row-ambiguous-date",
        "dated_events.xlsx",
        xlsx("Events", EVENTS, ["ARG", "03/04/2006", None]),
        "warning",
        ("Events", 2, "B", "date"),
        "'03/04/2006' could be read either way; read as 03 April 2006",
        {},
    ),
    (
        "row-impossible-date",
        "dated_events.csv",
        text("event;date\nARG;31.02.2006\n"),
        "error",
        (None, 2, "B", "date"),
        "is not a date; write dates as 31.12.2005 or 2005-12-31",
        {},
    ),
    (
        "row-two-digit-year",
        "dated_events.csv",
        text("event;date\nARG;31.12.06\n"),
        "error",
        (None, 2, "B", "date"),
        "'31.12.06' is not a date",
        {},
    ),
    (
        "too-many-rows",
        "dated_events.csv",
        text("event;date\nA;1.1.2006\nB;2.1.2006\nC;3.1.2006\n"),
        "warning",
        (None, None, None, None),
        "has 3 rows; the milestone asks for at most 2",
        {},
    ),
    (
        "dated-location-elsewhere",
        "dated_events.csv",
        text("event;date;location\nA;1.1.2006;Kaunas\n"),
        "warning",
        (None, 2, "C", "location"),
        "is outside Rīga's metropolitan region",
        {"city": "Rīga"},
    ),
    (
        "unsupported-format",
        "seed_funding.pdf",
        lambda: b"%PDF-1.4\n",
        "error",
        (None, None, None, None),
        "not read as tables",
        {},
    ),
    (
        "markup-in-text",
        "seed_funding.xlsx",
        seed(["<script>", "Riga City", "municipal", "grant", "1e400"]),
        "error",
        ("Schemes", 2, "E", "budget_eur"),
        "'1e400' is not a finite number",
        {},
    ),
]


@pytest.mark.parametrize(
    ("name", "builder", "severity", "where", "fragment", "kwargs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_input_is_reported_where_it_is(
    tmp_path: Path, dated_kind, name, builder, severity, where, fragment, kwargs
):
    path = tmp_path / name
    path.write_bytes(builder())
    result = validate_file(path, **kwargs)
    located = [
        i
        for i in result.issues
        if i.severity == severity and (i.sheet, i.row, i.column, i.field) == where and fragment in str(i)
    ]
    assert located, "\n".join(f"{i.severity}: {i!s} @ {(i.sheet, i.row, i.column, i.field)}" for i in result.issues)
    assert str(located[0]).startswith(name)
    assert result.valid is (severity == "warning" and not result.errors)


def test_there_are_at_least_thirty_five_cases():
    assert len(CASES) >= 35 and len({c[0] for c in CASES}) == len(CASES)


GARBAGE = [
    b"\0" * 64,
    b"PK\x03\x04" + b"\xff" * 200,
    OLE_MAGIC + b"\x01" * 100,
    "ä;ö\n1;2".encode("utf-16"),
    b"\xff\xfe\xfd" * 50,
    b"[" * 5000,
    b"---\n" + b"a: [" * 2000,
    b"%PDF-1.4\n",
]


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".json", ".md", ".docx", ""])
@pytest.mark.parametrize("kind", [None, "seed_funding", "meeting_report", "progress_narrative"])
def test_garbage_is_an_error_never_an_exception(tmp_path, suffix, kind):
    for n, content in enumerate(GARBAGE):
        path = tmp_path / f"file{n}{suffix}"
        path.write_bytes(content)
        result = validate_file(path, kind)
        assert result.errors, (content[:20], [str(i) for i in result.issues])


def xxe(kind_builder: Callable[[], bytes], part: str, secret_file: Path) -> bytes:
    """The given file with `part` rewritten to declare an external entity pointing at a local
    file and use it in the text."""
    src = zipfile.ZipFile(io.BytesIO(kind_builder()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                head, _, rest = text.partition("?>")
                root = rest.lstrip().split()[0][1:]
                doctype = f'<!DOCTYPE {root} [<!ENTITY leak SYSTEM "file://{secret_file}">]>'
                text = head + "?>" + doctype + rest.replace("We did a lot.", "&leak;").replace("Riga Seed", "&leak;")
                data = text.encode("utf-8")
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "builder", "part"),
    [
        ("progress_narrative.docx", docx(("Heading 1", "Progress"), ("Normal", "We did a lot.")), "word/document.xml"),
        ("seed_funding.xlsx", xlsx("Schemes", SEED, GOOD_SEED, extra_sheets=None), "xl/sharedStrings.xml"),
    ],
    ids=["docx", "xlsx"],
)
def test_external_entities_are_never_resolved(tmp_path, name, builder, part):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    path = tmp_path / name
    try:
        path.write_bytes(xxe(builder, part, secret))
    except KeyError:  # pragma: no cover - openpyxl wrote inline strings
        pytest.skip(f"{part} not in the generated file")
    result = validate_file(path)
    assert "TOP-SECRET-CONTENT" not in result.model_dump_json()
