"""The annotated copy a partner gets back with an invalid file: their own workbook with each bad
cell filled and commented, plus a "Problems" sheet listing every issue.

CSV input comes back as a workbook of its rows (a CSV cannot carry colours or comments); formats
openpyxl cannot write back (XLS, ODS, JSON, Markdown, DOCX), and files it cannot open, get a
workbook with the Problems sheet only. Written with openpyxl; the original is never touched (it
is read from the archive).

openpyxl holds a whole workbook to write it back, about 350 bytes and 40 µs per cell: a file
of more than `MAX_ANNOTATED_CELLS` cells (counted by `sheet_extent` without opening it, or a
CSV's cells) gets the Problems sheet only, with a line saying why — never a workbook loaded whole
past that.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schemas.inputs import InputKind
from schemas.records import Issue, ValidationResult
from wpflow.files import replacing
from wpflow.inputs.readers import read_csv
from wpflow.inputs.safety import SHEET_SUFFIXES, count

PROBLEMS = "Problems"
FILLS = {
    "error": PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE"),  # Excel's "bad" red
    "warning": PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C"),  # Excel's "neutral" amber
}
HEADER = ["Severity", "Sheet", "Row", "Column", "Field", "Value", "Message"]
WIDTHS = [10, 16, 6, 8, 22, 28, 80]
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
MAX_ANNOTATED_CELLS = 100_000  # about 35 MB and 4 s in openpyxl; 10 000 rows of 10 columns


def write_annotated_copy(original: Path, result: ValidationResult, out: Path, kind: InputKind | None) -> Path:
    """Write the annotated copy of `original` (an archived file: its format comes from the
    partner's file name in `result.file`) to `out` (.xlsx), atomically. Only for a file the gate
    (`wpflow.inputs.gate`) accepted: this opens it with openpyxl. The first `MARKED_PROBLEMS` issues
    are marked and listed, then a count of the rest."""
    from wpflow.inputs.problems import MARKED_PROBLEMS, first_problems, more_line

    workbook, too_big = partner_workbook(original, result, kind)
    shown, more = first_problems(result.issues, MARKED_PROBLEMS)  # bounded: the receipt's problems.csv has all
    mark_cells(workbook, shown)
    add_problems_sheet(workbook, shown)
    if more:
        workbook[PROBLEMS].append(["", "", "", "", "", "", more_line(more, "the problems.csv attached to the receipt")])
    if too_big:
        workbook[PROBLEMS].append(["", "", "", "", "", "", too_big])
    with replacing(out, "the annotated copy") as tmp:
        workbook.save(tmp)
    return out


def partner_workbook(original: Path, result: ValidationResult, kind: InputKind | None) -> tuple[Workbook, str | None]:
    """The partner's cells as a workbook; an empty one when the format has no cells or the file
    cannot be opened (damaged, password-protected): the Problems sheet then says why. The
    second value says why the cells were left out of a file too large to copy."""
    suffix = Path(result.file).suffix.lower()
    try:
        if suffix in SHEET_SUFFIXES:
            cells = workbook_cells(original)
            if cells > MAX_ANNOTATED_CELLS:
                return empty_workbook(), too_big_line(cells)
            # a file object: openpyxl refuses a path without an .xlsx suffix, and archived copies
            # are named by hash. keep_vba off: the copy is a plain .xlsx, macros dropped.
            with warnings.catch_warnings(), open(original, "rb") as fh:
                warnings.simplefilter("ignore")  # "extension is not supported and will be removed"
                return load_workbook(fh), None
        if suffix == ".csv" or (suffix == ".txt" and (kind is None or kind.shape == "rows")):  # .txt: Markdown too
            return workbook_from_csv(original, sheet_title(kind))
    except Exception:
        pass
    return empty_workbook(), None


def empty_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def workbook_cells(path: Path) -> int:
    """The cells openpyxl would hold for the workbook: each sheet's last row × last column."""
    from wpflow.inputs.sheet_extent import sheet_extents

    return sum(e.rows * e.columns for e in sheet_extents(path))


def too_big_line(cells: int) -> str:
    return (
        f"Your file has about {count(cells)} cells, too many for an annotated copy (at most "
        f"{count(MAX_ANNOTATED_CELLS)}): the problems are listed here, each with its sheet, row and column."
    )


def sheet_title(kind: InputKind | None) -> str:
    return kind.sheet if kind is not None and kind.shape == "rows" else "Data"


def workbook_from_csv(path: Path, title: str) -> tuple[Workbook, str | None]:
    """The CSV's rows as the partner's program showed them (validation's own reader: same
    encoding, delimiter and row numbers, so issue rows point at the right cells); none of
    them, and why, past `MAX_ANNOTATED_CELLS`."""
    header, rows = read_csv(path)
    cells = len(header) + sum(len(c) for _, c in rows)
    if cells > MAX_ANNOTATED_CELLS:
        return empty_workbook(), too_big_line(cells)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for col, value in enumerate(header, start=1):
        put(sheet, 1, col, value)
    for number, row in rows:
        for col, value in enumerate(row, start=1):
            put(sheet, number, col, value)
    return workbook, None


def put(sheet: Worksheet, row: int, col: int, value: object) -> None:
    """Write text as text: a CSV cell or an offending value like '=HYPERLINK(...)' must not become
    a live formula in the copy we mail back, and control characters (which openpyxl refuses to
    save) are dropped."""
    cell = sheet.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def mark_cells(workbook: Workbook, issues: list[Issue]) -> None:
    """Fill and comment every cell an issue points at; several issues on a cell share one comment."""
    by_cell: dict[tuple[str | None, int, str], list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.row is not None and issue.column and issue.column.isalpha():
            by_cell[(issue.sheet, issue.row, issue.column.upper())].append(issue)
    for (sheet_name, row, column), found in by_cell.items():
        sheet = (
            workbook[sheet_name]
            if sheet_name in workbook.sheetnames
            else (workbook.worksheets[0] if workbook.worksheets else None)
        )
        if sheet is None or sheet.title == PROBLEMS:
            continue
        try:
            col = column_index_from_string(column)
        except ValueError:
            continue
        if not (1 <= row <= MAX_ROW and col <= MAX_COLUMN):  # outside Excel's grid: listed on Problems only
            continue
        cell = sheet.cell(row=row, column=col)
        if isinstance(cell, MergedCell):  # fill and comment the merged range's anchor cell
            merged = next(r for r in sheet.merged_cells.ranges if cell.coordinate in r)
            cell = sheet.cell(row=merged.min_row, column=merged.min_col)
        worst = "error" if any(i.severity == "error" for i in found) else "warning"
        cell.fill = FILLS[worst]
        text = "\n".join(f"{i.severity}: {i.message}" for i in found)
        cell.comment = Comment(ILLEGAL_CHARACTERS_RE.sub("", text), "wpflow", width=320, height=40 + 18 * len(found))


def add_problems_sheet(workbook: Workbook, issues: list[Issue]) -> None:
    if PROBLEMS in workbook.sheetnames:
        workbook.remove(workbook[PROBLEMS])
    sheet = workbook.create_sheet(PROBLEMS, 0)
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row, issue in enumerate(issues, start=2):
        values = [issue.severity, issue.sheet, issue.row, issue.column, issue.field, issue.value, issue.message]
        for col, value in enumerate(values, start=1):
            put(sheet, row, col, value)
        sheet.cell(row=row, column=1).fill = FILLS[issue.severity]
    if not issues:
        sheet.append(["", "", "", "", "", "", "No problems found."])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{sheet.max_row}"
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    workbook.active = 0
