"""A milestone over the project's three years: the daily ladder replayed day by day from
2005-01-01 to 2008-01-31 over the bundled inbox plus a late and a corrected file, judged from
the e-mails it leaves in the outbox — one per (milestone, recipient, report version), a new
version only for new content, an update when a late file arrives, never an empty report."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.conftest import BUNDLED_PROJECT, parse_eml
from tests.uploads import seed_csv

START, END = date(2005, 1, 1), date(2008, 1, 31)
# three years replayed day by day (~30 CPU-seconds): a long scenario, run by `make test-system`;
# tests/schedule/test_chase.py holds the ladder's day-level cases for `make test`
pytestmark = pytest.mark.system
# E-mails per person over the three-year replay, each event once: the partners' reminders, overdue
# notices and last calls, receipts, report versions and final reports; Helsinki (the lead, and a
# partner delivering its own inputs) its own events, not a copy of everyone's; observers and the
# organisations asked for nothing the joint final report alone.
EXPECTED_PER_PERSON: dict[str, int] = {
    "baltmet-inno@copenhagen.example.org": 89,
    "baltmet-inno@helsinki.example.org": 128,
    "baltmet-inno@malmo.example.org": 86,
    "baltmet-inno@oslo.example.org": 1,
    "baltmet-inno@riga.example.org": 108,
    "baltmet-inno@senwtf-berlin.example.org": 1,
    "baltmet-inno@spb.example.org": 90,
    "baltmet-inno@stockholm.example.org": 96,
    "baltmet-inno@stockholmbusinessregion.example.org": 1,
    "baltmet-inno@tallinn-enterprise.example.org": 1,
    "baltmet-inno@tallinn.example.org": 103,
    "baltmet-inno@tsb-berlin.example.org": 96,
    "baltmet-inno@vilnius.example.org": 1,
    "baltmet-inno@warsaw.example.org": 1,
    "baltmet-inno@wista.example.org": 1,
    "wp1@culminatum.example.org": 12,
}
SUBJECT = re.compile(r"\] (?P<milestone>WP\d-M\d) report v(?P<version>\d+)")


def docx_text(data: bytes) -> str:
    import io

    from docx import Document

    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def content_text(data: bytes) -> str:
    """What a report says, without the lines that name the day it was made."""
    return "\n".join(
        line
        for line in docx_text(data).splitlines()
        if not re.search(r"as of|generated|\d{4}-\d{2}-\d{2}T", line, re.IGNORECASE)
    )


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """The bundled inbox plus two arrivals after their reports went out: St. Petersburg's
    seed funding for WP4-M3, late (2006-09-01), and Berlin's WP3-M1 clusters corrected
    (2005-09-15). Then `collect_inbox` + `chase_day` for every day — what the daily flow does."""
    from schemas.settings import Settings
    from wpflow.final.stages import update_final_reports
    from wpflow.schedule.chase import chase_day, collect_inbox
    from wpflow.workspace import Workspace

    root = tmp_path_factory.mktemp("replay")
    inbox = root / "inbox"
    shutil.copytree(BUNDLED_PROJECT / "inbox", inbox)
    late = inbox / "st-petersburg" / "WP4-M3" / "seed_funding_st.csv"
    late.parent.mkdir(parents=True, exist_ok=True)
    late.write_bytes(seed_csv("Fund of St. Petersburg Start-ups", "3 000 000"))
    berlin = inbox / "berlin-tsb" / "WP3-M1"
    corrected = berlin / "pre_phase_clusters_berlin_corrected.xlsx"
    original = berlin / "pre_phase_clusters_berlin.xlsx"
    corrected.write_bytes(corrected_workbook(original))
    arrivals = yaml.safe_load((inbox / "arrivals.yaml").read_text(encoding="utf-8"))
    arrivals["st-petersburg/WP4-M3/seed_funding_st.csv"] = "2006-09-01"
    arrivals["berlin-tsb/WP3-M1/pre_phase_clusters_berlin_corrected.xlsx"] = "2005-09-15"
    (inbox / "arrivals.yaml").write_text(yaml.safe_dump(arrivals), encoding="utf-8")

    settings = Settings(
        project=BUNDLED_PROJECT, inbox=inbox, outputs=root / "outputs", stable_seconds=0, _env_file=None
    )
    ws = Workspace(settings)
    day = START
    from datetime import timedelta

    while day <= END:
        collect_inbox(ws, day)
        chase_day(ws, day)
        update_final_reports(ws, day)
        day += timedelta(days=1)
    mails = [parse_eml(p) for p in sorted((settings.outputs / "outbox" / "baltmet-inno").glob("*.eml"))]
    return ws, inbox, mails


def corrected_workbook(original: Path) -> bytes:
    """Berlin's workbook with one more cluster: the same file, corrected after the report."""
    import io

    from openpyxl import load_workbook

    wb = load_workbook(original)
    ws = next(s for s in wb.worksheets if s.sheet_state == "visible")
    last = [c.value for c in ws[ws.max_row]]
    ws.append([f"{last[0]} (extended)" if isinstance(last[0], str) else last[0], *last[1:]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report_mails(mails):
    out = []
    for m in mails:
        match = SUBJECT.search(m["Subject"])
        if match:
            out.append((match["milestone"], int(match["version"]), m["To"].addresses[0].addr_spec, m))
    return out


def test_one_email_per_milestone_recipient_and_version(replay, project):
    _, _, mails = replay
    sent = report_mails(mails)
    keys = [(mid, version, to) for mid, version, to, _ in sent]
    assert len(keys) == len(set(keys)), "a report e-mail went twice"
    by_version = defaultdict(set)
    for mid, version, to, _ in sent:
        by_version[(mid, version)].add(to)
    for (mid, version), recipients in by_version.items():
        expected = {p.emails[0] for p in project.recipients(project.milestone(mid))}
        assert recipients == expected, f"{mid} v{version} did not reach exactly its recipients"


def test_each_version_says_something_new(replay):
    _, _, mails = replay
    attachments = {}
    for mid, version, _, m in report_mails(mails):
        attachments.setdefault((mid, version), next(m.iter_attachments()).get_content())
    for (mid, version), data in attachments.items():
        if version > 1:
            assert content_text(data) != content_text(attachments[(mid, version - 1)]), (
                f"{mid} v{version} = v{version - 1}"
            )


def test_late_and_corrected_files_bring_exactly_one_update_naming_them(replay):
    _, _, mails = replay
    versions = defaultdict(set)
    for mid, version, _, _ in report_mails(mails):
        versions[mid].add(version)
    assert versions["WP4-M3"] == {1, 2, 3}  # due with 6 of 8, Malmö late (07-05), St. Petersburg later still
    assert versions["WP3-M1"] == {1, 2}  # complete early, then Berlin's correction
    bodies = {(mid, version): m.get_body(("plain",)).get_content() for mid, version, _, m in report_mails(mails)}
    malmo = bodies[("WP4-M3", 2)]
    assert "has changed since v1 of 30 June 2006" in malmo
    assert "Malmö (Public seed-funding schemes): new" in malmo and "Still missing: St. Petersburg" in malmo
    assert "St. Petersburg (Public seed-funding schemes): new" in bodies[("WP4-M3", 3)]
    assert "Berlin (" in bodies[("WP3-M1", 2)] and "replaced by version 2" in bodies[("WP3-M1", 2)]
    receipt = next(m for m in mails if "seed_funding_st.csv" in m["Subject"])
    assert "It will be in the updated WP4-M3 report, v3." in receipt.get_body(("plain",)).get_content()


def test_no_empty_report_goes_to_the_partners(replay, project):
    _ws, _, mails = replay
    reported = {mid for mid, _, _, _ in report_mails(mails)}
    assert reported == {"WP1-M1", "WP2-M1", "WP3-M1", "WP4-M1", "WP4-M3", "WP5-M3"}
    empty = [m for m in mails if "no inputs by the due date" in m["Subject"]]
    assert empty and all(SUBJECT.search(m["Subject"]) is None for m in empty)
    for m in empty:
        mid = m["Subject"].split("] ")[1].split(":")[0]
        wp = project.work_package(project.milestone(mid).wp_id)
        allowed = {project.participant(p).emails[0] for p in (wp.coordinator, project.lead)}
        assert {a.addr_spec for a in m["To"].addresses} <= allowed
    told = [(m["Subject"], m["To"].addresses[0].addr_spec) for m in empty]
    assert len(set(told)) == len(told), "the 'nothing arrived' notice went twice to someone"


def test_simulate_counts_the_same_report_versions_as_the_replay(replay, project):
    from wpflow.schedule.chase import inbox_deliveries, simulate

    _, inbox, mails = replay
    timeline = simulate(project, inbox_deliveries(project, inbox), START, END)
    simulated = defaultdict(int)
    for a in timeline:
        if a.action == "run" and a.release == "report":
            simulated[a.milestone] += 1
    replayed = defaultdict(set)
    for mid, version, _, _ in report_mails(mails):
        replayed[mid].add(version)
    assert dict(simulated) == {mid: len(v) for mid, v in replayed.items()}


def test_the_store_holds_each_version_and_the_runs_say_what_they_did(replay):
    ws, _, _ = replay
    versions = ws.store.versions(ws.project.name, "WP4-M3")
    assert [(v.version, v.status) for v in versions] == [(1, "incomplete"), (2, "incomplete"), (3, "complete")]
    history = ws.settings.reports_dir / "history"
    assert [Path(v.report.path) for v in versions] == [history / f"WP4-M3.v{n}.docx" for n in (1, 2, 3)]
    assert (ws.settings.reports_dir / "WP4-M3.docx").read_bytes() == (history / "WP4-M3.v3.docx").read_bytes()
    runs = ws.store.runs(ws.project.name, "WP4-M3")
    assert [r.status for r in runs] == ["incomplete", "incomplete", "completed"]
    assert runs[1].outcome.startswith("WP4-M3: report v2 issued (incomplete)")


@pytest.mark.parametrize(
    ("milestone", "first", "again"),
    [
        (
            "WP3-M1",
            "WP3-M1: report v1 issued (complete); 8 e-mail(s) sent",
            "WP3-M1: report unchanged since v1 of 2008-01-31, nothing sent",
        ),
        (
            "WP3-M2",
            (
                "WP3-M2: nothing usable arrived by 2005-12-31; no report to the partners, the WP coordinator and "
                "the lead are told instead; 2 e-mail(s) sent"
            ),
            "WP3-M2: nothing usable arrived by 2005-12-31; the WP coordinator and the lead were told before, nothing sent",
        ),
    ],
)
def test_wpflow_run_on_another_day_sends_nothing_and_says_why(tmp_path, milestone, first, again):
    """The demo's day, then a later one: `wpflow run` (the real app) sends nothing the second time."""
    from typer.testing import CliRunner

    from wpflow.cli.app import app

    env = {"WPFLOW_OUTPUTS": str(tmp_path / "outputs"), "WPFLOW_REPORT_PDF": "false", "COLUMNS": "200"}
    outbox, runs, mails = tmp_path / "outputs" / "outbox" / "baltmet-inno", [], []
    for day in ("2008-01-31", "2008-03-15"):
        runs.append(CliRunner().invoke(app, ["run", milestone, "--direct", "--as-of", day], env=env))
        mails.append(len(list(outbox.glob("*.eml"))))
    assert [r.exit_code for r in runs] == [0, 0], runs[0].output + runs[1].output
    assert first in runs[0].stdout and again in runs[1].stdout
    assert mails[0] > 0 and mails[1] == mails[0]


FINAL_SUBJECT = re.compile(r"\] (?P<report>WP\d|Joint) final report v(?P<version>\d+)")


def test_the_final_reports_follow_the_ladder_and_go_once_per_version_and_recipient(replay, project):
    """From each WP's end the daily ladder issues its final report, from the project's end the
    joint one; replayed every day after, none goes twice and a later version says it is one."""
    ws, _, mails = replay
    sent = [
        (match["report"], int(match["version"]), m["To"].addresses[0].addr_spec, m)
        for m in mails
        if (match := FINAL_SUBJECT.search(m["Subject"]))
    ]
    keys = [(report, version, to) for report, version, to, _ in sent]
    assert len(keys) == len(set(keys)), "a final report e-mail went twice"
    assert {report for report, *_ in sent} == {"WP1", "WP2", "WP3", "WP4", "WP5", "Joint"}
    assert all("(updated)" in m["Subject"] for _, version, _, m in sent if version > 1)
    everyone = {p.emails[0] for p in project.participants}
    assert {to for report, _, to, _ in sent if report == "Joint"} == everyone
    stored = [n for n in ws.store.notifications(project.name) if n.kind in ("wp-report", "final-report")]
    assert len(stored) == len(sent)


def test_each_person_gets_one_message_per_event_over_the_three_years(replay, project):
    """Three years of the daily ladder, counted per person from the store's e-mail rows and the
    outbox: one copy of each event (a report version, a receipt, a ladder rung, a notice) and
    nobody in anybody else's Cc — the lead partner's count is its own events, not everyone's."""
    ws, _, mails = replay
    rows = [n for n in ws.store.notifications(project.name) if n.sent_at is not None]
    events: dict[str, list[tuple]] = defaultdict(list)
    for n in rows:
        events[n.recipient].append((n.milestone, n.kind, n.report_version, n.submission_sha256, n.rung))
    for person, seen in events.items():
        twice = sorted({e for e in seen if seen.count(e) > 1}, key=str)
        assert not twice, f"{person} got these twice: {twice[:5]}"
    outbox: dict[str, int] = defaultdict(int)
    for m in mails:
        assert not m["Cc"], f"{m['Subject']}: a copy in Cc"
        for address in m["To"].addresses:
            outbox[address.addr_spec] += 1
    counts = {person: len(seen) for person, seen in sorted(events.items())}
    assert counts == dict(sorted(outbox.items())), "the outbox and the store disagree"
    assert counts == EXPECTED_PER_PERSON, counts
