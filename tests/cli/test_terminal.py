"""The terminal: status, project show and project check fit 80 columns, and long runs show
their progress (one plain line per milestone when the output is not a terminal)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT

WIDTH = 80


@pytest.fixture(scope="module")
def filled_outputs(tmp_path_factory):
    """A store filled by running three bundled milestones directly, as of the project's end."""
    from datetime import date

    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import workspace

    outputs = tmp_path_factory.mktemp("terminal") / "outputs"
    ws = workspace(settings=Settings(project=BUNDLED_PROJECT, outputs=outputs, _env_file=None))
    for milestone in ("WP3-M1", "WP4-M1", "WP4-M3"):
        run_direct(ws, milestone, date(2008, 1, 31))
    return outputs


def run_cli(args: list[str], outputs=None) -> str:
    from wpflow.cli.app import app

    env = {"COLUMNS": str(WIDTH), **({"WPFLOW_OUTPUTS": str(outputs)} if outputs else {})}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def too_long(output: str) -> list[str]:
    return [line for line in output.splitlines() if len(line) > WIDTH]


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--as-of", "2008-01-31"],
        ["status", "--as-of", "2006-07-15", "--all"],
        ["project", "show"],
        ["project", "check"],
    ],
)
def test_listings_fit_80_columns(filled_outputs, args):
    output = run_cli(args, filled_outputs)
    assert output.strip() and not too_long(output), too_long(output)


def test_status_is_a_matrix_of_symbols_with_a_legend(filled_outputs, project):
    output = run_cli(["status", "--as-of", "2008-01-31"], filled_outputs)
    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("milestone"))
    assert header.split()[2:10] == ["Hel", "Ber", "Cop", "Mal", "Rig", "Sto", "StP", "Tal"]  # partners only
    wp4m3 = next(line for line in lines if line.startswith("WP4-M3"))
    assert wp4m3.split()[1] == "2006-06-30" and set(wp4m3.split()[2:10]) <= {"✓", "L", "✗", "!"}
    assert "✗" in wp4m3.split()[2:10]  # St. Petersburg never delivered
    assert "✓ on time" in output and "✗ missing" in output and "StP St. Petersburg" in output
    assert "Oslo" in output and "--all" in output  # the observers are one option away
    with_observers = run_cli(["status", "--as-of", "2008-01-31", "--all"], filled_outputs)
    assert next(line for line in with_observers.splitlines() if line.startswith("milestone")).split()[-3:] == [
        "Osl",
        "War",
        "Vil",
    ]


def test_status_wide_keeps_every_status_in_words(filled_outputs):
    output = run_cli(["status", "--as-of", "2008-01-31", "--wide"], filled_outputs)
    assert "on time" in output and "missing" in output and "St. Petersburg" in output and "Oslo" not in output


def test_project_check_gives_each_finding_a_block(filled_outputs):
    output = run_cli(["project", "check"], filled_outputs)
    blocks = [b for b in output.split("\n\n") if b.startswith(("warning", "info"))]
    assert len(blocks) >= 20
    assert all(line.startswith("    ") for block in blocks for line in block.splitlines()[1:])


def test_run_prints_a_line_per_milestone_when_not_on_a_terminal(tmp_path):
    output = run_cli(["run", "WP4-M3", "--direct", "--as-of", "2006-07-31"], tmp_path / "outputs")
    assert "running 1 milestone…" in output and "[1/1] WP4-M3 incomplete" in output


def test_simulate_fits_80_columns_and_says_what_it_validates():
    output = run_cli(["simulate", "--from", "2006-06-01", "--to", "2006-07-31"])
    assert "validating the inbox" in output and "WP4-M3" in output and "escalation" in output
    assert not too_long(output), too_long(output)


def test_project_show_says_when_reports_go_out_and_to_whom():
    output = run_cli(["project", "show"])
    assert "Reports\n- go out at the due date with whatever has arrived (marked incomplete), or" in output
    assert "observers do not" in output and "the lead partner gets its own copy" in output


def test_a_bad_as_of_is_invalid_input_with_one_line():
    from wpflow.cli.app import app

    result = CliRunner().invoke(app, ["status", "--as-of", "2006-13-45"], env={"COLUMNS": "80"})
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: --as-of '2006-13-45' is not a date as YYYY-MM-DD"


@pytest.mark.parametrize(
    ("names", "shown", "more", "line"),
    [
        (["WP1-M1"], 4, " and {} more", "WP1-M1"),
        (["a", "b", "c", "d"], 4, " and {} more", "a, b, c, d"),
        (["a", "b", "c", "d", "e", "f"], 4, " and {} more", "a, b, c, d and 2 more"),
        (["riga", "malmo", "oslo", "berlin"], 3, " +{}", "riga, malmo, oslo +1"),  # a run name in the UI
    ],
)
def test_a_list_of_names_is_cut_to_one_line_saying_how_many_were_left_out(names, shown, more, line) -> None:
    from wpflow.file_names import first_few

    assert first_few(names, shown, more) == line
