"""Builders of the input files partners send (workbooks, CSV, documents, damaged and hostile
files), each returning a function that makes the bytes: the cases of tests/inputs/test_validate_table.py."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

from openpyxl import Workbook

from wpflow.inputs.safety import OLE_MAGIC

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
