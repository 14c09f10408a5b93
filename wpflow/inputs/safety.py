"""Checks a partner file passes before any parser sees it: size, container type, zip bombs,
encryption, and how much it holds: what a container unpacks to, and how far a workbook's sheets
reach (`InputLimits`, from the settings; a CSV's rows are counted by `readers.check_csv_rows`).
Each failure is an `Unreadable` with a message a city administration can act on.

The bounds are what a partner input can need — a list of institutions is hundreds of rows, not
millions — so that every reader after the gate works within them: a 39 MB workbook that
unpacked to 470 MB once passed, and `wpflow validate` on it took 2.8 GB and 32 s.

Zip bombs are judged by the sizes the zip's directory declares. That is enough because both
readers hold a member to its declared size: python-calamine's zip crate stops with "File is
larger than its declared uncompressed size", Python's zipfile (python-docx) reads no further
and checks the CRC (a test sends such a lying zip).

XML inside DOCX/XLSX is parsed by python-docx (lxml with `resolve_entities=False`),
python-calamine (a Rust parser without DTD support) and openpyxl (large sheets and annotated
copies: the standard library's expat, which fetches no external entity and, from expat 2.4,
refuses exponential entity expansion), so external entities are never fetched (a test feeds an
XXE payload and checks no local file leaks into the result). wpflow's own look into a workbook
(`sheet_extent`) uses regular expressions, no XML parser; anything that parses XML itself must
use a parser that refuses entities (defusedxml).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from schemas.settings import Settings

if TYPE_CHECKING:
    from wpflow.inputs.sheet_extent import SheetExtent

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: XLS, DOC, and encrypted OOXML
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream an encrypted OOXML file keeps its zip in
ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".docx", ".ods"})
MAX_RATIO = 100  # uncompressed / compressed, for members over MIN_BOMB_MEMBER
MIN_BOMB_MEMBER = 1 << 20
SHEET_SUFFIXES = frozenset({".xlsx", ".xlsm"})  # whose sheets the gate measures (sheet_extent)
CSV_SUFFIXES = frozenset({".csv", ".txt"})  # read as CSV (a .txt may also be Markdown)


class Unreadable(Exception):
    """The file cannot be read at all (corrupt, wrong format, encrypted, too big); `sheet`
    when one sheet is the reason."""

    def __init__(self, message: str, sheet: str | None = None):
        super().__init__(message)
        self.sheet = sheet


class InputLimits(BaseModel):
    """How much a partner file may hold, as the gate and the readers enforce it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int | None = Field(None, description="Largest file accepted, in bytes; None: no limit")
    max_unpacked_bytes: int = Field(
        int(Settings.model_fields["max_unpacked_mb"].default * (1 << 20)),
        description="Most a container (XLSX, XLSM, DOCX, ODS) may unpack to, in bytes, all its parts together",
    )
    max_rows: int = Field(
        Settings.model_fields["max_rows"].default,
        description="Most data rows (below the header) a sheet, CSV file, JSON list or Word table may have",
    )

    @classmethod
    def of(cls, settings: Settings) -> InputLimits:
        """The limits `settings` set (WPFLOW_MAX_FILE_MB, WPFLOW_MAX_UNPACKED_MB, WPFLOW_MAX_ROWS)."""
        return cls(
            max_bytes=settings.max_file_bytes,
            max_unpacked_bytes=int(settings.max_unpacked_mb * (1 << 20)),
            max_rows=settings.max_rows,
        )


def check_container(path: Path, suffix: str, max_bytes: int | None = None, limits: InputLimits | None = None) -> None:
    """Raise `Unreadable` when `path` (named `...suffix` by the partner) must not be parsed:
    too big, damaged, encrypted, a zip bomb, unpacking to more than `limits` allow, or with a
    sheet deeper or wider than they allow. `max_bytes` overrides `limits.max_bytes`. (A CSV's
    rows are counted by the gate, `readers.check_csv_rows`, and by its reader.)"""
    limits = limits or InputLimits()
    max_bytes = max_bytes if max_bytes is not None else limits.max_bytes
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise Unreadable(
            f"is {file_size(size)}, more than the {file_size(max_bytes)} accepted; split it or send the data as CSV"
        )
    if size == 0:
        raise Unreadable("is empty (0 bytes)")
    if suffix not in ZIP_SUFFIXES:
        return
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        raise Unreadable(ole_message(path, suffix))
    if not zipfile.is_zipfile(path):
        what = "Word" if suffix == ".docx" else "spreadsheet"
        raise Unreadable(
            f"is damaged or not a {what} file (a {suffix} file is a zip archive, this is not); "
            "save it again from the original program"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"is damaged ({exc}); save it again from the original program") from None
    for m in members:
        if m.file_size > MIN_BOMB_MEMBER and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise Unreadable(
                f"part {m.filename} would unpack {m.file_size // max(m.compress_size, 1)}:1; "
                "it looks like a zip bomb and was not opened"
            )
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        raise Unreadable(
            f"would unpack to {file_size(total)}, more than the {file_size(limits.max_unpacked_bytes)} "
            "a partner file may hold; split the data into several files, or delete sheets, pictures "
            "and formatting it does not need"
        )
    if suffix in SHEET_SUFFIXES:
        check_sheets(path, limits.max_rows)


def check_sheets(path: Path, max_rows: int) -> None:
    """Refuse a workbook with a sheet deeper than `max_rows` data rows or wider than
    `MAX_COLUMNS`: no reader afterwards holds more (python-calamine holds a sheet as a dense grid)."""
    from wpflow.inputs.sheet_extent import sheet_extents

    try:
        extents = sheet_extents(path, max_rows)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise Unreadable(
            f"is damaged or not a spreadsheet ({exc.__class__.__name__}); save it again from the original program"
        ) from None
    for extent in extents:
        problem = sheet_problem(extent, max_rows)
        if problem:
            raise Unreadable(problem, sheet=extent.name)


def sheet_problem(extent: SheetExtent, max_rows: int) -> str | None:
    """Why the sheet of `extent` is refused (completing 'the file …'), or None."""
    from wpflow.inputs.sheet_extent import MAX_COLUMNS, column_name

    if extent.rows > max_rows + 1:
        return (
            f"sheet {extent.name!r} has data below row {count(max_rows + 1)}: more than the {count(max_rows)} "
            "rows a partner file may have under its header; split it into several files, or delete what is "
            "below the data"
        )
    if extent.columns > MAX_COLUMNS:
        return (
            f"sheet {extent.name!r} has data right of column {column_name(MAX_COLUMNS)}: more than the "
            f"{count(MAX_COLUMNS)} columns a partner file may have; delete what is right of the data"
        )
    return None


def too_many_rows(max_rows: int, sheet: str | None = None) -> str:
    """The refusal of a table with more than `max_rows` rows under its header (completing 'the file …')."""
    where = f"sheet {sheet!r} has" if sheet else "has"
    return (
        f"{where} more than the {count(max_rows)} rows a partner file may have under its header; "
        "split it into several files"
    )


def count(n: int) -> str:
    """10 000, as people read it (thin-space thousands)."""
    from wpflow.report.plain_words import format_value

    return format_value(n)


def file_size(n: int) -> str:
    """'50 MB', '1.5 MB', '12 KB' in binary units, as file managers and `max_file_mb` count."""
    if n < 1 << 20:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1 << 20):.1f}".removesuffix(".0") + " MB"


def ole_message(path: Path, suffix: str) -> str:
    """An OLE file under an .xlsx/.docx name is either encrypted (Office wraps the password-
    protected zip in one) or an Excel/Word 97-2003 file renamed: each needs a different fix."""
    if ENCRYPTED_PACKAGE in path.read_bytes():
        return "is password-protected; remove the password and send it again"
    if suffix == ".docx":  # .doc is not read: Word must convert it
        return "is a Word 97-2003 file (.doc) named .docx; open it in Word and save it as .docx"
    return f"is an Excel 97-2003 file (.xls) named {suffix}; rename it to .xls, or save it as {suffix} in Excel"
