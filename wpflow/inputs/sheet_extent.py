"""How far each worksheet of an XLSX/XLSM reaches — its last row and column holding a value —
read from the zip in chunks, before any spreadsheet parser opens it.

The gate refuses a sheet deeper than `Settings.max_rows` or wider than `MAX_COLUMNS` with this
(`wpflow.inputs.safety`), and the reader chooses by it between python-calamine (whole sheet,
fast) and openpyxl's streaming reader (`wpflow.inputs.readers`). Both matter because
python-calamine holds a sheet as a dense grid: a 5 KB workbook with one value in A1 and one in
XFD20000 is 330 million cells, 10 GB and half a minute to read.

No XML parser runs here: regular expressions find the `<row>` and `<c>` tags (an attribute
value cannot hold `<` or `>`, cell text is escaped), so nothing is expanded or fetched, and a
scan stops as soon as a sheet is over the limit. A cell written as `<c .../>` or `<c ...></c>`
holds no value (a formatted empty cell) and does not count.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# a partner input has a few dozen columns at most; 256 is as many as Excel 97-2003 had (Excel
# now has 16 384), and 10 000 rows of 256 short cells are about 100 MB unpacked
MAX_COLUMNS = 256
CHUNK = 1 << 20

_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
# a cell written `<c r="B7" ...>` with a value: neither <c .../> nor <c ...></c>
_VALUE_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*(?<!/)>(?!</)')
_REF = re.compile(rb'\sr="([A-Z]{1,3})?(\d*)"')
_SHEET = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?sheet\s([^>]*)>")
_RELATIONSHIP = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(r'([\w:.-]+)\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class SheetExtent:
    """A worksheet's name, its part in the zip, and how far its values reach (0: empty)."""

    name: str
    part: str
    rows: int  # the last row holding a value, as the spreadsheet numbers it
    columns: int  # the last column holding a value, 1 for A
    cut: bool = False  # the scan stopped early: the sheet reaches at least this far


def column_number(letters: bytes) -> int:
    n = 0
    for byte in letters:
        n = n * 26 + byte - 64
    return n


def column_name(number: int) -> str:
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def sheet_extents(path: Path, max_rows: int | None = None) -> list[SheetExtent]:
    """Every worksheet's extent, in the workbook's order. A scan stops once a sheet holds a
    value below row `max_rows` + 1 (the header) or right of `MAX_COLUMNS`. Raises
    `zipfile.BadZipFile` (or `OSError`) for a damaged archive. Cached per file version: the gate
    and the reader both ask."""
    st = path.stat()
    return list(_sheet_extents(str(path), st.st_mtime_ns, st.st_size, max_rows))


@lru_cache(maxsize=64)
def _sheet_extents(path: str, _mtime_ns: int, _size: int, max_rows: int | None) -> tuple[SheetExtent, ...]:
    with zipfile.ZipFile(path) as archive:
        return tuple(scan_sheet(archive, name, part, max_rows) for name, part in worksheet_parts(archive))


def worksheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, part) from xl/workbook.xml and its relationships; every
    xl/worksheets/*.xml by its part name when those do not say."""
    names = set(archive.namelist())
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        workbook = rels = ""
    targets = {}
    for match in _RELATIONSHIP.finditer(rels):
        attrs = dict(_ATTRIBUTE.findall(match[1]))
        target = html.unescape(attrs.get("Target", ""))
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[attrs.get("Id")] = part
    parts = []
    for match in _SHEET.finditer(workbook):
        attrs = dict(_ATTRIBUTE.findall(match[1]))
        rel = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), None)
        if targets.get(rel) in names:
            parts.append((html.unescape(attrs.get("name", "")), targets[rel]))
    if parts:
        return parts
    return [(n, n) for n in sorted(names) if n.startswith("xl/worksheets/") and n.endswith(".xml")]


def scan_sheet(archive: zipfile.ZipFile, name: str, part: str, max_rows: int | None = None) -> SheetExtent:
    """The extent of one worksheet part, read a chunk at a time."""
    last_row = last_column = 0
    row = column = 0
    tail = b""
    with archive.open(part) as fh:
        while chunk := fh.read(CHUNK):
            data = tail + chunk
            end = data.rfind(b"<")  # a tag cut by the chunk's end waits for the next chunk
            if end == -1 or b">" in data[end:]:
                end = len(data)
            window = data[:end]
            if window.count(b'<c r="') == window.count(b"<c ") + window.count(b"<c>") and b":c " not in window:
                # every cell says where it is first, unprefixed (as Excel, LibreOffice and
                # openpyxl write them): the regex engine finds the cells with values
                cells = _VALUE_CELL.findall(window)
                if cells:
                    letters, numbers = zip(*cells)  # C-level from here: map, set, max
                    last_row = max(last_row, *map(int, numbers))
                    last_column = max(last_column, *map(column_number, set(letters)))
                    row = int(numbers[-1])
            else:
                for match in _TAG.finditer(data, 0, end):
                    ref = _REF.search(match[2])
                    if match[1] == b"row":
                        row = int(ref[2]) if ref and ref[2] else row + 1
                        column = 0
                        continue
                    column = column_number(ref[1]) if ref and ref[1] else column + 1
                    if ref and ref[2]:
                        row = int(ref[2])
                    if match[2].endswith(b"/") or data.startswith(b"</", match.end()):
                        continue  # <c .../> or <c ...></c>: formatted, no value
                    last_row, last_column = max(last_row, row), max(last_column, column)
            if (max_rows is not None and last_row > max_rows + 1) or last_column > MAX_COLUMNS:
                return SheetExtent(name, part, last_row, last_column, cut=True)
            tail = data[end:]
    return SheetExtent(name, part, last_row, last_column)
