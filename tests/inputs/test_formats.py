"""Every input kind in every format partners send, read back to the same rows; CSV in the
dialects and encodings of the partner cities' own systems (Baltic letters must survive).

XLS is read by the same calamine call as XLSX and ODS, but nothing here can write one (no
xlwt), so it has no round trip; its damaged case is in test_validate_table."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from xml.sax.saxutils import escape

import pytest
from openpyxl import Workbook

from tests.conftest import sample_value
from tests.kinds import KINDS, ROW_KINDS
from wpflow.inputs.validate import validate_file


def rows_of(kind: str) -> list[dict]:
    fields = KINDS[kind].model.model_fields
    return [{name: sample_value(name, info, n) for name, info in fields.items()} for n in range(3)]


def as_text(v, decimal: str = ".") -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.2f}".replace(",", " ").replace(".", decimal) if decimal == "," else f"{v:.2f}"
    return str(v)


def ods(sheet: str, rows: list[list]) -> bytes:
    """A minimal OpenDocument spreadsheet: what LibreOffice users send (no writer installed)."""

    def cell(v) -> str:
        if v is None:
            return "<table:table-cell/>"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        text = ("yes" if v else "no") if isinstance(v, bool) else str(v)
        return f'<table:table-cell office:value-type="string"><text:p>{escape(text)}</text:p></table:table-cell>'

    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = "".join("<table:table-row>" + "".join(map(cell, r)) + "</table:table-row>" for r in rows)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="{sheet}">{body}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return buf.getvalue()


def write(kind: str, fmt: str, path) -> None:
    rows = rows_of(kind)
    header = list(rows[0])
    if fmt == "ods":
        path.write_bytes(ods(KINDS[kind].sheet, [header] + [list(r.values()) for r in rows]))
    elif fmt in ("xlsx", "xlsm"):  # an .xlsm is an .xlsx with macros; calamine reads values, never runs them
        wb = Workbook()
        ws = wb.active
        ws.title = KINDS[kind].sheet
        ws.append(header)
        for r in rows:
            ws.append([("yes" if v else "no") if isinstance(v, bool) else v for v in r.values()])
        wb.save(path)
    elif fmt == "json":
        path.write_text(json.dumps(rows, default=str, ensure_ascii=False), encoding="utf-8")
    else:
        delimiter, decimal, encoding = {
            "csv-semicolon": (";", ",", "cp1257"),
            "csv-comma": (",", ".", "utf-8-sig"),
            "csv-tab": ("\t", ".", "cp1252"),
        }[fmt]
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=delimiter)
        writer.writerow(header)
        for r in rows:
            writer.writerow([as_text(v, decimal) for v in r.values()])
        text = buf.getvalue()
        if encoding == "cp1252":
            text = text.replace("Rīga Łódź ", "")  # letters cp1252 cannot hold; Malmö stays
        path.write_bytes(text.encode(encoding))


@pytest.mark.parametrize("fmt", ["xlsx", "xlsm", "ods", "csv-semicolon", "csv-comma", "csv-tab", "json"])
@pytest.mark.parametrize("kind", ROW_KINDS)
def test_every_row_kind_round_trips_in_every_format(tmp_path, kind, fmt):
    path = tmp_path / f"{kind}.{'csv' if fmt.startswith('csv') else fmt}"
    write(kind, fmt, path)
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    expected = [KINDS[kind].model.model_validate(r).model_dump(mode="json") for r in rows_of(kind)]
    if fmt == "csv-tab":
        expected = [
            {k: v.replace("Rīga Łódź ", "") if isinstance(v, str) else v for k, v in r.items()} for r in expected
        ]
    assert result.kind == kind and result.rows == expected


@pytest.mark.parametrize(
    ("encoding", "names"),
    [
        ("utf-8", ["Rīga", "Łódź", "Malmö", "Kaunas"]),
        ("utf-8-sig", ["Rīga", "Łódź", "Malmö", "Kaunas"]),
        ("utf-16", ["Rīga", "Łódź", "Malmö", "Kaunas"]),  # Excel's "Unicode text", with a BOM
        ("cp1257", ["Rīga", "Łódź", "Malmö", "Kaunas", "Šiauliai"]),
        ("cp1257", ["Łódź", "Kraków", "Gdańsk", "Wrocław"]),
        ("cp1252", ["Malmö", "København", "Göteborg", "Tromsø"]),
        ("cp1252", ["Malmö", "Kraków", "Tallinn", "Pärnu"]),  # only letters both code pages share
        ("cp1252", ["Tšernobõl", "Malmö"]),  # š is 0x9A: Estonian in Windows-1252, undefined in 1257
    ],
)
def test_csv_encodings_keep_the_cities_letters(tmp_path, encoding, names):
    lines = ["name;provider;level;instrument;budget_eur"]
    lines += [f"{city} seed fund;{city} city;municipal;grant;1 250 000,50" for city in names]
    path = tmp_path / "seed_funding.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert [r["provider"] for r in result.rows] == [f"{c} city" for c in names]
    assert {r["budget_eur"] for r in result.rows} == {1_250_000.5}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1 250 000,50", 1_250_000.5),
        ("1.250.000,50", 1_250_000.5),
        ("1,250,000.50", 1_250_000.5),
        ("1\u00a0250\u00a0000", 1_250_000),
        ("750000", 750_000),
        ("2,5", 2.5),
        ("€ 1 000", None),
        ("1 000 EUR", 1000),
        ("-1 000,5", -1000.5),
        ("1'250'000", 1_250_000),
        ("2.5", 2.5),
        ("1,250", 1250),
        ("1.250", 1.25),
        ("+7", 7),
        ("1e400", None),
        ("inf", None),
        ("1_000", None),
        ("²", None),
        ("", None),
        ("1 000 000 €", 1_000_000),
    ],
)
def test_numbers_in_partners_notations(text, number):
    from wpflow.inputs.coerce import parse_number

    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "progress_narrative.md",
            "---\ntitle: Progress in Rīga\n---\n\n# Progress\n\nDone.\n\n# Next steps\n\nMore.\n",
        ),
        ("progress_narrative.md", "# Progress in Rīga\r\n\r\n## Progress\r\n\r\nDone.\r\n"),  # no front matter, CRLF
        (
            "meeting_report.md",
            "---\r\ntitle: ARG meeting\r\ndate: 03.05.2006\r\ncity: Rīga\r\noutcomes: [agreed]\r\n---\r\n",
        ),
        (
            "progress_narrative.json",
            json.dumps({"title": "Progress", "sections": [{"heading": "Progress", "text": "Done."}]}),
        ),
        (
            "meeting_report.md",
            (
                "---\ntitle: ARG meeting\ndate: 2006-05-03\ncity: Rīga\nattendance:\n"
                "  - {city: Tallinn, participants: 3}\noutcomes: [agreed on the survey]\n---\n\n# Notes\n\nFine.\n"
            ),
        ),
        (
            "meeting_report.json",
            json.dumps(
                {
                    "title": "ARG meeting",
                    "date": "2006-05-03",
                    "city": "Riga",
                    "outcomes": ["agreed"],
                    "attendance": [{"city": "Oslo", "participants": 2}],
                }
            ),
        ),
    ],
)
def test_document_kinds_in_markdown_and_json(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert result.kind == name.split(".")[0] and result.document


def test_a_misleading_file_name_loses_to_the_template_sheet(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Schemes"
    ws.append(["name", "provider", "level", "instrument", "budget_eur"])
    ws.append(["Riga Seed", "Riga City", "municipal", "grant", 1000])
    meta = wb.create_sheet("_wpflow")
    meta.sheet_state = "hidden"
    meta.append(["kind", "seed_funding"])
    path = tmp_path / "education_institutions_final.xlsx"
    wb.save(path)
    assert validate_file(path, kinds=KINDS).kind == "seed_funding"


def test_headers_tell_the_kind_when_the_name_does_not(tmp_path):
    path = tmp_path / "export_2006.csv"
    path.write_text("name;provider;level;instrument;budget_eur\nA fund;Business Riga;EU;loan;1\n", encoding="utf-8")
    result = validate_file(path, expected=["seed_funding", "education_institutions"], kinds=KINDS)
    assert result.kind == "seed_funding" and result.valid


@pytest.mark.parametrize(
    ("text", "date", "ambiguous"),
    [
        ("31.12.2005", "2005-12-31", False),
        ("2005-12-31", "2005-12-31", False),
        ("12/31/2005", "2005-12-31", False),
        ("31/12/2005", "2005-12-31", False),
        ("03/04/2006", "2006-04-03", True),
        ("3.4.2006", "2006-04-03", False),
        ("05/05/2006", "2006-05-05", False),
        ("31.02.2006", None, False),
        ("next week", None, False),
    ],
)
def test_dates_in_partners_notations(text, date, ambiguous):
    from wpflow.inputs.coerce import parse_date

    parsed, flagged = parse_date(text)
    assert (parsed.isoformat() if parsed else None, flagged) == (date, ambiguous)


def test_a_meeting_date_written_day_first_is_read_and_valid(tmp_path):
    path = tmp_path / "meeting_report.md"
    path.write_text(
        "---\ntitle: ARG meeting\ndate: 14.09.2006\ncity: Tallinn\noutcomes: [agreed]\n---\n", encoding="utf-8"
    )
    result = validate_file(path, kinds=KINDS)
    assert result.valid and result.document["date"] == "2006-09-14" and not result.issues
