"""The secretariat's spreadsheets as `wpflow init` reads them: tables whose every cell knows its
file, sheet, row and column, and the parsers that turn a cell into a yes/no, a slug, a list
(dates and months: `dates`).

The partner list and the work plan are whatever the secretariat already keeps, in XLSX or CSV;
they are read by the same readers as partner files (`wpflow/inputs/readers.py`), so encodings, CSV
dialects and workbooks behave alike. Every error names where to fix it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from wpflow.init.columns import Columns, header_key, lookup, shown
from wpflow.inputs.headers import column_letter
from wpflow.inputs.readers import CSV_SUFFIXES, Rows, read_table
from wpflow.inputs.safety import Unreadable
from wpflow.inputs.workbook_metadata import WORKBOOK_SUFFIXES

# (question, default, parse) → the parsed answer; the CLI asks on the terminal until it parses
Ask = Callable[[str, str | None, Callable[[str], Any]], Any]


@dataclass(frozen=True)
class Where:
    """A place in the secretariat's spreadsheets: file, sheet, row, column (each if known)."""

    file: str  # the file's name as the secretariat knows it, or the command-line option
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        parts += [f"sheet {self.sheet}"] if self.sheet else []
        parts += [f"row {self.row}"] if self.row else []
        parts += [f"column {self.column}"] if self.column else []
        return ", ".join(parts)


@dataclass
class InitError(Exception):
    """One thing wrong in the spreadsheets, located for the person who fixes it."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InitErrors(Exception):
    """Every problem found in one pass, so the spreadsheets are fixed once, not once per run."""

    def __init__(self, errors: list[InitError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class Collector:
    """Gathers every error of a pass, and asks for what is missing — or, without a way to ask
    (`--no-input`), records it as an error at the cell it should have been in."""

    def __init__(self, ask: Ask | None):
        self.ask = ask
        self.errors: list[InitError] = []

    def parse(self, where: Where, value: Any, parse: Callable[[Any], Any]) -> Any:
        """The parsed value, or None with the error recorded."""
        try:
            return parse(value)
        except ValueError as exc:
            self.errors.append(InitError(where, str(exc)))
            return None

    def need(self, where: Where, value: Any, what: str, parse: Callable[[Any], Any], default: str | None = None) -> Any:
        """A value the project needs: parsed if given, else asked for (or an error: `what` is missing)."""
        if not blank(value):
            return self.parse(where, value, parse)
        if self.ask is None:
            self.errors.append(InitError(where, f"{what} is missing"))
            return None
        return self.ask(f"{what[:1].upper()}{what[1:]} ({where})", default, parse)

    def fail(self, where: Where, message: str) -> None:
        self.errors.append(InitError(where, message))


@dataclass
class Table:
    """One sheet: its columns by their canonical name, its rows as the spreadsheet numbers them."""

    file: Path
    sheet: str | None
    columns: dict[str, int]
    headers: list[str]
    rows: Rows
    usable: bool = True  # False: its header has problems (reported); its rows' problems are not

    def where(self, row: int | None, column: str | None = None) -> Where:
        if column is None:
            return Where(self.file.name, self.sheet, row)
        index = self.columns.get(column)
        if index is None:  # an absent optional column: named as the canonical header
            return Where(self.file.name, self.sheet, row, column)
        label = self.headers[index]
        return Where(self.file.name, self.sheet, row, f"{column_letter(index)} ({label})")

    def cell(self, cells: list[Any], column: str) -> Any:
        """The cell's value, None when blank or the column is absent."""
        index = self.columns.get(column)
        value = cells[index] if index is not None and index < len(cells) else None
        return None if blank(value) else value


def read_sheet(path: Path, columns: Columns, sheet: str | None, c: Collector) -> Table:
    """A table whose headers are matched to canonical names (`columns`: name → what people
    write). An unknown or repeated header is an error added to `c`, and then the rows' own
    problems are not (`Table.usable` is False): a typo'd column would otherwise be dropped, and
    every row would be said to miss it. The rows are still read, so a partner list with a bad
    header still names the partners the work plan refers to."""
    found, header, rows = _read(path, sheet)
    known = lookup(columns)
    indexes: dict[str, int] = {}
    errors = len(c.errors)
    for i, written in enumerate(header):
        if not written:
            continue
        where = Where(path.name, found, 1, f"{column_letter(i)} ({written})")
        name = known.get(header_key(written))
        if name is None:
            c.fail(where, f"unknown column; known: {', '.join(shown(n) for n in columns)} (wpflow init --help)")
        elif name in indexes:
            c.fail(where, f"a second {shown(name)!r} column")
        else:
            indexes[name] = i
    data = [(n, cells) for n, cells in rows if not all(blank(v) for v in cells)]
    return Table(path, found, indexes, header, data, usable=len(c.errors) == errors)


def _read(path: Path, sheet: str | None) -> tuple[str | None, list[str], Rows]:
    suffix = path.suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES | CSV_SUFFIXES:
        raise Unreadable(f"{path.name}: files of type {suffix or '(none)'} are not read; give XLSX or CSV")
    try:
        return read_table(path, suffix, sheet)
    except Unreadable as exc:
        raise Unreadable(f"{path.name} {exc}") from None


def workbook_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook; none for CSV."""
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return []
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:
        raise Unreadable(f"{path.name} is damaged or not a spreadsheet ({exc.__class__.__name__})") from None


# -- cells ------------------------------------------------------------------------------------
def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """A cell as text: a whole number read from a workbook as 3.0 is '3'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


_YES = {"yes", "y", "true", "x", "1", "ja", "kyllä"}
_NO = {"no", "n", "false", "0", "-", "nein", "ei"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).casefold()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise ValueError(f"{text(value)!r} is neither yes nor no")


def slug(value: str) -> str:
    """'St. Petersburg' → 'st-petersburg', 'Seinäjoki' → 'seinajoki': an id from a name."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-")


def split_list(value: Any) -> list[str]:
    """Items of a cell listing several: one per line, or (in a one-line cell) separated by ';'."""
    raw = str(value)
    return (
        [item.strip() for item in raw.splitlines() if item.strip()]
        if "\n" in raw.strip()
        else [item.strip() for item in raw.split(";") if item.strip()]
    )
