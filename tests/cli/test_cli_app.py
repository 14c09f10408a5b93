"""The real `wpflow` app (`wpflow.cli.app.app`) driven with Typer's CliRunner: every command and
subcommand as a user types it, outputs in a temporary folder, assertions on what it wrote.

`test_every_command_has_a_case` keeps the table honest: a new command without a case here fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from docx import Document
from typer.testing import CliRunner, Result

from tests.conftest import BUNDLED_PROJECT, DEMO_AS_OF, ROOT, parse_eml
from wpflow.cli.app import app
from wpflow.store import migrate

INBOX = BUNDLED_PROJECT / "inbox"
SPB = ROOT / "projects" / "spb-innoreg"  # the second example, made by `wpflow init`


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """('run',), ('db', 'upgrade'), …: every command a user can type, found from the app itself."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield prefix
        return
    for name, sub in subcommands.items():
        yield from command_paths(sub, (*prefix, name))


ALL_COMMANDS = sorted(command_paths(typer.main.get_command(app)))


def wpflow(args: list[str], outputs: Path, **env: str | None) -> Result:
    """Run `wpflow ARGS` in-process with outputs under `outputs` (and no Prefect API)."""
    environment = {"WPFLOW_OUTPUTS": str(outputs), "PREFECT_API_URL": None, "COLUMNS": "160", **env}
    return CliRunner().invoke(app, args, env=environment)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


# -- help on every command ---------------------------------------------------------------
@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_every_command_explains_itself(path: tuple[str, ...], tmp_path: Path) -> None:
    result = wpflow([*path, "--help"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and " ".join(path) in result.output
    assert "--help" in result.output


# -- one case per command ------------------------------------------------------------------
# (args, exit code, check of the JSON or text output); "{tmp}" in an argument is the test's folder
Check = Callable[[Any, Path], None]


def project_named(data: Any, _tmp: Path) -> None:
    assert data["name"] == "BaltMet Inno" and len(data["participants"]) == 16


def warnings_only(data: Any, _tmp: Path) -> None:
    assert data and {f["severity"] for f in data} == {"warning"}
    assert any(f["where"] == "st-petersburg" and f["kind"] == "contradiction" for f in data)


def riga_v1_invalid(data: Any, _tmp: Path) -> None:
    assert (data["kind"], data["valid"]) == ("seed_funding", False)
    assert {"row": 2, "column": "C", "field": "level", "value": "city"}.items() <= data["issues"][0].items()


def riga_valid(data: Any, _tmp: Path) -> None:
    assert (data["kind"], data["valid"], data["rows"], data["issues"]) == ("seed_funding", True, 2, [])


def riga_template(data: Any, tmp: Path) -> None:
    assert data == {"milestone": "WP4-M3", "partner": "riga", "files": [str(tmp / "WP4-M3_seed_funding_riga.xlsx")]}
    assert Path(data["files"][0]).stat().st_size > 0


def june_reminders(data: Any, tmp: Path) -> None:
    actions = {a["milestone"]: a for a in data["actions"]}
    assert set(actions) == {"WP1-M1", "WP2-M1", "WP3-M1", "WP4-M1"}
    assert {(a["action"], a["rung"]) for a in actions.values()} == {("reminder", "T-14")}
    assert actions["WP4-M1"]["sent"] == ["baltmet-inno@tallinn.example.org"]
    reminder = next(
        m
        for m in map(parse_eml, (tmp / "outputs" / "outbox" / "baltmet-inno").glob("*.eml"))
        if m["To"].addresses[0].addr_spec == "baltmet-inno@tallinn.example.org"
        and m["Subject"].startswith("[BaltMet Inno] WP4-M1 reminder")
    )
    assert "30 June 2005" in reminder["Subject"]  # a date in words, as partners read it


def rehearsed_ladder(data: Any, _tmp: Path) -> None:
    first = data[0]
    assert (first["day"], first["milestone"], first["action"], first["rung"]) == (
        "2005-06-16",
        "WP1-M1",
        "reminder",
        "T-14",
    )
    assert {"day": "2005-06-19", "milestone": "WP3-M1", "action": "run", "release": "report"}.items() <= next(
        r for r in data if r["action"] == "run"
    ).items()


def written_and_current(data: Any, tmp: Path) -> None:
    assert data == {"file": str(tmp / "prefect.yaml"), "written": True}
    written = (tmp / "prefect.yaml").read_text(encoding="utf-8")
    assert written == (ROOT / "prefect.yaml").read_text(encoding="utf-8")  # the committed one is current
    assert "- name: baltmet-inno-wp4-m3\n" in written and "entrypoint: flows/milestone.py:milestone_pipeline" in written


def migration_history(data: Any, _tmp: Path) -> None:
    assert [r["revision"] for r in data] == [revision for revision, _ in migrate.history()]
    assert all(r["message"].strip() for r in data)


def empty_store_behind(data: Any, _tmp: Path) -> None:
    assert (data["current"], data["head"], data["up_to_date"]) == (None, migrate.head(), False)


def upgraded(data: Any, _tmp: Path) -> None:
    assert (data["before"], data["after"]) == (None, migrate.head())


def wp4_draft(data: Any, tmp: Path) -> None:
    [wp4] = data["reports"]
    assert (wp4["report"], wp4["release"], wp4["version"]) == ("WP4", "draft", None)
    assert (
        wp4["path"] == str(tmp / "outputs" / "reports" / "baltmet-inno" / "drafts" / "WP4.docx")
        and Path(wp4["path"]).is_file()
    )
    assert "not final until 30 June 2007" in wp4["message"]


def every_draft(data: Any, tmp: Path) -> None:
    assert [(r["report"], r["release"]) for r in data["reports"]] == [
        *((f"WP{n}", "draft") for n in range(1, 6)),
        ("final", "draft"),
    ]
    assert not (tmp / "outputs" / "outbox" / "baltmet-inno").exists() or not list(
        (tmp / "outputs" / "outbox" / "baltmet-inno").glob("*.eml")
    )


def spb_innoreg_made(data: Any, tmp: Path) -> None:
    assert data["project"] == str(tmp / "spb" / "project.yaml") and data["name"] == "SpB InnoReg"
    assert (data["participants"], data["milestones"], data["warnings"]) == (7, 6, 0)
    made = (tmp / "spb" / "project.yaml").read_text(encoding="utf-8")
    assert made == (SPB / "project.yaml").read_text(encoding="utf-8")  # the committed one is current


CASES = [
    pytest.param(["project", "show", "-f", "json"], 0, project_named, id="project show"),
    pytest.param(["project", "check", "--no-assumptions", "-f", "json"], 0, warnings_only, id="project check"),
    pytest.param(
        [
            "validate",
            str(INBOX / "riga/WP4-M3/seed_funding_riga_v1.csv"),
            "--partner",
            "riga",
            "--milestone",
            "WP4-M3",
            "-f",
            "json",
        ],
        1,
        riga_v1_invalid,
        id="validate invalid",
    ),
    pytest.param(
        ["validate", str(INBOX / "riga/WP4-M3/seed_funding_riga.csv"), "--partner", "riga", "-f", "json"],
        0,
        riga_valid,
        id="validate valid",
    ),
    pytest.param(
        ["template", "WP4-M3", "--partner", "riga", "-o", "{tmp}", "-f", "json"], 0, riga_template, id="template"
    ),
    pytest.param(["deadlines", "--direct", "--as-of", "2005-06-16", "-f", "json"], 0, june_reminders, id="deadlines"),
    pytest.param(
        ["simulate", "--from", "2005-06-01", "--to", "2005-07-31", "-f", "json"], 0, rehearsed_ladder, id="simulate"
    ),
    pytest.param(
        ["deploy", "--write", "--file", "{tmp}/prefect.yaml", "-f", "json"], 0, written_and_current, id="deploy write"
    ),
    pytest.param(
        ["report", "wp", "WP4", "--direct", "--as-of", "2006-07-01", "-f", "json"], 0, wp4_draft, id="report wp"
    ),
    pytest.param(
        ["report", "project", "--direct", "--as-of", "2006-07-01", "-f", "json"], 0, every_draft, id="report project"
    ),
    pytest.param(
        [
            "init",
            "{tmp}/spb",
            "--partners",
            str(SPB / "source/partners.csv"),
            "--workplan",
            str(SPB / "source/workplan.xlsx"),
            "--no-input",
            "-f",
            "json",
        ],
        0,
        spb_innoreg_made,
        id="init",
    ),
    pytest.param(["db", "current", "-f", "json"], 0, empty_store_behind, id="db current"),
    pytest.param(["db", "upgrade", "-f", "json"], 0, upgraded, id="db upgrade"),
    pytest.param(["db", "history", "-f", "json"], 0, migration_history, id="db history"),
]


@pytest.mark.parametrize(("args", "code", "check"), CASES)
def test_command(args: list[str], code: int, check: Check, tmp_path: Path) -> None:
    result = wpflow([a.replace("{tmp}", str(tmp_path)) for a in args], tmp_path / "outputs")
    assert result.exit_code == code, result.output
    check(json.loads(result.stdout), tmp_path)


# (args, exit code, words of the one error line)
REFUSALS = [
    pytest.param(["run", "WP9-M9", "--direct"], 1, "unknown milestone 'WP9-M9'", id="run unknown milestone"),
    pytest.param(["run", "--direct"], 1, "give a milestone id or --all", id="run without milestone"),
    pytest.param(["status", "--as-of", "2006-13-45"], 1, "is not a date", id="status bad date"),
    pytest.param(["serve", "--milestone", "WP9-M9"], 1, "unknown milestone 'WP9-M9'", id="serve unknown milestone"),
    pytest.param(["deploy"], 2, "no Prefect server", id="deploy without a server"),
    pytest.param(["template", "WP4-M3", "--partner", "atlantis"], 1, "atlantis", id="template unknown partner"),
    pytest.param(["validate", "{tmp}/nowhere.csv"], 2, "nowhere.csv", id="validate missing file"),
    pytest.param(["partners", "links"], 2, "WPFLOW_PARTNER_SECRET is not set", id="partners links without secret"),
    pytest.param(
        [
            "init",
            "{tmp}/new",
            "--partners",
            str(SPB / "source/partners.csv"),
            "--workplan",
            str(SPB / "source/partners.csv"),
            "--no-input",
        ],
        1,
        "partners.csv, row 1, column A (name): unknown column",
        id="init partner list as work plan",
    ),
]


@pytest.mark.parametrize(("args", "code", "words"), REFUSALS)
def test_command_refuses(args: list[str], code: int, words: str, tmp_path: Path) -> None:
    result = wpflow([a.replace("{tmp}", str(tmp_path)) for a in args], tmp_path / "outputs")
    assert result.exit_code == code, result.output
    assert words in result.output


def test_deploy_check_tells_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "prefect.yaml"
    target.write_text("stale\n", encoding="utf-8")
    stale = wpflow(["deploy", "--check", "--file", str(target), "-f", "json"], tmp_path)
    assert stale.exit_code == 1 and json.loads(stale.stdout) == {"file": str(target), "up_to_date": False}
    assert wpflow(["deploy", "--write", "--file", str(target)], tmp_path).exit_code == 0
    assert ok_json(wpflow(["deploy", "--check", "--file", str(target), "-f", "json"], tmp_path))["up_to_date"]


def test_db_steps_down_and_up_again(tmp_path: Path) -> None:
    revisions = [revision for revision, _ in migrate.history()]
    ok_json(wpflow(["db", "upgrade", "-f", "json"], tmp_path))
    down = ok_json(wpflow(["db", "downgrade", revisions[-2], "-f", "json"], tmp_path))
    assert (down["before"], down["after"]) == (revisions[-1], revisions[-2])
    table = wpflow(["db", "current"], tmp_path)
    assert table.exit_code == 0 and f"revision {revisions[-2]}" in table.output and "behind" in table.output
    up = ok_json(wpflow(["db", "upgrade", "-f", "json"], tmp_path))
    assert (up["before"], up["after"]) == (revisions[-2], revisions[-1])


def test_db_revision_writes_a_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into a copy of the migrations: a file written into the checkout would be a new head for
    every other test running meanwhile."""
    import shutil

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    written = Path(ok_json(wpflow(["db", "revision", "-m", "nothing changed", "-f", "json"], tmp_path))["file"])
    assert written.parent == copy / "versions" and written.name.startswith(f"{int(migrate.history()[-2][0]) + 1:04d}")
    assert "nothing changed" in written.read_text(encoding="utf-8")


# -- the demo path: run --all --direct over the bundled project -------------------------------
@pytest.fixture
def demo(demo_outputs: tuple[Path, Any]) -> tuple[Path, Any]:
    """`wpflow run --all --direct --as-of 2008-01-31 -f json` into a temporary outputs folder
    (then `report project`: conftest's `demo_outputs`, shared with test_final_reports)."""
    return demo_outputs


def test_run_all_runs_every_milestone(demo: tuple[Path, Any], project) -> None:
    outputs, data = demo
    assert data["failed"] == []
    assert [r["milestone"] for r in data["runs"]] == [m.id for m in project.milestones()]
    reported = {r["milestone"] for r in data["runs"] if r["outcome"] == "report"}
    assert {"WP3-M1", "WP4-M1", "WP4-M3", "WP5-M3"} <= reported
    finals = {"WP1", "WP2", "WP3", "WP4", "WP5", "final"}  # `report project`'s, beside the milestones'
    assert {p.stem for p in (outputs / "reports" / "baltmet-inno").glob("*.docx")} == reported | finals
    assert all(r["version"] == 1 and Path(r["report"]).is_file() for r in data["runs"] if r["outcome"] == "report")


@pytest.mark.parametrize(
    ("milestone", "words"),
    [
        ("WP4-M3", ["Public seed-funding schemes", "Riga", "Helsinki"]),
        ("WP4-M1", ["Educational and science institutions", "Copenhagen"]),
        ("WP3-M1", ["St. Petersburg", "Tallinn"]),
    ],
)
def test_run_all_writes_the_reports(demo: tuple[Path, Any], milestone: str, words: list[str]) -> None:
    text = docx_text(demo[0] / "reports" / "baltmet-inno" / f"{milestone}.docx")
    assert "BaltMet Inno" in text and milestone in text
    assert all(w in text for w in words), [w for w in words if w not in text]


def test_run_all_mails_reports_receipts_and_empty_notices(demo: tuple[Path, Any], project) -> None:
    outputs, data = demo
    mails = [parse_eml(p) for p in (outputs / "outbox" / "baltmet-inno").glob("*.eml")]
    subjects = [str(m["Subject"]) for m in mails]
    for run in data["runs"]:
        own = [s for s in subjects if s.startswith(f"[BaltMet Inno] {run['milestone']}") and "receipt" not in s]
        if run["outcome"] == "report":  # the report to each recipient, nothing else
            assert own and all(f"{run['milestone']} report v1 — " in s for s in own), own
        else:  # the coordinator and the lead are told that nothing arrived
            assert 1 <= len(own) <= 2 and all(f"{run['milestone']}: no inputs by the due date" in s for s in own), own
    receipt = next(m for m in mails if m["Subject"].endswith("seed_funding_riga_v1.csv: 2 problems to fix"))
    body = receipt.get_body(("plain",)).get_content()
    assert receipt["To"].addresses[0].addr_spec == "baltmet-inno@riga.example.org"
    assert "row 2, column C (level): 'city' must be one of" in body


def test_status_reads_the_demo_store(demo: tuple[Path, Any]) -> None:
    data = ok_json(wpflow(["status", "--as-of", DEMO_AS_OF, "-f", "json"], demo[0]))
    rows = {r["milestone"]: r for r in data["milestones"]}
    assert rows["WP4-M3"]["due"] == "2006-06-30"
    assert rows["WP3-M1"]["partners"] and set(rows["WP3-M1"]["partners"].values()) <= {"on time", "late"}
    table = wpflow(["status", "--as-of", DEMO_AS_OF], demo[0])
    assert table.exit_code == 0 and "WP4-M3" in table.output


COVERED = {
    ("init",),
    ("project", "show"),
    ("project", "check"),
    ("validate",),
    ("template",),
    ("deadlines",),
    ("simulate",),
    ("deploy",),
    ("serve",),
    ("db", "current"),
    ("db", "upgrade"),
    ("db", "downgrade"),
    ("db", "history"),
    ("db", "revision"),
    ("run",),
    ("status",),
    ("report", "wp"),
    ("report", "project"),
    ("narrative",),  # its cases: tests/report/test_narrative_cli.py
    ("partners", "links"),  # its cases: tests/partners/test_cli.py
}


def test_every_command_has_a_case() -> None:
    assert set(ALL_COMMANDS) == COVERED
