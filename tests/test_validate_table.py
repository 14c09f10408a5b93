"""What partners really send that is wrong, one row each: the file, what validation must say,
and where (sheet, row, column, field) — asserted on the issue as the receipt prints it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from wpflow.validate import validate_file

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


CSV_SEED = "name;provider;level;instrument;budget_eur\n"

# (id, file name, builder, severity, (sheet, row, column, field), message fragment, extra kwargs)
CASES = [
    ("not-a-number", "seed_funding.xlsx", seed(["X", "Y", "municipal", "grant", "about 2 mio"]),
     "error", ("Schemes", 2, "E", "budget_eur"), "is not a number", {}),
    ("negative-budget", "seed_funding.xlsx", seed(["X", "Y", "municipal", "grant", -5]),
     "error", ("Schemes", 2, "E", "budget_eur"), "at least 0", {}),
    ("bad-choice", "seed_funding.xlsx", seed(["X", "Y", "city", "grant", 5]),
     "error", ("Schemes", 2, "C", "level"), "must be one of: municipal, regional, national or EU", {}),
    ("empty-required", "seed_funding.xlsx", seed(["", "Y", "municipal", "grant", 5]),
     "error", ("Schemes", 2, "A", "name"), "is required", {}),
    ("third-row", "seed_funding.xlsx", seed(GOOD_SEED, GOOD_SEED[:4] + ["1 000 000"], ["Z", "Y", "municipal", "gift", 1]),
     "error", ("Schemes", 4, "D", "instrument"), "must be one of", {}),
    ("missing-column", "seed_funding.xlsx", xlsx("Schemes", SEED[:4], GOOD_SEED[:4]),
     "error", ("Schemes", 1, None, "budget_eur"), "required column is missing", {}),
    ("unknown-column", "seed_funding.xlsx", xlsx("Schemes", SEED + ["colour"], GOOD_SEED + ["red"]),
     "error", ("Schemes", 1, "F", "colour"), "unknown column", {}),
    ("header-only", "seed_funding.xlsx", xlsx("Schemes", SEED),
     "error", ("Schemes", None, None, None), "contains no data rows", {}),
    ("duplicate-row", "seed_funding.xlsx", seed(GOOD_SEED, GOOD_SEED),
     "warning", ("Schemes", 3, None, None), "same as row 2", {}),
    ("too-few-proposed-clusters", "pre_phase_clusters.xlsx",
     xlsx("Clusters", CLUSTER, ["Life sciences", "Health", "mature", 40, "yes"], ["ICT", "ICT", "emerging", 9, "no"]),
     "warning", ("Clusters", None, None, "proposed_for_transnational_analysis"), "1 rows have", {}),
    ("too-many-proposed-clusters", "pre_phase_clusters.xlsx",
     xlsx("Clusters", CLUSTER, *[[f"C{i}", "ICT", "mature", i, "yes"] for i in range(4)]),
     "warning", ("Clusters", None, None, "proposed_for_transnational_analysis"), "the milestone asks for 3", {}),
    ("location-outside-region", "education_institutions.xlsx",
     xlsx("Institutions", ["name", "type", "entrepreneurship_programme", "location"],
          ["Riga Technical University", "university", "yes", "Rīga"], ["Tartu Ülikool", "university", "no", "Tartu"]),
     "warning", ("Institutions", 3, "D", "location"), "is outside Riga's metropolitan region (Riga, Jūrmala)",
     {"city": "Riga", "region": ["Jūrmala"]}),
    ("bad-email", "marketing_contacts.xlsx",
     xlsx("Contacts", ["organisation", "type", "contact_name", "email"],
          ["Riga Tourism", "city marketing agency", "Anna Bērziņa", "anna at riga"]),
     "error", ("Contacts", 2, "D", "email"), "'anna at riga' is not an e-mail address", {}),
    ("bool-word", "pre_phase_clusters.xlsx", xlsx("Clusters", CLUSTER, ["C", "ICT", "mature", 3, "perhaps"]),
     "error", ("Clusters", 2, "E", "proposed_for_transnational_analysis"), "must be yes or no", {}),
    ("whole-number", "pre_phase_clusters.xlsx", xlsx("Clusters", CLUSTER, ["C", "ICT", "mature", 3.5, "yes"]),
     "error", ("Clusters", 2, "D", "companies"), "is not a whole number", {}),
    ("csv-not-a-number", "seed_funding.csv", text(CSV_SEED + "Riga Seed;Riga;municipal;grant;about 2 mio\n"),
     "error", (None, 2, "E", "budget_eur"), "is not a number", {}),
    ("csv-wrong-delimiter", "seed_funding.csv", text("name|provider|level|instrument|budget_eur\nA|B|municipal|grant|1\n"),
     "error", (None, 1, "A", "name|provider|level|instrument|budget_eur"), "unknown column", {}),
    ("csv-empty-lines-only", "seed_funding.csv", text(CSV_SEED + ";;;;\n\n"),
     "error", (None, None, None, None), "contains no data rows", {}),
    ("csv-cp1257-bad-level", "seed_funding.csv", text(CSV_SEED + "Rīgas fonds;Rīga;pilsēta;grant;1\n", "cp1257"),
     "error", (None, 2, "C", "level"), "must be one of", {}),
    ("csv-duplicate", "seed_funding.csv", text(CSV_SEED + "A;B;municipal;grant;1\nA;B;municipal;grant;1\n"),
     "warning", (None, 3, None, None), "same as row 2", {}),
    ("json-not-a-number", "seed_funding.json",
     text(json.dumps([{"name": "A", "provider": "B", "level": "EU", "instrument": "loan", "budget_eur": "lots"}])),
     "error", (None, 1, None, "budget_eur"), "is not a number", {}),
    ("json-syntax", "seed_funding.json", text('[{"name": "A",}]'),
     "error", (None, None, None, None), "line 1", {}),
    ("json-object-not-rows", "seed_funding.json", text('{"name": "A"}'),
     "error", (None, None, None, None), "is not a list of rows", {}),
    ("json-empty-list", "seed_funding.json", text("[]"),
     "error", (None, None, None, None), "contains no data rows", {}),
    ("md-no-sections", "progress_narrative.md", text("---\ntitle: Progress\n---\n\nJust text.\n"),
     "error", (None, None, None, "sections"), "", {}),
    ("md-meeting-without-date", "meeting_report.md",
     text("---\ntitle: ARG meeting\ncity: Riga\noutcomes: [agreed]\n---\n"),
     "error", (None, None, None, "date"), "is required", {}),
    ("md-meeting-bad-date", "meeting_report.md",
     text("---\ntitle: ARG meeting\ndate: 31.13.2006\ncity: Riga\noutcomes: [agreed]\n---\n"),
     "error", (None, None, None, "date"), "date", {}),
    ("md-meeting-ambiguous-date", "meeting_report.md",
     text("---\ntitle: ARG meeting\ndate: 03/04/2006\ncity: Riga\noutcomes: [agreed]\n---\n"),
     "warning", (None, None, None, "date"), "read as 03 April 2006 (day first)", {}),
    ("md-meeting-impossible-date", "meeting_report.md",
     text("---\ntitle: ARG meeting\ndate: 31/02/2006\ncity: Riga\noutcomes: [agreed]\n---\n"),
     "error", (None, None, None, "date"), "date", {}),
    ("md-meeting-negative-attendance", "meeting_report.md",
     text("---\ntitle: ARG meeting\ndate: 2006-05-03\ncity: Riga\nattendance: [{city: Riga, participants: -2}]\n"
          "outcomes: [agreed]\n---\n"),
     "error", (None, None, None, "attendance.0.participants"), "at least 0", {}),
    ("docx-no-headings", "progress_narrative.docx", docx(("Normal", "We did a lot."), ("Normal", "More.")),
     "error", (None, None, None, "sections"), "", {}),
    ("pdf-named-xlsx", "seed_funding.xlsx", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
     "error", (None, None, None, None), "is damaged or not a spreadsheet file", {}),
    ("truncated-zip", "seed_funding.xlsx", lambda: seed(GOOD_SEED)()[:300],
     "error", (None, None, None, None), "is damaged", {}),
    ("password-protected", "seed_funding.xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
     "error", (None, None, None, None), "password-protected", {}),
    ("password-protected-docx", "progress_narrative.docx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
     "error", (None, None, None, None), "password-protected", {}),
    ("zip-bomb", "seed_funding.xlsx", zip_bomb,
     "error", (None, None, None, None), "zip bomb", {}),
    ("too-big", "seed_funding.csv", text(CSV_SEED + "A;B;municipal;grant;1\n" * 200),
     "error", (None, None, None, None), "more than the 0 MB accepted", {"max_bytes": 1000}),
    ("undecodable-csv", "seed_funding.csv", lambda: CSV_SEED.encode() + b"\x81\x8d;\x81;municipal;grant;1\n",
     "error", (None, None, None, None), "cannot be decoded", {}),
    ("empty-file", "seed_funding.csv", lambda: b"",
     "error", (None, None, None, None), "is empty", {}),
    ("unknown-kind", "notes.xlsx", xlsx("Sheet", ["what", "ever"], ["a", "b"]),
     "error", (None, None, None, None), "the milestone expects: seed_funding, meeting_report",
     {"expected": ["seed_funding", "meeting_report"]}),
    ("unsupported-format", "seed_funding.pdf", lambda: b"%PDF-1.4\n",
     "error", (None, None, None, None), "not read as tables", {}),
    ("markup-in-text", "seed_funding.xlsx", seed(["<script>", "Riga City", "municipal", "grant", "1e400"]),
     "error", ("Schemes", 2, "E", "budget_eur"), "'1e400' is not a finite number", {}),
]


@pytest.mark.parametrize(("name", "builder", "severity", "where", "fragment", "kwargs"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_input_is_reported_where_it_is(tmp_path: Path, name, builder, severity, where, fragment, kwargs):
    path = tmp_path / name
    path.write_bytes(builder())
    result = validate_file(path, **kwargs)
    located = [i for i in result.issues
               if i.severity == severity and (i.sheet, i.row, i.column, i.field) == where and fragment in str(i)]
    assert located, "\n".join(f"{i.severity}: {i!s} @ {(i.sheet, i.row, i.column, i.field)}" for i in result.issues)
    assert str(located[0]).startswith(name)
    assert result.valid is (severity == "warning" and not result.errors)


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


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


@pytest.mark.parametrize(("name", "builder", "part"), [
    ("progress_narrative.docx", docx(("Heading 1", "Progress"), ("Normal", "We did a lot.")), "word/document.xml"),
    ("seed_funding.xlsx", xlsx("Schemes", SEED, GOOD_SEED, extra_sheets=None), "xl/sharedStrings.xml"),
], ids=["docx", "xlsx"])
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
