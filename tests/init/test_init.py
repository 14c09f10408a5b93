"""`wpflow init` through the real app (CliRunner): the bundled SpB InnoReg is what its source
spreadsheets make, what init writes passes `project check`, the terminal is asked for what is
missing, and every refusal names the file, sheet, row and column to fix."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook
from typer.testing import CliRunner, Result

from tests.conftest import ROOT
from wpflow.cli.app import app
from wpflow.project.load import load_project

SPB = ROOT / "projects" / "spb-innoreg"
SOURCE = SPB / "source"

PARTNERS = [
    ["name", "city", "country", "organisation", "role", "e-mail"],
    ["Tampere", "Tampere", "Finland", "City of Tampere", "lead", "tampere@example.org"],
    ["Berlin", "Berlin", "Germany", "TSB Innovationsagentur Berlin", "partner", "berlin@example.org"],
    ["St. Petersburg", "St. Petersburg", "Russia", "City of St. Petersburg", "partner", "spb@example.org"],
]
MILESTONES = [
    ["WP", "WP title", "Coordinator", "Milestone", "Title", "Start", "End", "Due", "Inputs", "Meetings"],
    [
        "WP1",
        "Management",
        "Tampere",
        "M1",
        "Kick-off",
        "2006-07-01",
        "2006-12-31",
        "2006-12-31",
        "progress_narrative",
        "",
    ],
    [
        "",
        "",
        "",
        "M2",
        "Clusters",
        "2007-01-01",
        "2007-06-30",
        "30.06.2007",
        "Pre-phase clusters",
        "Berlin 3/2007: Workshop",
    ],
]
FACTS = [
    ["Field", "Value"],
    ["Name", "Test Project"],
    ["Programme", "Interreg IIIB"],
    ["Secretariat e-mail", "secretariat@example.org"],
    ["Time zone", "Europe/Berlin"],
]


def wpflow(args: list[str], tmp: Path, answers: str | None = None) -> Result:
    env = {"WPFLOW_OUTPUTS": str(tmp / "outputs"), "PREFECT_API_URL": None, "COLUMNS": "200"}
    return CliRunner().invoke(app, args, env=env, input=answers)


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([as_cell(v) for v in row])
    workbook.save(path)
    return path


def as_cell(value: Any) -> Any:
    """An ISO date as a workbook's date cell, as a secretariat's sheet holds it; anything else as written."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else value
    except ValueError:
        return value


def edited(rows: list[list[Any]], row: int, column: int, value: Any) -> list[list[Any]]:
    out = [r[:] for r in rows]
    out[row][column] = value
    return out


def init_args(directory: Path, partners: Path, workplan: Path, *more: str) -> list[str]:
    return ["init", str(directory), "--partners", str(partners), "--workplan", str(workplan), *more]


# -- the bundled example ----------------------------------------------------------------------
def test_spb_innoreg_is_what_its_source_spreadsheets_make(tmp_path: Path) -> None:
    """The committed project.yaml is regenerated from source/ unchanged: edit the spreadsheets
    and rerun the command in source/README.md, never the YAML alone."""
    made = tmp_path / "spb"
    args = init_args(made, SOURCE / "partners.csv", SOURCE / "workplan.xlsx", "--no-input", "-f", "json")
    result = wpflow(args, tmp_path)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["participants"], summary["work_packages"], summary["milestones"]) == (7, 3, 6)
    assert (made / "project.yaml").read_text(encoding="utf-8") == (SPB / "project.yaml").read_text(encoding="utf-8")
    assert {p.name for p in (made / "inbox").iterdir()} == {p.name for p in (SPB / "inbox").iterdir()}


def test_spb_innoreg_is_annex_i_with_an_assumed_work_plan() -> None:
    project = load_project(SPB)
    assert (project.name, project.lead, project.end) == ("SpB InnoReg", "tampere", date(2008, 12, 31))
    cities = [p.city for p in project.participants]
    assert cities == ["Tampere", "Berlin", "Helsinki", "Lappeenranta", "Seinäjoki", "St. Petersburg", "Warnemünde"]
    assert all(m.assumed and m.note for m in project.milestones())
    assert all(wp.coordinator_assumed for wp in project.work_packages)
    assert project.deadlines.timezone == "Europe/Helsinki"


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["project", "show", "-f", "json"], lambda d: d["name"] == "SpB InnoReg" and len(d["participants"]) == 7),
        (["project", "check", "--strict", "-f", "json"], lambda d: {f["severity"] for f in d} == {"info"}),
        (
            ["status", "--as-of", "2007-07-15", "-f", "json"],
            lambda d: {r["milestone"]: r["partners"]["warnemunde"] for r in d["milestones"]}["WP2-M1"] == "missing",
        ),
    ],
    ids=["project show", "project check", "status"],
)
def test_existing_commands_take_the_second_project(args: list[str], check: Any, tmp_path: Path) -> None:
    result = wpflow([*args, "--project", str(SPB)], tmp_path)
    assert result.exit_code == 0, result.output
    assert check(json.loads(result.stdout))


# -- a new consortium ---------------------------------------------------------------------------
@pytest.mark.parametrize("workplan_format", ["xlsx", "csv"])
def test_written_project_passes_check(workplan_format: str, tmp_path: Path) -> None:
    partners = write_csv(tmp_path / "partners.csv", PARTNERS)
    if workplan_format == "xlsx":
        workplan = write_xlsx(tmp_path / "plan.xlsx", {"Project": FACTS, "Milestones": MILESTONES})
        more: list[str] = []
    else:
        workplan = write_csv(tmp_path / "plan.csv", MILESTONES)
        more = [
            "--name",
            "Test Project",
            "--programme",
            "Interreg IIIB",
            "--secretariat-email",
            "secretariat@example.org",
        ]
        more += ["--timezone", "Europe/Berlin"]
    made = tmp_path / "new"
    result = wpflow(init_args(made, partners, workplan, "--no-input", *more), tmp_path)
    assert result.exit_code == 0, result.output
    assert "3 participants, 1 work packages, 2 milestones" in result.output
    check = wpflow(["project", "check", "--strict", "--project", str(made)], tmp_path)
    assert check.exit_code == 0, check.output
    data = yaml.safe_load((made / "project.yaml").read_text(encoding="utf-8"))
    assert (data["name"], data["lead"], data["start"], data["end"]) == (
        "Test Project",
        "tampere",
        date(2006, 7, 1),
        date(2007, 6, 30),
    )
    assert data["deadlines"]["timezone"] == "Europe/Berlin"
    [wp] = data["work_packages"]
    assert (wp["id"], wp["coordinator"]) == ("WP1", "tampere")
    m2 = wp["milestones"][1]
    assert (m2["id"], m2["due"], m2["inputs"]) == ("WP1-M2", date(2007, 6, 30), [{"kind": "pre_phase_clusters"}])
    assert m2["meetings"] == [{"city": "Berlin", "month": "2007-03", "topic": "Workshop"}]
    assert [p["id"] for p in data["participants"]] == ["tampere", "berlin", "st-petersburg"]
    assert sorted(p.name for p in (made / "inbox").iterdir()) == ["berlin", "st-petersburg", "tampere"]


def test_init_asks_for_what_is_missing(tmp_path: Path) -> None:
    """A partner without an address and a CSV work plan without the project's facts: each is
    asked for; a wrong answer is said and asked again; Enter takes the offered default."""
    rows = [row[:] for row in PARTNERS]
    rows[2][5] = ""  # Berlin's e-mail
    partners = write_csv(tmp_path / "partners.csv", rows)
    workplan = write_csv(tmp_path / "plan.csv", MILESTONES)
    answers = "\n".join(
        [
            "berlin(at)example.org",  # Berlin's e-mail, refused
            "berlin@example.org",
            "Test Project",  # name
            "",  # title: the name
            "Interreg IIIB",  # programme
            "secretariat@example.org",
            "",  # time zone: Europe/Helsinki
        ]
    )
    made = tmp_path / "new"
    result = wpflow(init_args(made, partners, workplan), tmp_path, answers + "\n")
    assert result.exit_code == 0, result.output
    assert "E-mail of Berlin (partners.csv, row 3, column F (e_mail))" in result.output
    assert "Error: 'berlin(at)example.org' is not an e-mail address" in result.output
    assert "The time zone of the daily deadline run [Europe/Helsinki]" in result.output
    project = load_project(made)
    assert project.participant("berlin").emails == ["berlin@example.org"]
    assert (project.name, project.title, project.programme.name) == ("Test Project", "Test Project", "Interreg IIIB")
    assert (project.secretariat_email, project.deadlines.timezone) == ("secretariat@example.org", "Europe/Helsinki")


def test_init_asks_for_a_missing_milestone_date(tmp_path: Path) -> None:
    rows = [row[:] for row in MILESTONES]
    rows[1][7] = ""  # WP1-M1's due date: Enter takes the end of its period
    partners = write_csv(tmp_path / "partners.csv", PARTNERS)
    workplan = write_xlsx(tmp_path / "plan.xlsx", {"Project": FACTS, "Milestones": rows})
    result = wpflow(init_args(tmp_path / "new", partners, workplan), tmp_path, "\n\n")  # the title, the due date
    assert "The project's full title [Test Project]" in result.output
    assert result.exit_code == 0, result.output
    assert "Due date of WP1-M1 (plan.xlsx, sheet Milestones, row 2, column H (due)) [2006-12-31]" in result.output
    assert load_project(tmp_path / "new").milestone("WP1-M1").due == date(2006, 12, 31)


@pytest.mark.parametrize(
    ("inputs", "meetings", "expected_inputs", "expected_meetings"),
    [
        ("seed_funding", "", [{"kind": "seed_funding"}], []),
        (
            "Meeting and workshop reports from Berlin, st-petersburg: the workshop's report",
            "? 2007-02: Steering group",
            [{"kind": "meeting_report", "from": ["berlin", "st-petersburg"], "note": "the workshop's report"}],
            [{"city": None, "month": "2007-02", "topic": "Steering group"}],
        ),
        (
            "progress_narrative from all cities\ncluster_swot: SWOT of each cluster",
            "st. petersburg 1/2007: Kick-off; Berlin 2007-6: Workshop",
            [
                {"kind": "progress_narrative", "from": "all-cities"},
                {"kind": "cluster_swot", "note": "SWOT of each cluster"},
            ],
            [
                {"city": "St. Petersburg", "month": "2007-01", "topic": "Kick-off"},
                {"city": "Berlin", "month": "2007-06", "topic": "Workshop"},
            ],
        ),
    ],
    ids=["a kind", "a label from partners, a meeting without a city", "two per cell"],
)
def test_inputs_and_meetings_as_written_in_a_cell(
    inputs: str, meetings: str, expected_inputs: list[Any], expected_meetings: list[Any], tmp_path: Path
) -> None:
    rows = edited(edited(MILESTONES, 2, 8, inputs), 2, 9, meetings)
    partners = write_csv(tmp_path / "partners.csv", PARTNERS)
    workplan = write_xlsx(tmp_path / "plan.xlsx", {"Project": FACTS, "Milestones": rows})
    result = wpflow(init_args(tmp_path / "new", partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == 0, result.output
    m2 = yaml.safe_load((tmp_path / "new" / "project.yaml").read_text(encoding="utf-8"))["work_packages"][0][
        "milestones"
    ][1]
    assert (m2["inputs"], m2.get("meetings", [])) == (expected_inputs, expected_meetings)


# -- refusals ---------------------------------------------------------------------------------------
# (partner rows, milestone rows, project sheet rows, extra args, exit code, the error's words)
REFUSALS = [
    pytest.param(
        edited(PARTNERS, 2, 5, ""),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, row 3, column F (e_mail): e-mail of Berlin is missing",
        id="missing e-mail",
    ),
    pytest.param(
        PARTNERS,
        MILESTONES,
        FACTS[:-1],
        [],
        1,
        "plan.xlsx, sheet Project: the time zone of the daily deadline run is missing: give --timezone or a 'timezone' row",
        id="missing time zone",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 1, 4, ""),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 2, column E (title): title of WP1-M1 is missing",
        id="missing milestone title",
    ),
    pytest.param(
        edited(PARTNERS, 2, 5, "berlin(at)example.org"),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, row 3, column F (e_mail): 'berlin(at)example.org' is not an e-mail address",
        id="bad e-mail",
    ),
    pytest.param(
        edited(PARTNERS, 3, 4, "guest"),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, row 4, column E (role): 'guest' is not a role; expected lead, partner or observer",
        id="unknown role",
    ),
    pytest.param(
        edited(PARTNERS, 0, 5, "e-mial"),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, row 1, column F (e_mial): unknown column",
        id="unknown column",
    ),
    pytest.param(
        edited(PARTNERS, 3, 0, "Berlin"),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, row 4, column A (name): id 'berlin' is also row 3's",
        id="duplicate id",
    ),
    pytest.param(
        edited(PARTNERS, 1, 4, "partner"),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, column E (role): no partner has the role lead",
        id="no lead",
    ),
    pytest.param(
        edited(PARTNERS, 2, 4, "lead"),
        MILESTONES,
        FACTS,
        [],
        1,
        "partners.csv, row 3, column E (role): a second lead (berlin; row 2 is the lead)",
        id="two leads",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 1, 5, "2006-13-01"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 2, column F (start): '2006-13-01' is not a date",
        id="bad date",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 1, 6, "2006-06-30"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 2, column G (end): WP1-M1 ends on 2006-06-30, before it starts on 2006-07-01",
        id="end before start",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 1, 8, "progress report"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 2, column I (inputs): unknown input kind 'progress report'; known: ",
        id="unknown input kind",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 2, 9, "Oslo 2007-03: Workshop"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 3, column J (meetings): meeting city 'Oslo' is not a partner's city",
        id="unknown meeting city",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 1, 2, "Riga"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 2, column C (coordinator): 'Riga' is not a partner; known: tampere, berlin",
        id="unknown coordinator",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 2, 1, "Other title"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 3, column B (wp_title): 'Other title' differs from the WP's title 'Management' on row 2",
        id="WP title changes",
    ),
    pytest.param(
        PARTNERS,
        edited(MILESTONES, 2, 3, "M1"),
        FACTS,
        [],
        1,
        "plan.xlsx, sheet Milestones, row 3, column D (milestone): WP1-M1 is also row 2",
        id="duplicate milestone",
    ),
    pytest.param(
        PARTNERS,
        MILESTONES,
        [*FACTS, ["Budget", "1 mio"]],
        [],
        1,
        "plan.xlsx, sheet Project, row 6, column A (field): unknown field 'Budget'",
        id="unknown project field",
    ),
    pytest.param(
        PARTNERS,
        MILESTONES,
        FACTS,
        ["--timezone", "Mars/Olympus"],
        1,
        "--timezone: 'Mars/Olympus' is not a time zone like Europe/Helsinki",
        id="bad time zone option",
    ),
]


@pytest.mark.parametrize(("partner_rows", "milestone_rows", "facts", "more", "code", "words"), REFUSALS)
def test_init_refuses_bad_input(
    partner_rows: list[list[Any]],
    milestone_rows: list[list[Any]],
    facts: list[list[Any]],
    more: list[str],
    code: int,
    words: str,
    tmp_path: Path,
) -> None:
    partners = write_csv(tmp_path / "partners.csv", partner_rows)
    workplan = write_xlsx(tmp_path / "plan.xlsx", {"Project": facts, "Milestones": milestone_rows})
    result = wpflow(init_args(tmp_path / "new", partners, workplan, "--no-input", *more), tmp_path)
    assert result.exit_code == code, result.output
    assert f"error: {words}" in result.output
    assert not (tmp_path / "new").exists()  # nothing half-made


def test_init_reports_every_problem_in_one_pass(tmp_path: Path) -> None:
    rows = edited(edited(MILESTONES, 1, 5, "soon"), 2, 8, "budget")
    partners = write_csv(tmp_path / "partners.csv", PARTNERS)
    workplan = write_xlsx(tmp_path / "plan.xlsx", {"Project": FACTS[:-1], "Milestones": rows})
    result = wpflow(init_args(tmp_path / "new", partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, errors
    assert any("row 2, column F (start)" in e for e in errors) and any("row 3, column I (inputs)" in e for e in errors)


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("existing project", 1, "project.yaml: exists; give --force to replace it"),
        ("missing file", 2, "cannot read"),
        ("not a spreadsheet", 2, "partners.pdf: files of type .pdf are not read; give XLSX or CSV"),
        ("damaged workbook", 2, "plan.xlsx is damaged or not a spreadsheet"),
    ],
)
def test_init_refuses_what_it_cannot_use(case: str, code: int, words: str, tmp_path: Path) -> None:
    partners = write_csv(tmp_path / "partners.csv", PARTNERS)
    workplan = write_xlsx(tmp_path / "plan.xlsx", {"Project": FACTS, "Milestones": MILESTONES})
    made = tmp_path / "new"
    if case == "existing project":
        made.mkdir()
        (made / "project.yaml").write_text("name: keep me\n", encoding="utf-8")
    elif case == "missing file":
        partners = tmp_path / "nowhere.csv"
    elif case == "not a spreadsheet":
        partners = partners.rename(tmp_path / "partners.pdf")
    else:
        workplan.write_bytes(b"PK\x03\x04 not really a workbook")
    result = wpflow(init_args(made, partners, workplan, "--no-input"), tmp_path)
    assert result.exit_code == code, result.output
    assert words in result.output
    if case == "existing project":
        assert (made / "project.yaml").read_text(encoding="utf-8") == "name: keep me\n"
        forced = wpflow(init_args(made, partners, workplan, "--no-input", "--force"), tmp_path)
        assert forced.exit_code == 0, forced.output
        assert load_project(made).name == "Test Project"
