"""`wpflow validate` on the bundled sample files: exit codes and located issues."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT
from wpflow.cli.app import app

runner = CliRunner()
INBOX = BUNDLED_PROJECT / "inbox"


@pytest.mark.parametrize(
    "relative",
    [
        "helsinki/WP4-M3/seed_funding_helsinki.csv",
        "stockholm/WP4-M3/seed_funding_stockholm.xlsx",
        "berlin-tsb/WP4-M3/seed_funding_berlin.json",
        "riga/WP4-M3/seed_funding_riga.csv",
        "stockholm/WP2-M1/progress_narrative_stockholm.docx",
        "stockholm/WP5-M3/meeting_report_stockholm.md",
    ],
)
def test_bundled_samples_are_valid(relative):
    partner, milestone, _ = relative.split("/")
    result = runner.invoke(app, ["validate", str(INBOX / relative), "--partner", partner, "--milestone", milestone])
    assert result.exit_code == 0, result.output
    assert "valid as" in result.stdout


def test_broken_file_is_exit_1_with_cell_locations():
    result = runner.invoke(
        app,
        ["validate", str(INBOX / "riga/WP4-M3/seed_funding_riga_v1.csv"), "--milestone", "WP4-M3", "--format", "json"],
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["kind"] == "seed_funding" and data["valid"] is False
    located = {(i["row"], i["column"], i["field"], i["value"]) for i in data["issues"]}
    assert (2, "C", "level", "city") in located
    assert (2, "E", "budget_eur", "about 2 mio") in located
    messages = " ".join(i["message"] for i in data["issues"])
    assert "is not a number" in messages and "must be one of: municipal, regional, national or EU" in messages


@pytest.mark.parametrize(
    ("content", "name", "code", "fragment"),
    [
        (None, "missing.csv", 2, "no such file"),
        (b"PK\x03\x04garbage", "seed_funding.xlsx", 2, "is damaged or not a spreadsheet file"),
        (b"name;provider\n", "seed_funding.csv", 1, "required column is missing"),
    ],
)
def test_unreadable_and_empty_files(tmp_path, content, name, code, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == code
    assert fragment in result.output
