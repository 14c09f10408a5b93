"""Two runs of one milestone at the same moment, as two `wpflow run WP4-M3 --direct` processes on
one PostgreSQL store: neither fails for the other. The claim on the version decides who renders
and sends it; the other says so in one line and exits 0; one version, each e-mail once, nothing
left in staging.

The race is made real and deterministic by a rendezvous in each process (`RACING_RUN`, files in a
folder both see): both reach the issuing at once, and the one that renders waits until the
other has decided, so the other always meets a version being rendered by a live process."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from schemas.settings import ROOT, Settings
from tests.conftest import BUNDLED_PROJECT, parse_eml
from tests.settings_env import child_env

MILESTONE = "WP4-M3"
AS_OF = date(2006, 7, 31)  # WP4-M3 is due: report v1 and its e-mails (bundled inbox)
RENDEZVOUS_SECONDS = 60.0  # only reached when the code is wrong (both render): the test then fails

RACING_RUN = """
import os, sys, time
from pathlib import Path

here = Path(sys.argv.pop(1))
me = str(os.getpid())


def wait_for_other(prefix, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.name != f"{prefix}.{me}" for p in here.glob(f"{prefix}.*")):
            return
        time.sleep(0.01)


from wpflow.issue import lifecycle

issue, write = lifecycle.issue, lifecycle.write


def racing_issue(doc):
    (here / f"arrived.{me}").touch()
    wait_for_other("arrived", SECONDS)  # both issue at once
    try:
        return issue(doc)
    finally:
        (here / f"decided.{me}").touch()


def held_write(*args, **kwargs):
    wait_for_other("decided", SECONDS)  # the other decides while this one renders
    return write(*args, **kwargs)


lifecycle.issue, lifecycle.write = racing_issue, held_write
from wpflow.cli.app import main

main()
""".replace("SECONDS", repr(RENDEZVOUS_SECONDS))


@pytest.mark.postgres
@pytest.mark.parametrize("empty_db_url", ["postgres"], indirect=True)
def test_two_runs_of_one_milestone_at_once_on_postgres_both_succeed_and_send_each_email_once(db_url, tmp_path):
    from wpflow.workspace import workspace

    settings = Settings(
        project=BUNDLED_PROJECT,
        outputs=tmp_path / "outputs",
        database_url=db_url,
        report_pdf=False,
        stable_seconds=0,
        _env_file=None,
    )
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    command = [sys.executable, "-c", RACING_RUN, str(rendezvous), "run", MILESTONE, "--direct"]
    command += ["--as-of", AS_OF.isoformat()]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=child_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [run.communicate(timeout=2 * RENDEZVOUS_SECONDS + 120) for run in runs]
    said = [
        f"exit {run.returncode}\n{out.decode()}{err.decode()}" for run, (out, err) in zip(runs, results, strict=True)
    ]
    assert [run.returncode for run in runs] == [0, 0], "\n".join(said)
    issued = [s for s in said if f"{MILESTONE}: report v1 issued" in s]
    held = [s for s in said if f"{MILESTONE}: report v1 already issued by the run that holds the claim" in s]
    assert len(issued) == 1 and len(held) == 1, "\n".join(said)

    ws = workspace(settings=settings)
    [version] = ws.store.versions(ws.project.name, MILESTONE)
    assert version.version == 1 and version.report is not None
    assert [r.status for r in ws.store.runs(ws.project.name, MILESTONE)] == ["incomplete", "incomplete"]
    sent = ws.store.notifications(ws.project.name, MILESTONE)
    outbox = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(outbox) == len(sent) and {n.key for n in sent} == {p.name.split(".")[0] for p in outbox}
    reports = [parse_eml(p) for p in outbox if ".v1." in p.name]
    recipients = [m["To"] for m in reports]
    assert reports and len(recipients) == len(set(recipients)), "each recipient got the report once"
    assert all(m["Subject"] and MILESTONE in m["Subject"] for m in reports)

    reports_dir = settings.reports_dir
    assert sorted(p.name for p in (reports_dir / "history").iterdir()) == [f"{MILESTONE}.v1.docx"]
    assert not any((reports_dir / ".rendering").iterdir()), "nothing left in staging"
    assert sorted(p.name for p in reports_dir.iterdir() if p.is_file()) == [f"{MILESTONE}.docx"]
    assert not list(settings.outputs.rglob("*.pdf")), "no stray PDF"
    ws.store.close()


def test_a_render_claim_is_taken_over_when_its_holder_died_or_after_the_timeout_for_another_machine(db_url):
    from datetime import timedelta

    from sqlalchemy import text

    from wpflow.store.claim_owner import Owner, me
    from wpflow.store.store import Store

    store = Store(db_url)
    key, where = "render:k", {"project": "P", "milestone": "M", "purpose": "render"}
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for holder, stale_after, taken in [
        ("another-host|boot|4242|1", timedelta(minutes=15), False),
        ("another-host|boot|4242|1", timedelta(0), True),
        (Owner(me().host, me().boot_id, gone.pid, 1).token, timedelta(minutes=15), True),
    ]:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM claims"))
        assert store.claim(key, **where, stale_after=stale_after)
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE claims SET owner = :o"), {"o": holder})
        assert store.claim(key, **where, stale_after=stale_after) is taken
        assert store.claim_holder(key) == (me().token if taken else holder)
    store.close()


def test_the_next_run_renders_a_version_whose_renderer_died(settings):
    from sqlalchemy import text

    from wpflow.issue.lifecycle import render_key
    from wpflow.milestone.direct_run import run_direct
    from wpflow.store.claim_owner import Owner, me
    from wpflow.workspace import workspace

    ws = workspace(settings=settings)
    key = render_key(ws.project.name, MILESTONE, 1)
    assert ws.store.claim(key, project=ws.project.name, milestone=MILESTONE, purpose="render")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with ws.store.engine.begin() as conn:
        conn.execute(text("UPDATE claims SET owner = :o"), {"o": Owner(me().host, me().boot_id, gone.pid, 1).token})
    outcome = run_direct(ws, MILESTONE, AS_OF)
    assert outcome.new_version and outcome.report is not None and Path(outcome.report.path).is_file()
    assert outcome.message.startswith(f"{MILESTONE}: report v1 issued")
    assert ws.store.claim_holder(key) is None, "the claim is given back once rendered"
