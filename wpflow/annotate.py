"""The annotated copy a partner gets back with an invalid file: their own workbook with each bad
cell filled and commented, plus a "Problems" sheet listing every issue.

CSV input comes back as a workbook of its rows (a CSV cannot carry colours or comments); formats
openpyxl cannot write back (XLS, ODS, JSON, Markdown, DOCX) get a workbook with the Problems
sheet only. Written with openpyxl; the original is never touched (it is read from the archive).
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter

from schemas.inputs import INPUT_KINDS
from schemas.records import Issue, ValidationResult

PROBLEMS = "Problems"
FILLS = {
    "error": PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE"),  # Excel's "bad" red
    "warning": PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C"),  # Excel's "neutral" amber
}
HEADER = ["Severity", "Sheet", "Row", "Column", "Field", "Value", "Message"]
WIDTHS = [10, 16, 6, 8, 22, 28, 80]


def write_annotated_copy(original: Path, result: ValidationResult, out: Path) -> Path:
    """Write the annotated copy of `original` (an archived file: its format comes from the
    partner's file name in `result.file`) to `out` (.xlsx), atomically."""
    suffix = Path(result.file).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        workbook = load_workbook(original)  # keep_vba off: the copy is a plain .xlsx, macros dropped
    elif suffix in (".csv", ".txt"):
        workbook = workbook_from_csv(original, sheet_title(result))
    else:
        workbook = Workbook()
        workbook.remove(workbook.active)
    mark_cells(workbook, result.issues)
    add_problems_sheet(workbook, result.issues)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    workbook.save(tmp)
    os.replace(tmp, out)
    return out


def sheet_title(result: ValidationResult) -> str:
    kind = INPUT_KINDS.get(result.kind or "")
    return kind.sheet if kind is not None and kind.shape == "rows" else "Data"


def workbook_from_csv(path: Path, title: str) -> Workbook:
    """The CSV's rows as the partner's program showed them (validation's own reader: same
    encoding, delimiter and row numbers, so issue rows point at the right cells)."""
    from wpflow.validate import _read_csv

    header, rows = _read_csv(path)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(header)
    for number, cells in rows:
        for col, value in enumerate(cells, start=1):
            sheet.cell(row=number, column=col, value=value)
    return workbook


def mark_cells(workbook: Workbook, issues: list[Issue]) -> None:
    """Fill and comment every cell an issue points at; several issues on a cell share one comment."""
    by_cell: dict[tuple[str | None, int, str], list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.row is not None and issue.column and issue.column.isalpha():
            by_cell[(issue.sheet, issue.row, issue.column.upper())].append(issue)
    for (sheet_name, row, column), found in by_cell.items():
        sheet = workbook[sheet_name] if sheet_name in workbook.sheetnames else (
            workbook.worksheets[0] if workbook.worksheets else None)
        if sheet is None or sheet.title == PROBLEMS:
            continue
        cell = sheet.cell(row=row, column=column_index_from_string(column))
        worst = "error" if any(i.severity == "error" for i in found) else "warning"
        cell.fill = FILLS[worst]
        text = "\n".join(f"{i.severity}: {i.message}" for i in found)
        cell.comment = Comment(text, "wpflow", width=320, height=40 + 18 * len(found))


def add_problems_sheet(workbook: Workbook, issues: list[Issue]) -> None:
    if PROBLEMS in workbook.sheetnames:
        workbook.remove(workbook[PROBLEMS])
    sheet = workbook.create_sheet(PROBLEMS, 0)
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for issue in issues:
        sheet.append([issue.severity, issue.sheet, issue.row, issue.column, issue.field, issue.value, issue.message])
        sheet.cell(row=sheet.max_row, column=1).fill = FILLS[issue.severity]
    if not issues:
        sheet.append(["", "", "", "", "", "", "No problems found."])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{sheet.max_row}"
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    workbook.active = 0
