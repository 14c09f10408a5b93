"""`wpflow init` through the real app (CliRunner): the bundled SpB InnoReg is what its source
spreadsheets make, what init writes passes `project check`, the terminal is asked for what is
missing, and every refusal names the file, sheet, row and column to fix."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.init.sheets import (
    FACTS,
    MILESTONES,
    PARTNERS,
    SOURCE,
    SPB,
    edited,
    init_args,
    wpflow,
    write_csv,
    write_xlsx,
)
from wpflow.project.load import load_project


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
