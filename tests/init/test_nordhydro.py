"""A new consortium from the spreadsheets its secretariat has (NordHydro, `tests/init/nordhydro.py`):
one `init` run lists every problem of every sheet — Kiel's missing e-mail on the partner list,
a date typed month first on the work plan, a malformed sender on the Project sheet — each with
file, sheet, row and column; fixed, `init` writes a project (and its own input kind) that
`project check` passes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from tests.init.nordhydro import DUE_COLUMN, DUE_ROW, KIEL_ROW, KINDS, MILESTONES, PARTNERS, PROJECT, edited
from tests.init.sheets import init_args, wpflow, write_xlsx
from wpflow.project.load import load_project

SENDER_ROW = 6  # the Project sheet's 'Secretariat e-mail' row (row 7 of the sheet)


def spreadsheets(tmp_path: Path, partners=PARTNERS, milestones=MILESTONES, project=PROJECT) -> tuple[Path, Path]:
    return (
        write_xlsx(tmp_path / "partners.xlsx", {"Partners": partners}),
        write_xlsx(tmp_path / "workplan.xlsx", {"Project": project, "Milestones": milestones, "Kinds": KINDS}),
    )


def test_one_run_reports_every_problem_of_every_sheet(tmp_path: Path) -> None:
    partners, workplan = spreadsheets(
        tmp_path,
        milestones=edited(MILESTONES, 8, DUE_COLUMN, "12/20/2010"),  # WP3-M2's deadline, month first
        project=edited(PROJECT, SENDER_ROW, 1, "secretariat(at)nordhydro.eu"),
    )
    result = wpflow(init_args(tmp_path / "nordhydro", partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: partners.xlsx, sheet Partners, row 3, column F (email): e-mail of Kiel is missing",
        (
            "error: workplan.xlsx, sheet Project, row 7, column B (value): "
            "'secretariat(at)nordhydro.eu' is not an e-mail address"
        ),
        (
            "error: workplan.xlsx, sheet Milestones, row 9, column H (deadline): '12/20/2010' is not a date "
            "(month must be in 1..12); write it as 2009-06-30, 30.06.2009, 30/06/2009 (day first), "
            "30 June 2009 or June 30, 2009"
        ),
    ]
    assert not (tmp_path / "nordhydro").exists()  # nothing half-made


def test_with_the_email_added_init_succeeds_and_project_check_passes(tmp_path: Path) -> None:
    partners, workplan = spreadsheets(tmp_path, partners=edited(PARTNERS, KIEL_ROW, 5, "kiel@nordhydro.eu"))
    made = tmp_path / "nordhydro"
    result = wpflow([*init_args(made, partners, workplan, "--no-input"), "-f", "json"], tmp_path)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["participants"], summary["work_packages"], summary["milestones"]) == (6, 3, 8)
    assert summary["kinds"] == ["pilot_sites"]

    check = wpflow(["project", "check", "--strict", "--project", str(made)], tmp_path)
    assert check.exit_code == 0, check.output

    project = load_project(made)
    assert (project.name, project.lead, project.programme.period) == ("NordHydro", "aarhus", "2007-2013")
    assert (project.start, project.end) == (date(2008, 1, 1), date(2010, 12, 31))  # 'Project period: 2008–2010'
    assert len({p.country for p in project.participants}) == 5
    assert project.participant("kiel").emails == ["kiel@nordhydro.eu"]
    due = {m.id: m.due for m in project.milestones()}
    assert due["WP2-M1"] == date(2009, 6, 30)  # "30 June 2009"
    assert (due["WP1-M3"], due["WP2-M2"], due["WP2-M3"]) == (date(2010, 12, 31), date(2009, 12, 31), date(2010, 6, 30))
    assert [wp.coordinator for wp in project.work_packages] == ["aarhus", "kiel", "turku"]
    inputs = {m.id: [(i.kind, i.from_) for i in m.inputs] for m in project.milestones()}
    assert inputs["WP2-M1"] == [("pilot_sites", "partner-cities")]
    assert inputs["WP2-M2"] == [("pilot_sites", ["kiel", "bergen"])]
    assert inputs["WP3-M1"] == [("meeting_report", ["turku"])]


def test_the_kinds_sheet_becomes_the_projects_kinds_yaml(tmp_path: Path) -> None:
    partners, workplan = spreadsheets(tmp_path, partners=edited(PARTNERS, KIEL_ROW, 5, "kiel@nordhydro.eu"))
    made = tmp_path / "nordhydro"
    result = wpflow(init_args(made, partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == 0, result.output
    assert f"wrote {made / 'kinds.yaml'}: the work plan's own input kinds (pilot_sites)" in result.output
    [kind] = yaml.safe_load((made / "kinds.yaml").read_text(encoding="utf-8"))["kinds"]
    assert (kind["id"], kind["label"], kind["shape"], kind["sheet"]) == (
        "pilot_sites",
        "Pilot sites",
        "rows",
        "Pilot sites",
    )
    assert kind["fields"] == [
        {"name": "site_name", "type": "text", "required": True, "description": "Site name"},
        {
            "name": "country",
            "type": "choice",
            "required": True,
            "values": ["Denmark", "Germany", "Sweden", "Norway", "Finland"],
            "description": "Country",
        },
        {"name": "capacity", "type": "number", "required": True, "min": 0, "unit": "kW", "description": "Capacity"},
        {
            "name": "year_opened",
            "type": "integer",
            "required": False,
            "min": "period_start",
            "max": "period_end",
            "description": "Year opened",
        },
    ]
    assert kind["measures"] == [{"label": "Pilot sites"}, {"label": "Capacity (kW)", "sum": "capacity"}]
    assert kind["chart"] == "Capacity (kW)"


def test_a_kinds_sheet_problem_is_located_too(tmp_path: Path) -> None:
    kinds = edited(edited(KINDS, 2, 2, "choice"), 2, 4, "")  # a choice without values
    kinds = edited(kinds, 3, 2, "decimal number")  # not a type
    partners = write_xlsx(tmp_path / "partners.xlsx", {"Partners": edited(PARTNERS, KIEL_ROW, 5, "kiel@nordhydro.eu")})
    workplan = write_xlsx(tmp_path / "workplan.xlsx", {"Project": PROJECT, "Milestones": MILESTONES, "Kinds": kinds})
    result = wpflow(init_args(tmp_path / "nordhydro", partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == 1, result.output
    assert (
        "error: workplan.xlsx, sheet Kinds, row 3, column E (allowed_values): field 'country' is a choice: "
        "list its allowed values" in result.output
    )
    assert "error: workplan.xlsx, sheet Kinds, row 4, column C (type): 'decimal number' is not a type" in result.output


def test_the_due_date_as_typed_in_the_issue(tmp_path: Path) -> None:
    """'30 June 2009' was refused ('not a date as YYYY-MM-DD or DD.MM.YYYY')."""
    assert MILESTONES[DUE_ROW][DUE_COLUMN] == "30 June 2009"
    partners, workplan = spreadsheets(tmp_path, partners=edited(PARTNERS, KIEL_ROW, 5, "kiel@nordhydro.eu"))
    result = wpflow(init_args(tmp_path / "nordhydro", partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == 0, result.output
    assert load_project(tmp_path / "nordhydro").milestone("WP2-M1").due == date(2009, 6, 30)


def test_kinds_yaml_is_in_the_declared_kinds_format(tmp_path: Path) -> None:
    """The kinds format's own models read what init writes, and build the pilot sites' row
    model for the project's period."""
    from schemas import kinds

    partners, workplan = spreadsheets(tmp_path, partners=edited(PARTNERS, KIEL_ROW, 5, "kiel@nordhydro.eu"))
    made = tmp_path / "nordhydro"
    assert wpflow(init_args(made, partners, workplan, "--no-input"), tmp_path).exit_code == 0
    declared = kinds.KindsFile.model_validate(yaml.safe_load((made / "kinds.yaml").read_text(encoding="utf-8")))
    [kind] = [kinds.build_kind(decl, (date(2008, 1, 1), date(2010, 12, 31))) for decl in declared.kinds]
    assert (kind.id, kind.sheet, kind.chart) == ("pilot_sites", "Pilot sites", "Capacity (kW)")
    assert list(kind.model.model_fields) == ["site_name", "country", "capacity", "year_opened"]
