"""Partner files read as tables: (sheet, normalised header, numbered rows), whatever the format.

Workbooks (XLSX, XLSM, XLS, ODS) are read by python-calamine: cell values only, macros never
run. A large XLSX/XLSM sheet (more than `WHOLE_SHEET_CELLS` cells, as `sheet_extent` measures
it without parsing) is streamed row by row by openpyxl's read-only reader instead, its values
given the types python-calamine gives: python-calamine holds a whole sheet as a dense grid,
openpyxl one row at a time. CSV comes in the dialects and code pages of the partner cities' own
systems (`text_encoding`, `sniff_delimiter`) and is read a record at a time; JSON as a list of
rows; a Word file's first table. No table is read past `max_rows` rows under its header (the
gate refuses such a file first; `Unreadable` says so here too). Anything that cannot be read
raises `Unreadable` with words a partner can act on. The format comes from the partner's file
name; the bytes from the path wpflow chose. Cells stay as read: `coerce` types them.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import Any

from wpflow.inputs.headers import normalise_header
from wpflow.inputs.safety import CSV_SUFFIXES, SHEET_SUFFIXES, InputLimits, Unreadable, sheet_problem, too_many_rows
from wpflow.inputs.workbook_metadata import (
    FIELD_PREFIX,
    INSTRUCTIONS_SHEET,
    METADATA_SHEET,
    WORKBOOK_SUFFIXES,
    read_metadata,
    template_headers,
)

Rows = list[tuple[int, list[Any]]]  # (row number as the partner sees it, cells)
# above this many cells (last row × last column) an XLSX sheet is streamed: python-calamine's
# dense grid of 200 000 cells is about 15 MB with its Python values, and it reads a sheet
# 10-20× faster than openpyxl (the scale benchmark reads 2 500 workbooks of 800 cells)
WHOLE_SHEET_CELLS = 200_000


# -- tables ------------------------------------------------------------------------------
def read_table(
    path: Path, suffix: str, sheet: str | None = None, *, max_rows: int | None = None
) -> tuple[str | None, list[str], Rows]:
    """(sheet, normalised header, rows) of a table file. The format comes from the partner's
    file name (`suffix`): archived copies are named by hash and have none. `sheet` is the
    kind's sheet name, read if the workbook has it. More than `max_rows` rows under the header
    (default `InputLimits().max_rows`, the settings' default) raise `Unreadable`."""
    limit = max_rows if max_rows is not None else InputLimits().max_rows
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path, suffix, sheet, limit)
    if suffix in CSV_SUFFIXES:
        return None, *read_csv(path, limit)
    if suffix == ".json":
        return None, *_read_json_rows(path, limit)
    if suffix == ".docx":
        return None, *_read_docx_table(path, limit)
    raise Unreadable(f"files of type {suffix or '(none)'} are not read as tables; send XLSX, CSV or JSON")


def choose_sheet(names: list[str], wanted: str | None) -> str | None:
    """The kind's sheet, else the first data sheet (not the hidden metadata, not a template's instructions)."""
    return next((n for n in names if wanted and n.casefold() == wanted.casefold()), None) or next(
        (n for n in names if not n.startswith("_") and n != INSTRUCTIONS_SHEET), None
    )


def _read_workbook(path: Path, suffix: str, wanted: str | None, max_rows: int) -> tuple[str | None, list[str], Rows]:
    """The chosen sheet (`choose_sheet`), streamed when large. A generated template's headers
    are read through its own field list."""
    if suffix in SHEET_SUFFIXES:
        from wpflow.inputs.sheet_extent import sheet_extents

        try:
            extents = {e.name: e for e in sheet_extents(path, max_rows)}
        except Exception:
            extents = {}  # not a readable zip: python-calamine says why below
        sheet = choose_sheet(list(extents), wanted)
        extent = extents.get(sheet or "")
        if extent is not None:
            problem = sheet_problem(extent, max_rows)
            if problem:
                raise Unreadable(problem, sheet=sheet)
            if extent.rows * extent.columns > WHOLE_SHEET_CELLS:
                data = stream_sheet(path, extent.name, max_rows)
                fields = {
                    normalise_header(header): key.removeprefix(FIELD_PREFIX)
                    for key, header in read_metadata(path, suffix).items()
                    if key.startswith(FIELD_PREFIX)
                }
                return table_of(sheet, data, fields)
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        sheet = choose_sheet(names, wanted)
        found = workbook.get_sheet_by_name(sheet) if sheet else None
        if found is not None and found.height > max_rows + 1:
            raise Unreadable(too_many_rows(max_rows, sheet), sheet=sheet)
        data = found.to_python(skip_empty_area=False) if found is not None else []
        fields = (
            template_headers(workbook.get_sheet_by_name(METADATA_SHEET).to_python())
            if METADATA_SHEET in names and data
            else {}
        )
    except PasswordError:
        raise Unreadable("is password-protected; remove the password and send it again") from None
    except Unreadable:
        raise
    except Exception as exc:
        raise Unreadable(
            f"is damaged or not a spreadsheet ({exc.__class__.__name__}); save it again from the original program"
        ) from None
    return table_of(sheet, data, fields)


def table_of(sheet: str | None, data: list[list[Any]], fields: dict[str, str]) -> tuple[str | None, list[str], Rows]:
    if not data:
        return sheet, [], []
    header = [normalise_header(h) for h in data[0]]
    header = [fields.get(h, h) for h in header] if fields else header
    return sheet, header, [(i + 2, r) for i, r in enumerate(data[1:])]


def stream_sheet(path: Path, sheet: str, max_rows: int) -> list[list[Any]]:
    """The sheet's rows as python-calamine's `to_python(skip_empty_area=False)` gives them
    (from A1, '' for an empty cell, numbers as floats, a date without a time as a date), read
    by openpyxl's read-only reader one row at a time, stopping at a value below row
    `max_rows` + 1."""
    from openpyxl import load_workbook

    data: list[list[Any]] = []
    try:
        with warnings.catch_warnings(), path.open("rb") as fh:
            warnings.simplefilter("ignore")  # openpyxl's complaints about extensions and a file object's name
            workbook = load_workbook(fh, read_only=True, data_only=True, keep_links=False)
            try:
                worksheet = workbook[sheet]
                worksheet.reset_dimensions()  # rows as long as their cells, whatever <dimension> claims
                for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                    if number > max_rows + 1:
                        if any(v is not None for v in values):
                            raise Unreadable(too_many_rows(max_rows, sheet), sheet=sheet)
                        continue
                    data.append(list(values))
            finally:
                workbook.close()
    except Unreadable:
        raise
    except Exception as exc:
        raise Unreadable(
            f"is damaged or not a spreadsheet ({exc.__class__.__name__}); save it again from the original program"
        ) from None
    while data and all(v is None for v in data[-1]):
        data.pop()
    width = max((used_width(r) for r in data), default=0)
    return [[as_calamine(v) for v in itertools.islice(itertools.chain(r, itertools.repeat(None)), width)] for r in data]


def used_width(row: list[Any]) -> int:
    """How many cells of the row reach its last value."""
    return len(row) - next((i for i, v in enumerate(reversed(row)) if v is not None), len(row))


def as_calamine(value: Any) -> Any:
    """An openpyxl value as python-calamine gives it, so that validation reads a sheet alike
    whichever reader read it."""
    if value is None:
        return ""
    if value.__class__ is int:
        return float(value)
    if value.__class__ is dt.datetime and value.time() == dt.time():
        return value.date()
    return value


def read_csv(path: Path, max_rows: int | None = None) -> tuple[list[str], Rows]:
    """(normalised header, [(row number as a spreadsheet shows it, cells)]), read a record at a
    time and at most `max_rows` under the header; annotated copies of CSV files use it too, so
    their row numbers match the issues'."""
    limit = max_rows if max_rows is not None else InputLimits().max_rows
    records = csv_records(path)
    header = next(records, None)
    if header is None:
        return [], []
    rows: Rows = []
    for number, cells in enumerate(records, start=2):
        if number > limit + 1:
            raise Unreadable(too_many_rows(limit))
        rows.append((number, cells))
    return [normalise_header(h) for h in header], rows


def csv_records(path: Path) -> Generator[list[str], None, None]:
    """The file's CSV records, decoded (`text_encoding`) and split (`sniff_delimiter`) a line
    at a time: the file is never held whole."""
    encoding = text_encoding(path)
    with path.open(encoding=encoding, newline="\n") as fh:  # "\n": lines as io.StringIO splits them
        head = "".join(itertools.islice(fh, 6))
    with path.open(encoding=encoding, newline="\n") as fh:
        try:
            yield from csv.reader(fh, delimiter=sniff_delimiter(head))
        except csv.Error as exc:
            raise Unreadable(f"is not a readable CSV file ({exc}); save it again as CSV") from None


def check_csv_rows(path: Path, max_rows: int) -> None:
    """Refuse a CSV (or text table) with more than `max_rows` rows under its header, counted
    without holding the file: lines first (a file with few enough is done), then the CSV
    records themselves, read incrementally up to the limit."""
    lines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            lines += chunk.count(b"\n")
    if lines <= max_rows + 1:
        return
    records = csv_records(path)
    try:
        counted = sum(1 for _ in itertools.islice(records, max_rows + 2))
    except Unreadable:
        return  # not a readable CSV: validation says why
    finally:
        records.close()
    if counted > max_rows + 1:
        raise Unreadable(too_many_rows(max_rows))


def _read_json_rows(path: Path, max_rows: int) -> tuple[list[str], Rows]:
    data = load_json(path)
    items = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Unreadable('is not a list of rows; send [{"column": value, ...}, ...] or {"rows": [...]}')
    if not items:
        raise Unreadable("contains no data rows")
    if len(items) > max_rows:
        raise Unreadable(too_many_rows(max_rows))
    odd = next((i + 1 for i, item in enumerate(items) if not isinstance(item, dict)), None)
    if odd is not None:
        raise Unreadable(f'row {odd} is not a set of columns; every row must look like {{"column": value, ...}}')
    header = list(dict.fromkeys(k for item in items for k in item))
    rows = [(i + 1, [item.get(h) for h in header]) for i, item in enumerate(items)]  # row 1: the first item
    return [normalise_header(h) for h in header], rows


def _read_docx_table(path: Path, max_rows: int) -> tuple[list[str], Rows]:
    """The first table of a Word file: its first row names the columns."""
    table = next((t for t in open_docx(path).tables if t.rows), None)
    if table is None:
        raise Unreadable(
            "has no table; put the rows in a Word table whose first row names the columns, or send XLSX or CSV"
        )
    if len(table.rows) > max_rows + 1:
        raise Unreadable(too_many_rows(max_rows))
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
NOT_TEXT = "is not a text file (perhaps a spreadsheet under a text file's name); send it under its own name, e.g. .xlsx"
UNDECODABLE = "cannot be decoded as UTF-8, Windows-1252 or Windows-1257; save it as 'CSV UTF-8'"


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's 'Unicode text'), else the Windows
    code page whose letters fit the bytes best (see `legacy_encoding`)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if b"\0" in raw[:4096]:
        raise Unreadable(NOT_TEXT)
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
    raise Unreadable(UNDECODABLE)


def text_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """The encoding `decode_text` would choose for the file, found a chunk at a time."""
    with path.open("rb") as fh:
        head = fh.read(4096)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\0" in head:
            raise Unreadable(NOT_TEXT)
        fh.seek(0)
        utf8, baltic, western = codecs.getincrementaldecoder("utf-8")(), 0, 0
        fits = True
        while block := fh.read(chunk):
            baltic += len(block) - len(block.translate(None, _BALTIC))
            western += len(block) - len(block.translate(None, _WESTERN))
            if fits:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    fits = False
        if fits:
            try:
                utf8.decode(b"", final=True)
                return "utf-8-sig"
            except UnicodeDecodeError:
                pass
        first = "cp1257" if baltic > western else "cp1252"
        for encoding in (first, "cp1252" if first == "cp1257" else "cp1257"):
            fh.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while block := fh.read(chunk):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
                return encoding
            except UnicodeDecodeError:
                continue
    raise Unreadable(UNDECODABLE)


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
