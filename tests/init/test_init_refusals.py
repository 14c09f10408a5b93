"""What `wpflow init` refuses, each refusal naming the file, sheet, row and column to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.init.sheets import (
    FACTS,
    MILESTONES,
    PARTNERS,
    edited,
    init_args,
    wpflow,
    write_csv,
    write_xlsx,
)
from wpflow.project.load import load_project


def refusal(name: str, words: str, *, partners=PARTNERS, milestones=MILESTONES, facts=FACTS, more=(), code=1):
    """A case of `test_init_refuses_bad_input`: the spreadsheets as given but for what is named,
    the exit code, and the error's words."""
    return pytest.param(partners, milestones, facts, list(more), code, words, id=name)


# (id, the error's words; what differs from the good spreadsheets, the exit code when not 1)
REFUSALS = [
    refusal(
        "missing e-mail",
        "partners.csv, row 3, column F (e_mail): e-mail of Berlin is missing",
        partners=edited(PARTNERS, 2, 5, ""),
    ),
    refusal(
        "missing time zone",
        "plan.xlsx, sheet Project: the time zone of the daily deadline run is missing: give --timezone or a 'timezone' row",
        facts=FACTS[:-1],
    ),
    refusal(
        "missing milestone title",
        "plan.xlsx, sheet Milestones, row 2, column E (title): title of WP1-M1 is missing",
        milestones=edited(MILESTONES, 1, 4, ""),
    ),
    refusal(
        "bad e-mail",
        "partners.csv, row 3, column F (e_mail): 'berlin(at)example.org' is not an e-mail address",
        partners=edited(PARTNERS, 2, 5, "berlin(at)example.org"),
    ),
    refusal(
        "unknown role",
        "partners.csv, row 4, column E (role): 'guest' is not a role; expected lead, partner or observer",
        partners=edited(PARTNERS, 3, 4, "guest"),
    ),
    refusal(
        "unknown column",
        "partners.csv, row 1, column F (e_mial): unknown column",
        partners=edited(PARTNERS, 0, 5, "e-mial"),
    ),
    refusal(
        "duplicate id",
        "partners.csv, row 4, column A (name): id 'berlin' is also row 3's",
        partners=edited(PARTNERS, 3, 0, "Berlin"),
    ),
    refusal(
        "no lead",
        "partners.csv, column E (role): no partner has the role lead",
        partners=edited(PARTNERS, 1, 4, "partner"),
    ),
    refusal(
        "two leads",
        "partners.csv, row 3, column E (role): a second lead (berlin; row 2 is the lead)",
        partners=edited(PARTNERS, 2, 4, "lead"),
    ),
    refusal(
        "bad date",
        "plan.xlsx, sheet Milestones, row 2, column F (start): '2006-13-01' is not a date",
        milestones=edited(MILESTONES, 1, 5, "2006-13-01"),
    ),
    refusal(
        "end before start",
        "plan.xlsx, sheet Milestones, row 2, column G (end): WP1-M1 ends on 2006-06-30, before it starts on 2006-07-01",
        milestones=edited(MILESTONES, 1, 6, "2006-06-30"),
    ),
    refusal(
        "unknown input kind",
        "plan.xlsx, sheet Milestones, row 2, column I (inputs): unknown input kind 'progress report'; known: ",
        milestones=edited(MILESTONES, 1, 8, "progress report"),
    ),
    refusal(
        "unknown meeting city",
        "plan.xlsx, sheet Milestones, row 3, column J (meetings): meeting city 'Oslo' is not a partner's city",
        milestones=edited(MILESTONES, 2, 9, "Oslo 2007-03: Workshop"),
    ),
    refusal(
        "unknown coordinator",
        "plan.xlsx, sheet Milestones, row 2, column C (coordinator): 'Riga' is not a partner; known: tampere, berlin",
        milestones=edited(MILESTONES, 1, 2, "Riga"),
    ),
    refusal(
        "WP title changes",
        "plan.xlsx, sheet Milestones, row 3, column B (wp_title): 'Other title' differs from the WP's title 'Management' on row 2",
        milestones=edited(MILESTONES, 2, 1, "Other title"),
    ),
    refusal(
        "duplicate milestone",
        "plan.xlsx, sheet Milestones, row 3, column D (milestone): WP1-M1 is also row 2",
        milestones=edited(MILESTONES, 2, 3, "M1"),
    ),
    refusal(
        "unknown project field",
        "plan.xlsx, sheet Project, row 6, column A (field): unknown field 'Budget'",
        facts=[*FACTS, ["Budget", "1 mio"]],
    ),
    refusal(
        "bad time zone option",
        "--timezone: 'Mars/Olympus' is not a time zone like Europe/Helsinki",
        more=["--timezone", "Mars/Olympus"],
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
