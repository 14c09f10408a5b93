"""From a secretariat's spreadsheets to a report, for an input kind no code knows: NordHydro's
work plan declares "pilot sites" on its Kinds sheet; `init` makes the project (its inbox where
WPFLOW_INBOXES says), the kind's Excel template has its dropdown, a filled copy with one bad
cell is located by row and column, and WP2-M1's report holds the kind's table and totals."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.init.nordhydro import KIEL_ROW, KINDS, MILESTONES, PARTNERS, PROJECT, edited
from tests.init.sheets import init_args, write_xlsx
from wpflow.cli.app import app
from wpflow.inputs.partner_templates import write_templates
from wpflow.inputs.validate import validate_file
from wpflow.project.load import load_project

MILESTONE = "WP2-M1"
COUNTRIES = "Denmark,Germany,Sweden,Norway,Finland"


def fill(template: Path, out: Path, sheet: str, rows: list[list[object]]) -> Path:
    workbook = load_workbook(template)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            workbook[sheet].cell(row=r, column=c, value=value)
    workbook.save(out)
    return out


def test_a_kind_from_the_kinds_sheet_is_templated_validated_and_reported(tmp_path: Path) -> None:
    partners = write_xlsx(tmp_path / "partners.xlsx", {"Partners": edited(PARTNERS, KIEL_ROW, 5, "kiel@nordhydro.eu")})
    workplan = write_xlsx(tmp_path / "workplan.xlsx", {"Project": PROJECT, "Milestones": MILESTONES, "Kinds": KINDS})
    folder, share = tmp_path / "nordhydro", tmp_path / "share"
    env = {"WPFLOW_OUTPUTS": str(tmp_path / "outputs"), "WPFLOW_INBOXES": str(share), "PREFECT_API_URL": None}
    cli = CliRunner()
    made = cli.invoke(app, init_args(folder, partners, workplan, "--no-input"), env={**env, "COLUMNS": "200"})
    assert made.exit_code == 0, made.output
    assert f"an inbox folder per partner in {share / 'nordhydro'}" in made.stdout
    checked = cli.invoke(app, ["project", "check", "--project", str(folder), "--strict"], env=env)
    assert checked.exit_code == 0, checked.output

    project = load_project(folder)
    kind = project.input_kind("pilot_sites")
    assert kind.columns() == ["site_name", "country", "capacity", "year_opened"]
    deliverers = project.deliverers(project.milestone(MILESTONE).inputs[0])
    kiel = next(p for p in deliverers if p.city == "Kiel")
    [template] = write_templates(project, MILESTONE, kiel.id, tmp_path / "templates")
    sheet = load_workbook(template)[kind.sheet]
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert any(v.formula1 == f'"{COUNTRIES}"' and "B" in str(v.sqref) for v in lists)

    bad = fill(template, tmp_path / "pilot_sites_kiel.xlsx", kind.sheet, [["Kiel Fjord", "Germany", 250, 2012]])
    [error] = validate_file(bad, kinds=project.input_kinds, expected=["pilot_sites"]).errors
    assert (error.file, error.sheet, error.row, error.column, error.field) == (
        bad.name,
        kind.sheet,
        2,
        "D",
        "year_opened",
    )
    assert error.message == "must be at most 2010"  # the project's own last year

    due = project.milestone(MILESTONE).due
    arrived = (datetime(due.year, due.month, due.day, 12) - timedelta(days=3)).timestamp()
    for n, partner in enumerate(deliverers):
        target = share / "nordhydro" / partner.id / MILESTONE
        assert target.parent.is_dir()  # made by init, where the runs read
        target.mkdir()
        [own] = write_templates(project, MILESTONE, partner.id, tmp_path / "templates" / partner.id)
        good = fill(
            own,
            target / f"pilot_sites_{partner.id}.xlsx",
            kind.sheet,
            [[f"{partner.city} site", "Germany", 100 + n, 2009]],
        )
        os.utime(good, (arrived, arrived))
    run = cli.invoke(
        app,
        ["run", MILESTONE, "--direct", "--as-of", str(due + timedelta(days=1))],
        env={**env, "WPFLOW_PROJECT": str(folder)},
    )
    assert run.exit_code == 0, run.output
    report = tmp_path / "outputs" / "reports" / "nordhydro" / f"{MILESTONE}.docx"
    rows = [[c.text for c in row.cells] for t in Document(str(report)).tables for row in t.rows]
    total = sum(100 + n for n in range(len(deliverers)))
    header = next(r for r in rows if r and r[0] == "City" and "Capacity (kW)" in r)
    totals = next(r for r in rows if r and r[0] == "Total" and len(r) == len(header))
    assert totals[header.index("Capacity (kW)")] == str(total), rows
    assert any(r[0] == "Kiel" and r[header.index("Capacity (kW)")] == str(100 + deliverers.index(kiel)) for r in rows)
