"""`wpflow template`: generated files carry headers, explanations, dropdowns and the hidden
metadata sheet — and a filled-in template is a valid submission, for every input kind."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.conftest import sample_value
from tests.kinds import DOC_KINDS, KINDS, ROW_KINDS
from wpflow.inputs.partner_templates import base_type, header_text, write_templates
from wpflow.inputs.validate import validate_file
from wpflow.inputs.workbook_metadata import METADATA_SHEET, read_metadata


def milestone_for(project, kind: str) -> str:
    return next(m.id for m in project.milestones() if kind in [r.kind for r in m.inputs])


def template_for(project, kind: str, tmp_path, partner: str = "riga"):
    milestone = milestone_for(project, kind)
    [path] = [p for p in write_templates(project, milestone, partner, tmp_path) if f"_{kind}_" in p.name]
    return milestone, path


def sample(name: str, info, n: int):
    """A valid cell value as a partner types it: yes/no for booleans, dates as Excel dates."""
    value = sample_value(name, info, n)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else value


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_row_template_headers_comments_checks_and_metadata(project, kind, tmp_path):
    milestone, path = template_for(project, kind, tmp_path)
    assert path.name == f"{milestone}_{kind}_riga.xlsx"
    wb = load_workbook(path)
    spec = KINDS[kind]
    sheet = wb[spec.sheet]
    fields = spec.model.model_fields
    headers = [c.value for c in sheet[1]]
    assert headers == [header_text(name, info) for name, info in fields.items()]
    assert all("_" not in h for h in headers), headers  # people's words, not field names
    for cell, info in zip(sheet[1], fields.values()):
        assert info.description in cell.comment.text
        assert ("Required." if info.is_required() else "Optional.") in cell.comment.text
    literal = [(i, base_type(info)[1]) for i, info in enumerate(fields.values()) if base_type(info)[1]]
    if literal:
        column, allowed = literal[0]
        letter = sheet.cell(row=1, column=column + 1).column_letter
        lists = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
        assert any(
            dv.formula1 == '"' + ",".join(allowed) + '"' and f"{letter}2:{letter}1001" in str(dv.sqref) for dv in lists
        )
    assert wb[METADATA_SHEET].sheet_state == "hidden"
    assert read_metadata(path, ".xlsx") | {"wpflow_version": "-"} == {
        "kind": kind,
        "milestone": milestone,
        "partner": "riga",
        "project": project.name,
        "template_version": "1",
        "wpflow_version": "-",
        **{f"field:{name}": header for name, header in zip(fields, headers)},
    }  # the machine-readable names


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_a_filled_in_row_template_is_a_valid_submission(project, kind, tmp_path):
    milestone, path = template_for(project, kind, tmp_path)
    wb = load_workbook(path)
    spec = KINDS[kind]
    sheet = wb[spec.sheet]
    fields = list(spec.model.model_fields.items())
    for n in range(3):
        for column, (name, info) in enumerate(fields, start=1):
            sheet.cell(row=2 + n, column=column, value=sample(name, info, n))
    wb.save(path)
    result = validate_file(path, expected=[r.kind for r in project.milestone(milestone).inputs], kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert (result.kind, len(result.rows)) == (kind, 3)


@pytest.mark.parametrize("kind", DOC_KINDS)
def test_a_filled_in_document_template_is_a_valid_submission(project, kind, tmp_path):
    _milestone, path = template_for(project, kind, tmp_path)
    if path.suffix == ".docx":
        from docx import Document

        doc = Document(str(path))
        assert [p.style.name for p in doc.paragraphs][:3] == ["Title", "Normal", "Heading 1"]
        for p in doc.paragraphs[2:]:  # the partner replaces each hint under a heading with text
            if not p.style.name.startswith("Heading"):
                p.text = f"Riga's text about {p.text.lower()}"
        doc.save(str(path))
    result = validate_file(path, expected=[kind], kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert result.kind == kind and result.document


def test_template_command_writes_files_and_refuses_unknown_ids(tmp_path):
    from wpflow.cli.app import app

    runner = CliRunner()
    done = runner.invoke(app, ["template", "WP4-M3", "--partner", "riga", "-o", str(tmp_path)])
    assert done.exit_code == 0 and done.output.strip() == str(tmp_path / "WP4-M3_seed_funding_riga.xlsx")
    bad = runner.invoke(app, ["template", "WP4-M3", "--partner", "atlantis", "-o", str(tmp_path)])
    assert bad.exit_code == 1 and "atlantis" in bad.output


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_text_columns_are_formatted_as_text(project, kind, tmp_path):
    """Excel turns digits typed into a General cell into a number (a phone 67000000 would fail
    validation as 'not a valid string'); a Text-formatted column keeps them as typed."""
    _, path = template_for(project, kind, tmp_path)
    sheet = load_workbook(path)[KINDS[kind].sheet]
    for column, info in enumerate(KINDS[kind].model.model_fields.values(), start=1):
        letter = sheet.cell(row=1, column=column).column_letter
        text = base_type(info) == (str, ())
        assert (sheet.column_dimensions[letter].number_format == "@") is text, letter


def test_a_template_explains_itself_on_its_first_sheet(project, tmp_path):
    """A partner opens the workbook on "Instructions": for whom, by when, what, whom to ask,
    every column; the data sheet has human headers, dropdowns, formats, a frozen header."""
    _, path = template_for(project, "seed_funding", tmp_path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Schemes", METADATA_SHEET]
    assert wb.active.title == "Instructions" and wb["Instructions"].sheet_state == "visible"
    text = "\n".join(
        " | ".join(str(v) for v in row if v is not None) for row in wb["Instructions"].iter_rows(values_only=True)
    )
    milestone, riga = project.milestone("WP4-M3"), project.participant("riga")
    coordinator = project.participant(project.work_package("WP4").coordinator)
    for expected in (
        project.name,
        project.title,
        f"{milestone.id} {milestone.title}",
        riga.organisation,
        riga.city,
        "30 June 2006",
        KINDS["seed_funding"].label,
        coordinator.emails[0],
        "Budget (EUR) *",
        "Annual budget of the scheme",
        "One of: grant, loan, equity",
    ):
        assert expected in text, expected
    data = wb["Schemes"]
    assert [c.value for c in data[1]][:5] == ["Name *", "Provider *", "Level *", "Instrument *", "Budget (EUR) *"]
    assert data.freeze_panes == "A2"
    assert data.column_dimensions["E"].number_format == "#,##0"  # budget: thousands separated
    assert data.column_dimensions["H"].number_format == "0"  # since: a year, no separator
    assert all(data.column_dimensions[c].width >= len(h) - 8 for c, h in zip("ABCDEFGH", [x.value for x in data[1]]))
    assert {dv.formula1 for dv in data.data_validations.dataValidation if dv.type == "list"} == {
        '"municipal,regional,national,EU"',
        '"grant,loan,equity,guarantee,convertible loan"',
    }


def test_validate_command_accepts_a_filled_in_template(project, tmp_path):
    from wpflow.cli.app import app

    milestone, path = template_for(project, "seed_funding", tmp_path)
    wb = load_workbook(path)
    wb["Schemes"].append(["Riga Seed Fund", "Riga City Council", "municipal", "grant", 1200000, 5000, 50000, 2004])
    wb.save(path)
    done = CliRunner().invoke(
        app, ["validate", str(path), "--partner", "riga", "--milestone", milestone, "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert (result["valid"], result["kind"], result["rows"]) == (True, "seed_funding", 1)


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_human_headers_are_read_without_the_hidden_sheet(project, kind, tmp_path):
    """Rows copied with their headers into a CSV (no `_wpflow` sheet) still name their fields."""
    fields = list(KINDS[kind].model.model_fields.items())
    path = tmp_path / f"{kind}_riga.csv"
    lines = [";".join(header_text(name, info) for name, info in fields)]
    lines += [";".join(str(sample_value(name, info, 0)).replace(";", ",") for name, info in fields)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = validate_file(path, expected=[kind], kinds=KINDS)
    assert result.valid and result.rows_read == 1, [str(i) for i in result.issues]


def test_a_workbooks_metadata_is_read_once_while_the_file_stays_the_same(project, tmp_path, monkeypatch):
    """The gate (which partner) and kind detection (which kind) both ask; the workbook is opened
    once for both, and again only when the file changes."""
    import python_calamine

    opened: list[str] = []
    real = python_calamine.CalamineWorkbook

    class Counting:
        @staticmethod
        def from_path(path: str):
            opened.append(path)
            return real.from_path(path)

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Counting)
    _, path = template_for(project, "seed_funding", tmp_path)
    assert read_metadata(path, ".xlsx")["partner"] == read_metadata(path, ".xlsx")["partner"] == "riga"
    assert len(opened) == 1

    wb = load_workbook(path)  # the same template, filled in by its neighbour's name
    sheet = wb[METADATA_SHEET]
    next(row for row in sheet.iter_rows() if row[0].value == "partner")[1].value = "tallinn"
    wb.save(path)
    assert read_metadata(path, ".xlsx")["partner"] == "tallinn"
    assert len(opened) == 2
