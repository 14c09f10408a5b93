"""The hidden `_wpflow` sheet of the workbooks `wpflow template` generates: key/value rows
(column A key, column B value) saying which kind, milestone and partner the file was made for.

It outranks the file name for kind detection, and it lets a file that claims another partner
(a city that filled in its neighbour's template, or uploaded into the wrong folder) be refused
with a receipt that says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from wpflow.inputs.headers import normalise_header

METADATA_SHEET = "_wpflow"
INSTRUCTIONS_SHEET = "Instructions"  # a template's visible first sheet: read by people, never as data
FIELD_PREFIX = "field:"  # `field:budget_eur | Budget (EUR) *`: the column a person reads, per field
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})


def read_metadata(path: Path, suffix: str) -> dict[str, str]:
    """The sheet's keys and values; {} for other formats, a workbook without the sheet, or one
    that cannot be opened (validation reports that, not this). Read once per file as it is:
    the gate (which partner) and kind detection (which kind) both ask, and each read opened
    the workbook again (0.3 ms a file; 2 500 files at 500 partners)."""
    if suffix.lower() not in WORKBOOK_SUFFIXES:
        return {}
    try:
        st = path.stat()
    except OSError:
        return {}
    return dict(_read_metadata(str(path), st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=64)
def _read_metadata(path: str, _mtime_ns: int, _size: int) -> tuple[tuple[str, str], ...]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(path)
        if METADATA_SHEET not in workbook.sheet_names:
            return ()
        rows = workbook.get_sheet_by_name(METADATA_SHEET).to_python()
    except Exception:
        return ()
    return tuple(metadata_rows(rows).items())


def metadata_rows(rows: list[list]) -> dict[str, str]:
    return {str(r[0]).strip(): str(r[1]).strip() for r in rows if len(r) >= 2 and str(r[0]).strip()}


def template_headers(rows: list[list]) -> dict[str, str]:
    """Normalised header → field name, from the sheet's `field:` rows: a template's human
    headers ('Budget (EUR) *') are read back as the fields they were written for, even when a
    later wpflow words its headers differently."""
    return {
        normalise_header(header): key.removeprefix(FIELD_PREFIX)
        for key, header in metadata_rows(rows).items()
        if key.startswith(FIELD_PREFIX)
    }
