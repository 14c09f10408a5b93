"""Input kinds declared in a project's own kinds.yaml: a new kind ("pilot sites") gets its Excel
template with a dropdown, its validation located by file, sheet, row and column, and its table
and totals in the milestone's report, with no Python written for it."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT
from wpflow.inputs.partner_templates import write_templates
from wpflow.inputs.validate import validate_file
from wpflow.project.load import load_project

MILESTONE = "WP4-M3"
AS_OF = "2006-07-31"
COUNTRIES = ["Denmark", "Estonia", "Finland", "Germany", "Latvia", "Lithuania", "Norway", "Poland", "Russia", "Sweden"]
PILOT_SITES = f"""\
kinds:
  - id: pilot_sites
    label: Pilot sites
    description: Pilot sites of the partner city, with their capacity.
    item: A pilot site run by the partner city.
    sheet: Sites
    fields:
      - {{name: site, type: text, required: true, min_length: 2, description: Name of the pilot site}}
      - name: country
        type: choice
        required: true
        values: [{", ".join(COUNTRIES)}]
        description: Country the site is in
      - {{name: capacity_kw, type: number, required: true, min: 0, unit: kW, description: Installed capacity}}
      - name: opened
        type: integer
        required: true
        min: period_start
        max: period_end
        unit: year
        description: Year the site opened
    measures:
      - label: Sites
      - {{label: Capacity (kW), sum: capacity_kw}}
    chart: Capacity (kW)
"""


def pilot_project(tmp_path: Path) -> Path:
    """BaltMet Inno's definition with WP4-M3 asking every partner city for pilot sites, a kind
    declared in the project's own kinds.yaml."""
    folder = tmp_path / "pilot-inno"
    (folder / "inbox").mkdir(parents=True)
    data = yaml.safe_load((BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8"))
    data["name"] = "Pilot Inno"
    for wp in data["work_packages"]:
        for m in wp["milestones"]:
            if m["id"] == MILESTONE:
                m["inputs"] = [{"kind": "pilot_sites", "from": "partner-cities"}]
    (folder / "project.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (folder / "kinds.yaml").write_text(PILOT_SITES, encoding="utf-8")
    return folder


def fill(template: Path, out: Path, rows: list[list[object]]) -> Path:
    """The partner's copy: the template with rows typed under its header."""
    workbook = load_workbook(template)
    sheet = workbook["Sites"]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    workbook.save(out)
    return out


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_a_kind_declared_in_the_project_folder_is_templated_validated_and_reported(tmp_path):
    folder = pilot_project(tmp_path)
    project = load_project(folder)
    kind = project.input_kind("pilot_sites")
    assert kind.columns() == ["site", "country", "capacity_kw", "opened"]
    partners = project.deliverers(project.milestone(MILESTONE).inputs[0])
    riga = next(p for p in partners if p.city == "Riga")

    [template] = write_templates(project, MILESTONE, riga.id, tmp_path / "templates")
    sheet = load_workbook(template)["Sites"]
    assert [c.value for c in sheet[1]][:4] == ["Site *", "Country *", "Capacity (kW) *", "Opened (year) *"]
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert any(v.formula1 == '"' + ",".join(COUNTRIES) + '"' and "B" in str(v.sqref) for v in lists)

    bad = fill(
        template,
        tmp_path / "pilot_sites_riga.xlsx",
        [["Riga Solar", "Latvia", 120, 2006], ["Ķīpsala", "Latvia", 80, 2009]],
    )
    result = validate_file(bad, kinds=project.input_kinds, expected=["pilot_sites"])
    [error] = result.errors
    assert (error.file, error.sheet, error.row, error.column, error.field) == (bad.name, "Sites", 3, "D", "opened")
    assert error.message == "must be at most 2007"  # the project's last year

    due = project.milestone(MILESTONE).due
    arrived = datetime(due.year, due.month, due.day, 12).timestamp() - timedelta(days=3).total_seconds()
    for n, partner in enumerate(partners):
        target = folder / "inbox" / partner.id / MILESTONE
        target.mkdir(parents=True)
        [own] = write_templates(project, MILESTONE, partner.id, tmp_path / "templates" / partner.id)
        good = fill(own, target / f"pilot_sites_{partner.id}.xlsx", [[f"{partner.city} site", "Latvia", 100 + n, 2006]])
        os.utime(good, (arrived, arrived))
    env = {"WPFLOW_PROJECT": str(folder), "WPFLOW_OUTPUTS": str(tmp_path / "outputs"), "PREFECT_API_URL": None}
    from wpflow.cli.app import app

    run = CliRunner().invoke(app, ["run", MILESTONE, "--direct", "--as-of", AS_OF], env=env)
    assert run.exit_code == 0, run.output
    [report] = (tmp_path / "outputs" / "reports" / "pilot-inno").glob(f"{MILESTONE}.docx")
    text = docx_text(report)
    total = sum(100 + n for n in range(len(partners)))
    assert "Figure 1: Capacity (kW) per city." in text and "Table 2: Pilot sites per city" in text
    assert f"Capacity: {total}\u00a0kW in total" in text  # a no-break space between number and unit
    rows = [[c.text for c in row.cells] for t in Document(str(report)).tables for row in t.rows]
    assert ["City", "Sites", "Capacity (kW)"] in rows
    assert ["Total", str(len(partners)), str(total)] in rows
    assert ["Riga", "1", str(100 + partners.index(riga))] in rows
    assert "Riga site" in text and "None: every required input was received." in text


def test_years_are_bounded_by_the_projects_own_period(tmp_path):
    """BaltMet Inno (2005–2007) refuses a seed-funding scheme started in 2008; the same kind in a
    project of 2008–2010 (NordHydro) accepts it."""
    folder = tmp_path / "nordhydro"
    folder.mkdir()
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    assert "\nstart: 2005-01-02\nend: 2007-12-31\n" in text
    (folder / "project.yaml").write_text(text.replace("\nend: 2007-12-31\n", "\nend: 2010-12-31\n"), encoding="utf-8")
    scheme = {"name": "Start 2008", "provider": "Kiel", "level": "regional", "instrument": "grant", "budget_eur": 1e5}
    baltmet = load_project(BUNDLED_PROJECT).input_kind("seed_funding").model
    nordhydro = load_project(folder).input_kind("seed_funding").model
    assert nordhydro.model_validate({**scheme, "since": 2008}).since == 2008
    refused = baltmet.model_fields["since"].metadata
    assert any(getattr(rule, "le", None) == 2007 for rule in refused)
    try:
        baltmet.model_validate({**scheme, "since": 2008})
    except ValueError as exc:
        assert "less than or equal to 2007" in str(exc)
    else:
        raise AssertionError("BaltMet Inno accepted a scheme of 2008")
