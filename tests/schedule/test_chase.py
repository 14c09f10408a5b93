"""Chasing deadlines: the 2005–2007 rehearsal (`simulate`) and the real daily ladder (`chase_day`).

The small inbox built here is the oracle: WP4-M3 (seed funding, due 2006-06-30, coordinator
Stockholm, lead Helsinki) with Helsinki on time, Malmö on time, Riga first invalid and then
corrected late; nobody else delivers anything.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT, parse_eml
from tests.uploads import put, seed_csv
from wpflow.cli.app import app


@pytest.fixture
def small_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    put(inbox, "helsinki", "WP4-M3", "seed_funding_helsinki.csv", seed_csv("Helsinki Start-up Grant"))
    put(inbox, "malmo", "WP4-M3", "seed_funding_malmo.csv", seed_csv("Malmö Innovationsfond"))
    put(inbox, "riga", "WP4-M3", "seed_funding_riga.csv", seed_csv("Riga Seed", "about 2 mio"))
    put(inbox, "riga", "WP4-M3", "seed_funding_riga_v2.csv", seed_csv("Riga Seed"))
    (inbox / "arrivals.yaml").write_text(
        "helsinki/WP4-M3/seed_funding_helsinki.csv: 2006-06-10\n"
        "malmo/WP4-M3/seed_funding_malmo.csv: 2006-06-20\n"
        "riga/WP4-M3/seed_funding_riga.csv: 2006-06-20\n"
        "riga/WP4-M3/seed_funding_riga_v2.csv: 2006-07-03\n"
    )
    return inbox


def entries(timeline, milestone):
    return [(a.day.isoformat(), a.action, a.rung, a.recipients) for a in timeline if a.milestone == milestone]


def test_simulate_replays_the_ladder_for_the_small_inbox(project, small_inbox):
    from wpflow.schedule.chase import inbox_deliveries, simulate

    timeline = simulate(project, inbox_deliveries(project, small_inbox), date(2005, 1, 1), date(2008, 1, 1))
    others = ["berlin-tsb", "copenhagen", "stockholm", "st-petersburg", "tallinn"]
    assert (
        entries(timeline, "WP4-M3")
        == [
            # T-14: everyone but Helsinki (valid since 06-10); Malmö and Riga have nothing yet
            (
                "2006-06-16",
                "reminder",
                "T-14",
                ["berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg", "tallinn"],
            ),
            # T-3: Malmö delivered, Riga's file is invalid so Riga is reminded again
            ("2006-06-27", "reminder", "T-3", ["berlin-tsb", "copenhagen", "riga", *others[2:]]),
            ("2006-06-30", "run", "due", []),  # v1 with what has arrived
            # T+1: every late partner itself (Riga's file still invalid), and the WP4 co-ordinator
            ("2006-07-01", "overdue", "T+1", ["berlin-tsb", "copenhagen", "riga", *others[2:]]),
            ("2006-07-01", "notice", "T+1", ["stockholm"]),
            ("2006-07-03", "run", "update", []),  # Riga's correction: v2
            ("2006-07-05", "last_call", "T+5", others),  # Riga delivered: no last call
            ("2006-07-07", "escalation", "T+7", ["helsinki"]),  # lead partner, once
        ]
    )
    t3 = next(a for a in timeline if a.milestone == "WP4-M3" and a.rung == "T-3")
    assert t3.outstanding["riga"] == ["seed_funding (invalid)"]
    notice = next(a for a in timeline if a.milestone == "WP4-M3" and a.action == "notice")
    assert notice.outstanding["riga"] == ["seed_funding (invalid)"]  # corrected only on 07-03
    escalation = next(a for a in timeline if a.milestone == "WP4-M3" and a.action == "escalation")
    assert set(escalation.outstanding) == set(others)


def test_simulate_covers_every_milestone_once_per_step(project, small_inbox):
    """Every milestone: at most one reminder per partner and step, one notice at T+1 to its
    co-ordinator when something is outstanding, a run at its deadline."""
    from wpflow.schedule.chase import inbox_deliveries, simulate

    timeline = simulate(project, inbox_deliveries(project, small_inbox), date(2005, 1, 1), date(2008, 1, 1))
    for m in project.milestones():
        mine = [a for a in timeline if a.milestone == m.id]
        runs = [a for a in mine if a.action == "run"]
        assert [(a.day, a.rung) for a in runs if a.rung == "due"] == [(m.due, "due")]
        notices = [a for a in mine if a.action == "notice"]
        assert [(a.day, a.rung, a.recipients) for a in notices] == [
            (m.due + timedelta(days=1), "T+1", [project.work_package(m.wp_id).coordinator])
        ]
        for a in mine:
            if a.action == "reminder":
                assert a.rung in ("T-14", "T-3")
                assert m.due - timedelta(days=14) <= a.day <= m.due
        reminded = [(a.rung, r) for a in mine if a.action == "reminder" for r in a.recipients]
        assert len(reminded) == len(set(reminded))


def bundled_inbox_files() -> list[Path]:
    inbox = BUNDLED_PROJECT / "inbox"
    return [p for p in inbox.rglob("*") if p.is_file() and p.name != "arrivals.yaml"] if inbox.is_dir() else []


@pytest.mark.skipif(not bundled_inbox_files(), reason="the bundled sample inbox is not there yet")
def test_simulate_the_bundled_inbox_reminds_only_who_has_no_valid_input(project):
    """On the bundled sample: a partner is reminded only while it has no valid file of some
    required kind (checked against the validator, file by file)."""
    from wpflow.schedule.chase import inbox_deliveries, simulate

    inbox = BUNDLED_PROJECT / "inbox"
    started = time.perf_counter()
    deliveries = inbox_deliveries(project, inbox)
    timeline = simulate(project, deliveries, date(2005, 1, 1), date(2008, 1, 1))
    assert time.perf_counter() - started < 30
    for a in timeline:
        if a.action != "reminder":
            continue
        m = project.milestone(a.milestone)
        for pid in a.recipients:
            valid_kinds = {d.kind for d in deliveries[m.id] if d.partner == pid and d.valid and d.arrived <= a.day}
            owed = {r.kind for r in m.inputs if pid in [p.id for p in project.deliverers(r)]}
            assert owed - valid_kinds, f"{pid} reminded for {m.id} on {a.day} though all inputs are valid"
    # every milestone runs: early once complete, or at its due date (a report or "nothing arrived")
    first_runs = {a.milestone: a.rung for a in reversed(timeline) if a.action == "run"}
    assert set(first_runs) == {m.id for m in project.milestones()}
    assert set(first_runs.values()) <= {"due", "complete"}


def test_simulate_command_prints_json_timeline_in_seconds(small_inbox, monkeypatch):
    monkeypatch.delenv("WPFLOW_PROJECT", raising=False)
    started = time.perf_counter()
    result = CliRunner().invoke(
        app,
        ["simulate", "--from", "2005-01-01", "--to", "2008-01-01", "--inbox", str(small_inbox), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 20
    rows = json.loads(result.stdout)
    assert set(rows[0]) == {"day", "milestone", "action", "rung", "recipients", "outstanding", "release", "digest"}
    escalation = next(r for r in rows if r["milestone"] == "WP4-M3" and r["action"] == "escalation")
    assert escalation == {
        "day": "2006-07-07",
        "milestone": "WP4-M3",
        "action": "escalation",
        "rung": "T+7",
        "recipients": ["helsinki"],
        "release": None,
        "digest": None,
        "outstanding": {
            p: ["seed_funding"] for p in ["berlin-tsb", "copenhagen", "stockholm", "st-petersburg", "tallinn"]
        },
    }
    table = CliRunner().invoke(
        app, ["simulate", "--from", "2006-06-01", "--to", "2006-07-31", "--inbox", str(small_inbox)]
    )
    assert table.exit_code == 0 and "WP4-M3" in table.stdout and "escalation" in table.stdout


# -- the real ladder ---------------------------------------------------------------------
@pytest.fixture
def chase_ws(configure, small_inbox):
    """The workspace of the small inbox, also what flows get from `workspace()` (WPFLOW_* env)."""
    from wpflow.workspace import workspace

    settings = configure(inbox=small_inbox, stable_seconds=0)
    ws = workspace()
    assert ws.settings.outputs == settings.outputs and ws.settings.inbox_root == small_inbox
    return ws


def test_chase_day_twice_sends_each_notice_once(chase_ws, project):
    from wpflow.schedule.chase import chase_day, collect_inbox

    day = date(2006, 7, 7)
    collected = collect_inbox(chase_ws, day)
    assert sorted(c.submission.file_name for c in collected) == [
        "seed_funding_helsinki.csv",
        "seed_funding_malmo.csv",
        "seed_funding_riga.csv",
        "seed_funding_riga_v2.csv",
    ]
    outbox = chase_ws.settings.outbox_dir
    receipts = len(list(outbox.glob("*.eml")))
    assert receipts == 4  # one receipt per file
    started: list[tuple[str, date | None]] = []

    def start(milestone_id: str, as_of: date | None) -> str:
        started.append((milestone_id, as_of))
        return f"run-{milestone_id}"

    first = chase_day(chase_ws, day, start_pipeline=start)
    sent = [n for r in first for n in r.sent]
    due_then = [m for m in project.milestones() if m.due == date(2006, 6, 30)]
    # per milestone due 2006-06-30: the T+7 escalation to the lead alone — the T+1 letters and
    # the T+5 last call are past catching up once the lead has been told
    assert len(sent) == len(due_then)
    # every milestone past its due date runs once for what it has (never run before here)
    due_by = [m for m in project.milestones() if m.due <= day]
    assert sorted(started) == sorted((m.id, day) for m in due_by)
    assert len(list(outbox.glob("*.eml"))) == receipts + len(sent)

    second = chase_day(chase_ws, day, start_pipeline=start)
    assert [n for r in second for n in r.sent] == []
    assert all(r.started is None for r in second if r.action.action == "run")
    assert len(started) == len(due_by)
    assert len(list(outbox.glob("*.eml"))) == receipts + len(sent)

    escalation = next(
        parse_eml(Path(n.path)) for n in sent if n.to == ["baltmet-inno@helsinki.example.org"] and "WP4-M3" in n.subject
    )
    body = escalation.get_body(("plain",)).get_content()
    assert "(Tallinn): Public seed-funding schemes" in body
    assert "Riga" not in body  # Riga's corrected file arrived on 07-03
    # the stand-in starter issued no version: the letter claims none went out
    assert "No WP4-M3 report has gone out yet" in body


def test_deadlines_command_sends_due_notices_once(chase_ws):
    args = ["deadlines", "--as-of", "2006-06-16", "--direct", "--format", "json"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    actions = json.loads(first.stdout)["actions"]
    wp4 = next(a for a in actions if a["milestone"] == "WP4-M3")
    assert (wp4["action"], wp4["rung"]) == ("reminder", "T-14")
    assert "baltmet-inno@helsinki.example.org" not in wp4["sent"]  # valid since 2006-06-10
    assert len(wp4["sent"]) == 7
    again = json.loads(CliRunner().invoke(app, args).stdout)["actions"]
    assert [a["sent"] for a in again] == [[] for _ in again]


def test_deadline_flow_collects_and_chases(prefect_api, chase_ws):
    """The thin flow: collect what had arrived by then (Helsinki's file: 1 receipt), then the
    T-14 reminders of 2006-06-16, each once — and the milestones long past their due date with
    nothing delivered run once: their coordinator and the lead hear that nothing arrived."""
    from flows.deadlines import deadline_ladder

    day = date(2006, 6, 16)
    results = deadline_ladder(day)
    outbox = chase_ws.settings.outbox_dir
    reminders = [n for r in results for n in r.sent]
    assert {r.action.action for r in results} == {"reminder", "run"}
    runs = [r for r in results if r.action.action == "run"]
    assert all(r.action.release == "empty" and r.started for r in runs)
    assert {r.action.milestone for r in runs} == {m.id for m in chase_ws.project.milestones() if m.due < day}
    empty = [p for p in outbox.glob("*.eml") if "no inputs by the due date" in parse_eml(p)["Subject"]]
    assert empty and len(list(outbox.glob("*.eml"))) == 1 + len(reminders) + len(empty)
    assert not any(n.to == ["baltmet-inno@helsinki.example.org"] and "WP4-M3" in n.subject for n in reminders)
    again = deadline_ladder(day)
    assert all(r.started is None for r in again if r.action.action == "run")
    assert len(list(outbox.glob("*.eml"))) == 1 + len(reminders) + len(empty)


def test_a_report_content_that_comes_back_is_a_new_version_sent_again(tmp_path):
    """A → B → A: the secretariat edits WP3-M1's template, runs, then takes the edit back. The
    third content equals the first, yet it is what the partners do not have: v3, sent to every
    recipient, and `reports/WP3-M1.docx` is v3 — not v2 left in place."""
    import shutil

    from docx import Document

    from schemas.settings import ROOT, Settings
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import Workspace

    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    settings = Settings(
        project=BUNDLED_PROJECT, outputs=tmp_path / "outputs", templates=tmp_path / "templates", _env_file=None
    )
    ws = Workspace(settings)
    template = settings.templates / ws.milestone("WP3-M1").template
    original, day = template.read_bytes(), date(2008, 1, 31)
    messages = [run_direct(ws, "WP3-M1", day).message]
    doc = Document(str(template))
    doc.add_paragraph("Prepared by the secretariat.")
    doc.save(str(template))
    messages.append(run_direct(ws, "WP3-M1", day).message)
    template.write_bytes(original)
    messages += [run_direct(ws, "WP3-M1", day).message, run_direct(ws, "WP3-M1", day).message]

    assert [m.split(";")[0].split(",")[0] for m in messages] == [
        "WP3-M1: report v1 issued (complete)",
        "WP3-M1: report v2 issued (complete)",
        "WP3-M1: report v3 issued (complete)",
        "WP3-M1: report unchanged since v3 of 2008-01-31",
    ]
    versions = ws.store.versions(ws.project.name, "WP3-M1")
    assert versions[0].fingerprint == versions[2].fingerprint != versions[1].fingerprint
    mails = [parse_eml(p) for p in (settings.outputs / "outbox" / "baltmet-inno").glob("*.eml")]
    per_recipient: dict[str, list[str]] = {}
    for mail in mails:
        if version := re.search(r"WP3-M1 report (v\d+)", mail["Subject"]):
            per_recipient.setdefault(mail["To"].addresses[0].addr_spec, []).append(version[1])
    assert len(per_recipient) == len(ws.project.recipients(ws.milestone("WP3-M1")))
    assert all(sorted(subjects) == ["v1", "v2", "v3"] for subjects in per_recipient.values()), per_recipient
    reports = settings.outputs / "reports" / "baltmet-inno"
    assert (reports / "WP3-M1.docx").read_bytes() == (reports / "history" / "WP3-M1.v3.docx").read_bytes()
    assert "Prepared by the secretariat." not in "\n".join(
        p.text for p in Document(str(reports / "WP3-M1.docx")).paragraphs
    )
