"""`wpflow template`: the files a partner fills in for a milestone, generated from the schemas.

One XLSX per required row kind — the model's fields as headers (with units), each header
commented with its description, dropdowns for allowed values, number and date checks, and a
hidden `_wpflow` sheet saying what the file is for (kind detection and the partner check read
it back, see `wpflow.metadata`) — and one DOCX per narrative kind. A filled-in template is a
valid submission (tests round-trip every kind).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic.fields import FieldInfo

import wpflow
from schemas.inputs import INPUT_KINDS, PERSONAL, UNIT, InputKind
from schemas.project import Milestone, Participant, Project
from wpflow.metadata import METADATA_SHEET

TEMPLATE_VERSION = "1"
ROWS = 1000  # rows the checks cover below the header
HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")


def template_name(milestone: Milestone, kind: InputKind, partner: Participant, suffix: str) -> str:
    """`WP4-M3_seed_funding_riga.xlsx`: the kind id in the name, for detection without metadata."""
    return f"{milestone.id}_{kind.id}_{partner.id}{suffix}"


def write_templates(project: Project, milestone_id: str, partner_id: str, out_dir: Path) -> list[Path]:
    """Every template `partner_id` needs for `milestone_id`; raises KeyError for unknown ids."""
    milestone, partner = project.milestone(milestone_id), project.participant(partner_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for required in milestone.inputs:
        kind = INPUT_KINDS.get(required.kind)
        if kind is None:
            continue
        if kind.shape == "rows":
            path = out_dir / template_name(milestone, kind, partner, ".xlsx")
            workbook_template(project, milestone, kind, partner).save(path)
        elif kind.id == "meeting_report":  # date, city and outcomes are fields: front matter holds them
            path = out_dir / template_name(milestone, kind, partner, ".md")
            path.write_text(meeting_report_template(milestone, partner), encoding="utf-8")
        else:
            path = out_dir / template_name(milestone, kind, partner, ".docx")
            document_template(project, milestone, kind, partner).save(str(path))
        written.append(path)
    return written


# -- fields ------------------------------------------------------------------------------
def base_type(info: FieldInfo) -> tuple[type | None, tuple[Any, ...]]:
    """(int/float/bool/str/date, allowed values for a Literal) of a possibly optional field."""
    annotation = info.annotation
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    args = [a for a in typing.get_args(annotation) if a is not type(None)] if union else [annotation]
    for arg in args:
        if typing.get_origin(arg) is typing.Literal:
            return str, typing.get_args(arg)
    for kind in (bool, int, float, dt.date, str):
        if kind in args:
            return kind, ()
    return None, ()


def bounds(info: FieldInfo) -> tuple[Any, Any]:
    low = high = None
    for rule in info.metadata:
        low = getattr(rule, "ge", None) if getattr(rule, "ge", None) is not None else low
        high = getattr(rule, "le", None) if getattr(rule, "le", None) is not None else high
    return low, high


def extra(info: FieldInfo) -> dict[str, Any]:
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


def header_text(name: str, info: FieldInfo) -> str:
    """`budget_eur (EUR)`: validation strips the unit in brackets and matches the name."""
    unit = extra(info).get(UNIT)
    return f"{name} ({unit})" if unit else name


def header_comment(info: FieldInfo) -> str:
    kind, allowed = base_type(info)
    low, high = bounds(info)
    lines = [info.description or "", "Required." if info.is_required() else "Optional."]
    if allowed:
        lines.append("One of: " + ", ".join(allowed) + ".")
    elif kind is bool:
        lines.append("yes or no.")
    elif kind is dt.date:
        lines.append("A date, e.g. 31.12.2005.")
    elif kind in (int, float):
        span = " and ".join(x for x in (f"at least {low}" if low is not None else "",
                                         f"at most {high}" if high is not None else "") if x)
        lines.append(("A whole number" if kind is int else "A number") + (f", {span}" if span else "") + ".")
    if extra(info).get(UNIT):
        lines.append(f"Unit: {extra(info)[UNIT]}.")
    if extra(info).get(PERSONAL):
        lines.append("Personal data: used by the secretariat only, never in reports to all partners.")
    return "\n".join(line for line in lines if line)


def column_check(info: FieldInfo) -> DataValidation | None:
    """Excel's own check for the column: a dropdown, yes/no, a number range or a date."""
    kind, allowed = base_type(info)
    low, high = bounds(info)
    if allowed:
        return DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True,
                              error="Pick a value from the list.", showErrorMessage=True)
    if kind is bool:
        return DataValidation(type="list", formula1='"yes,no"', allow_blank=True, showErrorMessage=True,
                              error="yes or no")
    if kind in (int, float):
        low = -1e15 if low is None else low
        high = 1e15 if high is None else high
        return DataValidation(type="whole" if kind is int else "decimal", operator="between",
                              formula1=str(low), formula2=str(high), allow_blank=True, showErrorMessage=True,
                              error=f"A {'whole ' if kind is int else ''}number between {low:g} and {high:g}.")
    if kind is dt.date:
        return DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                              showErrorMessage=True, error="A date, e.g. 31.12.2005.")
    return None


# -- workbooks and documents -------------------------------------------------------------
def workbook_template(project: Project, milestone: Milestone, kind: InputKind, partner: Participant) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind.sheet
    fields = kind.model.model_fields
    sheet.append([header_text(name, info) for name, info in fields.items()])
    for index, (name, info) in enumerate(fields.items(), start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, italic=not info.is_required())  # optional columns in italics
        cell.fill = HEADER_FILL
        cell.comment = Comment(header_comment(info), "wpflow", width=300, height=120)
        sheet.column_dimensions[letter].width = max(14, min(40, len(cell.value) + 4))
        check = column_check(info)
        if check is not None:
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}{ROWS + 1}")
        if base_type(info)[0] is dt.date:
            for row in range(2, ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "DD.MM.YYYY"
        if base_type(info) == (str, ()):  # Text format: typed digits (a phone number) stay text, not 67000000.0
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    meta = workbook.create_sheet(METADATA_SHEET)
    meta.sheet_state = "hidden"
    for key, value in (("kind", kind.id), ("milestone", milestone.id), ("partner", partner.id),
                       ("project", project.name), ("template_version", TEMPLATE_VERSION),
                       ("wpflow_version", wpflow.__version__)):
        meta.append([key, value])
    return workbook


def document_template(project: Project, milestone: Milestone, kind: InputKind, partner: Participant):
    """A Word file: the title, then a heading per section with what to write under it. The
    reader takes each Heading 1 and the paragraphs under it as a section."""
    from docx import Document

    doc = Document()
    doc.add_paragraph(f"{milestone.id} {milestone.title} — {partner.city}", style="Title")
    doc.add_paragraph(f"{kind.label} for {project.name}. {kind.description} Replace the text under each "
                      "heading; keep the headings (Heading 1 style).")
    for heading, hint in SECTIONS.get(kind.id, SECTIONS["progress_narrative"]):
        doc.add_heading(heading, level=1)
        doc.add_paragraph(hint)
    return doc


def meeting_report_template(milestone: Milestone, partner: Participant) -> str:
    """Markdown with front matter: the report's fields are typed values (a date, a count per
    city) that a Word file does not carry reliably."""
    import yaml

    front = {
        "title": f"{milestone.title}: meeting in {partner.city}",
        "date": milestone.due,
        "city": partner.city,
        "attendance": [{"city": partner.city, "participants": 0}],
        "outcomes": ["Replace with the first outcome or decision"],
    }
    body = "# Discussion\n\nWhat was discussed; one section per heading.\n"
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n" + body


SECTIONS: dict[str, list[tuple[str, str]]] = {
    "progress_narrative": [
        ("Progress", "What was done in this period, by whom, with which results."),
        ("Deviations", "What did not go as planned and why."),
        ("Next steps", "What follows until the next milestone."),
    ],
}
