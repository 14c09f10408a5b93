"""Partner files read as tables: (sheet, normalised header, numbered rows), whatever the format.

Workbooks (XLSX, XLSM, XLS, ODS) are read by python-calamine: cell values only, macros never
run. CSV comes in the dialects and code pages of the partner cities' own systems (`decode_text`,
`sniff_delimiter`); JSON as a list of rows; a Word file's first table. Anything that cannot be
read raises `Unreadable` with words a partner can act on. The format comes from the partner's
file name; the bytes from the path wpflow chose. Cells stay as read: `coerce` types them.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

from wpflow.inputs.headers import normalise_header
from wpflow.inputs.safety import Unreadable
from wpflow.inputs.workbook_metadata import INSTRUCTIONS_SHEET, METADATA_SHEET, WORKBOOK_SUFFIXES, template_headers

CSV_SUFFIXES = frozenset({".csv", ".txt"})
Rows = list[tuple[int, list[Any]]]  # (row number as the partner sees it, cells)


# -- tables ------------------------------------------------------------------------------
def read_table(path: Path, suffix: str, sheet: str | None = None) -> tuple[str | None, list[str], Rows]:
    """(sheet, normalised header, rows) of a table file. The format comes from the partner's
    file name (`suffix`): archived copies are named by hash and have none. `sheet` is the
    kind's sheet name, read if the workbook has it."""
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path, sheet)
    if suffix in CSV_SUFFIXES:
        return None, *read_csv(path)
    if suffix == ".json":
        return None, *_read_json_rows(path)
    if suffix == ".docx":
        return None, *_read_docx_table(path)
    raise Unreadable(f"files of type {suffix or '(none)'} are not read as tables; send XLSX, CSV or JSON")


def _read_workbook(path: Path, wanted: str | None) -> tuple[str | None, list[str], Rows]:
    """The kind's sheet, else the first data sheet (not the hidden metadata, not a template's
    instructions). A generated template's headers are read through its own field list."""
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        sheet = next((n for n in names if wanted and n.casefold() == wanted.casefold()), None) or next(
            (n for n in names if not n.startswith("_") and n != INSTRUCTIONS_SHEET), None
        )
        data = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False) if sheet else []
        fields = (
            template_headers(workbook.get_sheet_by_name(METADATA_SHEET).to_python())
            if METADATA_SHEET in names and data
            else {}
        )
    except PasswordError:
        raise Unreadable("is password-protected; remove the password and send it again") from None
    except Exception as exc:
        raise Unreadable(
            f"is damaged or not a spreadsheet ({exc.__class__.__name__}); save it again from the original program"
        ) from None
    if not data:
        return sheet, [], []
    header = [normalise_header(h) for h in data[0]]
    header = [fields.get(h, h) for h in header] if fields else header
    return sheet, header, [(i + 2, r) for i, r in enumerate(data[1:])]


def read_csv(path: Path) -> tuple[list[str], Rows]:
    """(normalised header, [(row number as a spreadsheet shows it, cells)]); annotated copies
    of CSV files use it too, so their row numbers match the issues'."""
    text = decode_text(path.read_bytes())
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)))
    except csv.Error as exc:
        raise Unreadable(f"is not a readable CSV file ({exc}); save it again as CSV") from None
    if not rows:
        return [], []
    return [normalise_header(h) for h in rows[0]], [(i + 2, r) for i, r in enumerate(rows[1:])]


def _read_json_rows(path: Path) -> tuple[list[str], Rows]:
    data = load_json(path)
    items = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Unreadable('is not a list of rows; send [{"column": value, ...}, ...] or {"rows": [...]}')
    if not items:
        raise Unreadable("contains no data rows")
    odd = next((i + 1 for i, item in enumerate(items) if not isinstance(item, dict)), None)
    if odd is not None:
        raise Unreadable(f'row {odd} is not a set of columns; every row must look like {{"column": value, ...}}')
    header = list(dict.fromkeys(k for item in items for k in item))
    rows = [(i + 1, [item.get(h) for h in header]) for i, item in enumerate(items)]  # row 1: the first item
    return [normalise_header(h) for h in header], rows


def _read_docx_table(path: Path) -> tuple[list[str], Rows]:
    """The first table of a Word file: its first row names the columns."""
    table = next((t for t in open_docx(path).tables if t.rows), None)
    if table is None:
        raise Unreadable(
            "has no table; put the rows in a Word table whose first row names the columns, or send XLSX or CSV"
        )
    cells = table_cells(table)
    return [normalise_header(h) for h in cells[0]], [(i + 2, r) for i, r in enumerate(cells[1:])]


def load_json(path: Path) -> Any:
    try:
        return json.loads(decode_text(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise Unreadable(f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise Unreadable("is nested too deeply to be rows or a document") from None


# -- text: encodings and CSV dialects ----------------------------------------------------
def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's 'Unicode text'), else the Windows
    code page whose letters fit the bytes best (see `legacy_encoding`)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if b"\0" in raw[:4096]:
        raise Unreadable(
            "is not a text file (perhaps a spreadsheet under a text file's name); "
            "send it under its own name, e.g. .xlsx"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    first = legacy_encoding(raw)
    for encoding in (first, "cp1252" if first == "cp1257" else "cp1257"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable("cannot be decoded as UTF-8, Windows-1252 or Windows-1257; save it as 'CSV UTF-8'")


# Bytes that are Latvian, Lithuanian or Polish letters in cp1257 (ą ā ć ē č ź ė ģ ķ ī ļ š ń ņ ł ś ū
# ż ž and capitals) but accented letters Nordic and German texts do not use in cp1252 (à â ã ç è
# ê …); and bytes that are Nordic letters or Estonian/Finnish š ž in cp1252 (æ ø Æ Ø Š š Ž ž) but
# ę ų or nothing in cp1257. Bytes both code pages read alike (ä å é ó õ ö ü) decide nothing.
_BALTIC = (
    b"\xe0\xe2\xe3\xe7\xe8\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf9\xfa\xfb\xfd\xfe"
    b"\xc0\xc2\xc3\xc7\xc8\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd9\xda\xdb\xdd\xde"
)
_WESTERN = b"\xe6\xf8\xc6\xd8\x8a\x9a\x8e\x9e"


def legacy_encoding(raw: bytes) -> str:
    """cp1257 (Baltic) or cp1252 (Western) for a file that is not UTF-8, by which code page's
    distinctive letters it holds more of: 'Rīga' and 'Łódź' from Riga's or Kaunas' system,
    'Tromsø' and 'Malmö' from Oslo's or Malmö's. Counted in C (`bytes.translate`), not per byte."""
    baltic = len(raw) - len(raw.translate(None, _BALTIC))
    western = len(raw) - len(raw.translate(None, _WESTERN))
    return "cp1257" if baltic > western else "cp1252"


def sniff_delimiter(text: str) -> str:
    """`;`, tab or `,`: the one that splits the header into at least two columns and the next
    lines into as many. The header decides where lines differ, since a header holds no decimal
    comma ('1 250,50' in a `;` file); ties go to `;`, the European default."""
    sample = list(itertools.islice(io.StringIO(text), 6))
    best, best_score = ";", (0, 0)
    for delimiter in (";", "\t", ","):
        try:
            counts = [len(r) for r in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = (sum(c == counts[0] for c in counts if c), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def open_docx(path: Path):
    from docx import Document

    try:
        return Document(str(path))
    except Exception as exc:
        raise Unreadable(
            f"is damaged or not a Word file ({exc.__class__.__name__}); "
            "save it again as .docx from the original program"
        ) from None


def table_cells(table) -> list[list[str]]:
    return [[cell.text.strip() for cell in row.cells] for row in table.rows]
