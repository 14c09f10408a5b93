"""`wpflow template`: the files a partner fills in for a milestone, generated from the schemas.

One XLSX per required row kind, made to be filled in without a manual: a first sheet
"Instructions" (project, milestone, partner, due date, what to deliver, whom to ask, every
column explained), then the data sheet — human headers with units ("Budget (EUR) *"), each
commented with its description, dropdowns for allowed values, number and date checks and
formats, a frozen header row — and a hidden `_wpflow` sheet saying what the file is for and
which field each header stands for (kind detection, the partner check and the reader use it,
see `wpflow.inputs.workbook_metadata`). One DOCX per narrative kind. A filled-in template is a valid
submission (tests round-trip every kind).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import types
import typing
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic.fields import FieldInfo

import wpflow
from schemas.inputs import PERSONAL, UNIT, InputKind
from schemas.project import Milestone, Participant, Project, RequiredInput
from wpflow.inputs.headers import field_title
from wpflow.inputs.workbook_metadata import FIELD_PREFIX, INSTRUCTIONS_SHEET, METADATA_SHEET

TEMPLATE_VERSION = "1"
ROWS = 1000  # rows the checks cover below the header
HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
LABEL_WIDTH, TEXT_WIDTH = 28, 90  # the instructions' two columns, in characters
REQUIRED_MARK = " *"  # read back: validation ignores a trailing star in a header


def template_name(milestone: Milestone, kind: InputKind, partner: Participant, suffix: str) -> str:
    """`WP4-M3_seed_funding_riga.xlsx`: the kind id in the name, for detection without metadata."""
    return f"{milestone.id}_{kind.id}_{partner.id}{suffix}"


def write_templates(project: Project, milestone_id: str, partner_id: str, out_dir: Path) -> list[Path]:
    """Every template `partner_id` needs for `milestone_id`; raises KeyError for unknown ids."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in template_files(project, milestone_id, partner_id):
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    return written


def template_files(
    project: Project, milestone_id: str, partner_id: str, kinds: set[str] | None = None
) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the templates `partner_id` fills in for `milestone_id` — of the
    input kinds in `kinds` only, when given (a reminder attaches what is still owed)."""
    milestone, partner = project.milestone(milestone_id), project.participant(partner_id)
    files = []
    for required in milestone.inputs:
        kind = project.input_kinds.get(required.kind)
        if kind is None or (kinds is not None and kind.id not in kinds):
            continue
        out = io.BytesIO()
        if kind.shape == "rows":
            name = template_name(milestone, kind, partner, ".xlsx")
            workbook_template(project, milestone, kind, partner).save(out)
        elif kind.is_meeting_report:  # date, city and outcomes are fields: front matter holds them
            name = template_name(milestone, kind, partner, ".md")
            out.write(meeting_report_template(milestone, partner).encode("utf-8"))
        else:
            name = template_name(milestone, kind, partner, ".docx")
            document_template(project, milestone, kind, partner).save(out)
        files.append((name, out.getvalue()))
    return files


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
    """`Budget (EUR) *`: the field's title, its unit, a star when required. Validation reads it
    back through the hidden sheet's field list, or by title (`wpflow.inputs.headers.header_names`)."""
    unit = extra(info).get(UNIT)
    title = f"{field_title(name, info)} ({unit})" if unit else field_title(name, info)
    return title + (REQUIRED_MARK if info.is_required() else "")


def number_format(info: FieldInfo) -> str | None:
    """How a column shows what is typed: dates as 31.12.2005, amounts with thousands
    separators, years and counts below 10 000 without, text as text (see below)."""
    kind, allowed = base_type(info)
    _low, high = bounds(info)
    if kind is dt.date:
        return "DD.MM.YYYY"
    if kind is int:
        return "0" if high is not None and high < 10000 else "#,##0"
    if kind is float:
        return "#,##0.##" if extra(info).get(UNIT) != "EUR" else "#,##0"
    if kind is str and not allowed:  # digits typed as text stay text (a phone number)
        return "@"
    return None


def column_width(header: str, info: FieldInfo) -> float:
    """Wide enough for the header's longest word and the longest dropdown value, so nothing
    typical is cut; at most 40, the header wraps onto a second line instead."""
    _, allowed = base_type(info)
    longest = max([len(w) for w in header.split()] + [len(str(a)) for a in allowed] + [min(len(header), 24)])
    return float(max(12, min(40, longest + 3)))


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
        span = " and ".join(
            x
            for x in (f"at least {low}" if low is not None else "", f"at most {high}" if high is not None else "")
            if x
        )
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
        return DataValidation(
            type="list",
            formula1='"' + ",".join(allowed) + '"',
            allow_blank=True,
            error="Pick a value from the list.",
            showErrorMessage=True,
        )
    if kind is bool:
        return DataValidation(
            type="list", formula1='"yes,no"', allow_blank=True, showErrorMessage=True, error="yes or no"
        )
    if kind in (int, float):
        low = -1e15 if low is None else low
        high = 1e15 if high is None else high
        return DataValidation(
            type="whole" if kind is int else "decimal",
            operator="between",
            formula1=str(low),
            formula2=str(high),
            allow_blank=True,
            showErrorMessage=True,
            error=f"A {'whole ' if kind is int else ''}number between {low:g} and {high:g}.",
        )
    if kind is dt.date:
        return DataValidation(
            type="date",
            operator="greaterThan",
            formula1="1",
            allow_blank=True,
            showErrorMessage=True,
            error="A date, e.g. 31.12.2005.",
        )
    return None


# -- workbooks and documents -------------------------------------------------------------
def workbook_template(project: Project, milestone: Milestone, kind: InputKind, partner: Participant) -> Workbook:
    workbook = Workbook()
    instructions_sheet(workbook.active, project, milestone, kind, partner)
    sheet = workbook.create_sheet(kind.sheet)
    fields = kind.model.model_fields
    headers = [header_text(name, info) for name, info in fields.items()]
    sheet.append(headers)
    for index, (header, info) in enumerate(zip(headers, fields.values()), start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, italic=not info.is_required())  # optional columns in italics
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
        cell.comment = Comment(header_comment(info), "wpflow", width=300, height=120)
        sheet.column_dimensions[letter].width = column_width(header, info)
        check = column_check(info)
        if check is not None:
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}{ROWS + 1}")
        fmt = number_format(info)
        if fmt == "DD.MM.YYYY":  # a date cell needs its own format, a column default is not applied
            for row in range(2, ROWS + 2):
                sheet.cell(row=row, column=index).number_format = fmt
        elif fmt is not None:  # Excel applies a column's format to what is typed into it
            sheet.column_dimensions[letter].number_format = fmt
    sheet.freeze_panes = "A2"
    meta = workbook.create_sheet(METADATA_SHEET)
    meta.sheet_state = "hidden"
    for key, value in (
        ("kind", kind.id),
        ("milestone", milestone.id),
        ("partner", partner.id),
        ("project", project.name),
        ("template_version", TEMPLATE_VERSION),
        ("wpflow_version", wpflow.__version__),
    ):
        meta.append([key, value])
    for name, header in zip(fields, headers):
        meta.append([FIELD_PREFIX + name, header])
    workbook.active = 0
    return workbook


def instructions_sheet(sheet, project: Project, milestone: Milestone, kind: InputKind, partner: Participant) -> None:
    """The first sheet a partner sees: for whom, by when, what, how, whom to ask, every column."""
    sheet.title = INSTRUCTIONS_SHEET
    sheet.sheet_view.showGridLines = False
    sheet.column_dimensions["A"].width = LABEL_WIDTH
    sheet.column_dimensions["B"].width = TEXT_WIDTH
    wp = project.work_package(milestone.wp_id)
    line(sheet, f"{kind.label}: {partner.city}", size=14)
    line(sheet)
    for label, text in (
        ("Project", f"{project.name} — {project.title}"),
        ("Work package", f"{wp.id} {wp.title}"),
        (
            "Milestone",
            f"{milestone.id} {milestone.title} (period {milestone.start:%d.%m.%Y} – {milestone.end:%d.%m.%Y})",
        ),
        ("Partner", f"{partner.organisation}, {partner.city}"),
        ("Due date", f"{milestone.due:%d %B %Y}"),
        ("Questions to", whom_to_ask(project, milestone)),
    ):
        line(sheet, label, text)
    line(sheet)
    line(sheet, "What to deliver", size=12)
    for required in owed_inputs(project, milestone, partner):
        owed = project.input_kinds.get(required.kind)
        if owed is not None:
            where = f'this workbook, sheet "{kind.sheet}"' if owed.id == kind.id else "a separate file"
            line(sheet, owed.label, f"{asked_for(owed, required)} ({where})")
    line(sheet)
    line(sheet, "How to fill it in", size=12)
    item = (kind.model.__doc__ or "item.").strip().split("\n")[0]
    for number, step in enumerate(
        (
            f'On the sheet "{kind.sheet}", one row per item: {item[:1].lower() + item[1:]}',
            "Columns marked * are required; the others may stay empty. Pick listed values from the dropdowns.",
            "Keep the column headers, the sheet names and the file name; add no columns.",
            (
                "Save it as Excel (XLSX) and upload it to your folder or send it to the address above. "
                "You get a receipt by e-mail that lists anything to correct."
            ),
        ),
        start=1,
    ):
        line(sheet, f"{number}.", step)
    line(sheet)
    line(sheet, "The columns", size=12)
    for name, info in kind.model.model_fields.items():
        line(sheet, header_text(name, info), " ".join(sentence(x) for x in header_comment(info).split("\n")))


def asked_for(kind: InputKind, required: RequiredInput) -> str:
    """The kind's description and the project's own note on it; the note alone when it
    merely adds to the description (as the bundled project's notes do)."""
    note = (required.note or "").strip()
    if note.startswith(kind.description.rstrip(".")):
        return note
    return " ".join(sentence(x) for x in (kind.description, note) if x)


def sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def line(sheet, label: str = "", text: str = "", *, size: float | None = None) -> None:
    """One row: a bold label, wrapped text, and a height for it, since Excel does not fit the
    height of wrapped rows that openpyxl writes."""
    sheet.append([label, text])
    row = sheet.max_row
    sheet.cell(row=row, column=1).font = Font(bold=True, size=size)
    sheet.cell(row=row, column=1).alignment = WRAP
    sheet.cell(row=row, column=2).alignment = WRAP
    lines = max(math.ceil(len(text) / TEXT_WIDTH), math.ceil(len(label) / LABEL_WIDTH), 1)
    if lines > 1:
        sheet.row_dimensions[row].height = 15 * lines


def owed_inputs(project: Project, milestone: Milestone, partner: Participant) -> list[RequiredInput]:
    """The milestone's inputs this partner delivers (all of them if it is asked for none)."""
    mine = [r for r in milestone.inputs if partner.id in {p.id for p in project.deliverers(r)}]
    return mine or list(milestone.inputs)


def whom_to_ask(project: Project, milestone: Milestone) -> str:
    """The WP coordinator, and the lead partner when that is someone else, with e-mails."""
    wp = project.work_package(milestone.wp_id)
    coordinator, lead = project.participant(wp.coordinator), project.participant(project.lead)
    text = f"{coordinator.organisation}, {coordinator.city} ({wp.id} coordinator): {', '.join(coordinator.emails)}"
    if lead.id != coordinator.id:
        text += f"; lead partner {lead.organisation}, {lead.city}: {', '.join(lead.emails)}"
    return text


def document_template(project: Project, milestone: Milestone, kind: InputKind, partner: Participant):
    """A Word file: the title, then a heading per section with what to write under it. The
    reader takes each Heading 1 and the paragraphs under it as a section."""
    from docx import Document

    doc = Document()
    doc.add_paragraph(f"{milestone.id} {milestone.title} — {partner.city}", style="Title")
    doc.add_paragraph(
        f"{kind.label} for {project.name}. {kind.description} Replace the text under each "
        "heading; keep the headings (Heading 1 style)."
    )
    named = [(heading, "") for heading in kind.extra.get("sections", ())]
    for heading, hint in named or SECTIONS.get(kind.id, SECTIONS["progress_narrative"]):
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
