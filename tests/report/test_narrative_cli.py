"""`wpflow narrative WP4-M3`: writes the coordinator's skeleton into the project folder, with
the newest report's key figures; refuses to overwrite the coordinator's text without --force."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from typer.testing import CliRunner, Result

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT
from wpflow.cli.app import app
from wpflow.milestone.direct_run import run_direct
from wpflow.report.narrative import parse_narrative
from wpflow.workspace import Workspace


def wpflow(args: list[str], outputs: Path) -> Result:
    env = {"WPFLOW_OUTPUTS": str(outputs), "PREFECT_API_URL": None, "COLUMNS": "160"}
    return CliRunner().invoke(app, args, env=env)


def project_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "baltmet-inno"
    shutil.copytree(BUNDLED_PROJECT, folder, ignore=shutil.ignore_patterns("narratives"))
    return folder


def test_help_says_what_it_does(tmp_path: Path) -> None:
    result = wpflow(["narrative", "--help"], tmp_path)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "skeleton of the coordinator's narrative" in text and "--force" in text and "DRAFT" in text


def test_writes_the_skeleton_with_the_newest_reports_figures(tmp_path: Path) -> None:
    folder = project_copy(tmp_path)
    outputs = tmp_path / "outputs"
    run_direct(Workspace(Settings(project=folder, outputs=outputs, _env_file=None)), "WP4-M3", date(2006, 7, 3))
    result = wpflow(["narrative", "WP4-M3", "--project", str(folder)], outputs)
    assert result.exit_code == 0, result.output
    path = folder / "narratives" / "WP4-M3.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# WP4-M3: Public seed funding in the BSR metropolitan areas")
    assert "public seed-funding schemes in 6 of 8 cities asked" in text and "as of 3 July 2006" in text
    assert parse_narrative(text, "WP4-M3").awaiting() == ["Summary", "Conclusions", "Next steps"]

    path.write_text("## Summary\nThe coordinator's own words.\n", encoding="utf-8")
    refused = wpflow(["narrative", "WP4-M3", "--project", str(folder)], outputs)
    assert refused.exit_code == 1 and "--force" in refused.output
    assert path.read_text(encoding="utf-8") == "## Summary\nThe coordinator's own words.\n"

    forced = wpflow(["narrative", "WP4-M3", "--project", str(folder), "--force", "-f", "json"], outputs)
    assert forced.exit_code == 0 and '"path"' in forced.stdout
    assert "## Conclusions" in path.read_text(encoding="utf-8")


def test_without_a_report_yet_and_unknown_milestones(tmp_path: Path) -> None:
    folder = project_copy(tmp_path)
    result = wpflow(["narrative", "wp4-m3", "--project", str(folder)], tmp_path / "outputs")
    assert result.exit_code == 0, result.output
    assert "no figures yet" in (folder / "narratives" / "WP4-M3.md").read_text(encoding="utf-8")
    unknown = wpflow(["narrative", "WP9-M9", "--project", str(folder)], tmp_path / "outputs")
    assert unknown.exit_code == 1 and "unknown report 'WP9-M9'" in unknown.output


def test_writes_the_skeletons_the_final_reports_read(tmp_path: Path) -> None:
    """WP4 and final name the WP's and the joint final report's narratives, at the paths those
    reports read (their fingerprints follow these files)."""
    from wpflow.project.load import load_project
    from wpflow.report.narrative import narrative_path

    folder = project_copy(tmp_path)
    project = load_project(folder / "project.yaml")
    for report, title in (("wp4", "# WP4: final report of "), ("Final", "# final: joint final report of ")):
        result = wpflow(["narrative", report, "--project", str(folder)], tmp_path / "outputs")
        assert result.exit_code == 0, result.output
        path = narrative_path(folder, project, report.upper() if report.startswith("wp") else "final")
        assert path.read_text(encoding="utf-8").startswith(title)
