"""A mail server out of reach during `wpflow run`: the reports are written, the run
says so in one line and exits 2, and the next run delivers every e-mail once.

| path | fault | expected |
|---|---|---|
| `run --all --direct` | SMTP refuses connections | 25 reports written; exit 2, one line; next run (SMTP back) sends each e-mail once |
| `run WP4-M3` through Prefect | SMTP refuses connections | report written; exit 2, exactly one stderr line, no traceback; no minutes of retries |
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT
from tests.settings_env import as_env
from tests.smtp import SmtpSink, free_port, smtp_on

DEMO_AS_OF = "2008-01-31"
pytestmark = pytest.mark.system  # the whole demo with its mail server down


def smtp_env(outputs: Path, port: int) -> dict[str, str | None]:
    """The settings of a run e-mailing through the SMTP server at `port`, as the environment."""
    settings = Settings(
        project=BUNDLED_PROJECT,
        outputs=outputs,
        mail_transport="smtp",
        smtp_port=port,
        report_pdf=False,
        _env_file=None,
    )
    return {**as_env(settings), "PREFECT_API_URL": None, "COLUMNS": "80"}


def test_run_all_direct_with_smtp_down_writes_every_report_and_the_next_run_sends_each_email_once(tmp_path):
    from wpflow.cli.app import app
    from wpflow.project.load import load_project

    outputs, port = tmp_path / "outputs", free_port()  # nothing listens there: connection refused
    env = smtp_env(outputs, port)
    down = CliRunner().invoke(app, ["run", "--all", "--direct", "--as-of", DEMO_AS_OF], env=env)

    assert down.exit_code == 2, down.output
    [line] = down.stderr.splitlines()[-1:]
    assert line.startswith("error: cannot reach the mail server: ")
    assert "milestone(s) not e-mailed" in line and "their reports are written" in line
    assert "Traceback" not in down.stderr
    project = load_project(BUNDLED_PROJECT)
    issued = sorted(p.stem for p in (outputs / "reports" / "baltmet-inno").glob("WP*-M*.docx"))
    assert issued, "no report was written"
    summary = f"{len(project.milestones())} milestone(s): {len(issued)} new report version(s) ({len(issued)} not yet e-mailed)"
    assert summary in down.stdout, down.stdout[-400:]  # written, though not e-mailed: not "0 new"
    assert set(issued) <= {m.id for m in project.milestones()}

    sink = SmtpSink(host="127.0.0.1", port=0)
    with smtp_on(sink, port):
        back = CliRunner().invoke(app, ["run", "--all", "--direct", "--as-of", DEMO_AS_OF], env=env)
    assert back.exit_code == 0, back.output
    folder = outputs / "reports" / "baltmet-inno"
    assert sorted(p.stem for p in folder.glob("WP*-M*.docx")) == issued  # no new versions
    ids = [m["Message-ID"] for m in sink.messages]
    assert ids and len(ids) == len(set(ids)), "an e-mail went twice"
    reports = [m for m in sink.messages if "report v" in m["Subject"]]
    assert reports, [m["Subject"] for m in sink.messages][:5]  # the reports' own e-mails went out too


def test_run_through_prefect_with_smtp_down_is_one_line_and_exit_2_without_minutes_of_retries(tmp_path):
    outputs, port = tmp_path / "outputs", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WPFLOW_", "PREFECT_"))}
    env.update({k: v for k, v in smtp_env(outputs, port).items() if v is not None})
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "wpflow", "run", "WP4-M3", "--as-of", "2006-07-31"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.monotonic() - start

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "ERROR" not in done.stderr, done.stderr
    [line] = [line for line in done.stderr.splitlines() if not line.startswith(("running ", "[1/1] "))]
    assert line.startswith("error: cannot reach the mail server: ") and "WP4-M3" in line  # progress, then one line
    assert (outputs / "reports" / "baltmet-inno" / "WP4-M3.docx").is_file(), "the report does not wait for mail"
    assert took < 150, f"{took:.0f} s: an unreachable server must not be retried for minutes"

    from wpflow.store.store import Store

    with Store(f"sqlite:///{outputs / 'wpflow.db'}") as store:
        [record] = store.runs("BaltMet Inno", "WP4-M3")
    assert record.status == "failed" and "cannot reach" in (record.error or "")
