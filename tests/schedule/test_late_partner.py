"""The late partner is told itself, a missed rung is caught up once, the lead hears the truth.

WP4-M3 (seed funding, due 30 June 2006; WP4 co-ordinator Stockholm, lead Helsinki) replayed
as the daily ladder ran in the field — not every day: `wpflow deadlines --as-of D --direct` on
15 June, 17 June (the 16 June run did not happen), 27 June, 1 July, 5 July and 7 July, each
day twice. Every partner delivers on time but Riga (on 3 July, late) and St. Petersburg
(never). What is checked is what went out: the store's notification rows and the .eml bytes.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import parse_eml
from tests.uploads import put, seed_csv
from wpflow.cli.app import app

SPB = "baltmet-inno@spb.example.org"
RIGA = "baltmet-inno@riga.example.org"
LEAD = "baltmet-inno@helsinki.example.org"
COORDINATOR = "baltmet-inno@stockholm.example.org"
ON_TIME = ["berlin-tsb", "copenhagen", "helsinki", "malmo", "stockholm", "tallinn"]
DAYS = ["2006-06-15", "2006-06-17", "2006-06-27", "2006-07-01", "2006-07-05", "2006-07-07"]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The six days, each run twice: per day the ladder letters of WP4-M3 (kind, rung,
    recipient), the e-mails to anyone as .eml paths, and what the second run sent."""
    from schemas.settings import Settings
    from tests.conftest import BUNDLED_PROJECT

    root = tmp_path_factory.mktemp("late_partner")
    inbox = root / "inbox"
    arrivals = []
    for partner in ON_TIME:
        put(inbox, partner, "WP4-M3", f"seed_funding_{partner}.csv", seed_csv(f"{partner} seed fund"))
        arrivals.append(f"{partner}/WP4-M3/seed_funding_{partner}.csv: 2006-06-12")
    put(inbox, "riga", "WP4-M3", "seed_funding_riga.csv", seed_csv("Riga Seed"))
    arrivals.append("riga/WP4-M3/seed_funding_riga.csv: 2006-07-03")
    (inbox / "arrivals.yaml").write_text("\n".join(arrivals) + "\n")

    env = {
        "WPFLOW_PROJECT": str(BUNDLED_PROJECT),
        "WPFLOW_OUTPUTS": str(root / "outputs"),
        "WPFLOW_INBOX": str(inbox),
        "WPFLOW_STABLE_SECONDS": "0",
        "WPFLOW_REPORT_PDF": "false",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        settings = Settings(_env_file=None)
        from wpflow.workspace import workspace

        outbox = settings.outbox_dir
        days: dict[str, dict] = {}
        for day in DAYS:
            before = set(outbox.glob("*.eml")) if outbox.is_dir() else set()
            rows_before = len(workspace(settings=settings).store.notifications("BaltMet Inno", "WP4-M3"))
            args = ["deadlines", "--as-of", day, "--direct", "--format", "json"]
            first = CliRunner().invoke(app, args)
            assert first.exit_code == 0, first.output
            again = CliRunner().invoke(app, args)
            assert again.exit_code == 0, again.output
            rows = workspace(settings=settings).store.notifications("BaltMet Inno", "WP4-M3")[rows_before:]
            days[day] = {
                "letters": [(r.kind, r.rung, r.recipient) for r in rows if r.rung],
                "kinds": [(r.kind, r.recipient) for r in rows],
                "emls": sorted(set(outbox.glob("*.eml")) - before),
                "again": [a for a in json.loads(again.stdout)["actions"] if a["sent"]],
            }
        days["store"] = workspace(settings=settings).store
        days["inbox"] = inbox
        yield days


def letters_to(replay: dict, day: str, address: str) -> list[tuple[str, str]]:
    return [(kind, rung) for kind, rung, to in replay[day]["letters"] if to == address]


def mail(replay: dict, day: str, address: str, kind_words: str):
    [found] = [
        m
        for m in (parse_eml(p) for p in replay[day]["emls"])
        if m["To"].addresses[0].addr_spec == address and "WP4-M3" in m["Subject"] and kind_words in m["Subject"]
    ]
    return found


def test_st_petersburg_is_told_itself_day_by_day(replay):
    assert {day: letters_to(replay, day, SPB) for day in DAYS} == {
        "2006-06-15": [],  # T-15: nothing due yet
        "2006-06-17": [("reminder", "T-14")],  # the 16 June run did not happen: caught up, once
        "2006-06-27": [("reminder", "T-3")],
        "2006-07-01": [("overdue", "T+1")],  # the late partner itself
        "2006-07-05": [("last_call", "T+5")],
        "2006-07-07": [],  # the lead is told now, not St. Petersburg again
    }
    # every e-mail St. Petersburg got that day, reports included (v1 on 1 July, v2 on 5 July)
    per_day = {day: [k for k, to in replay[day]["kinds"] if to == SPB] for day in DAYS}
    assert per_day == {
        "2006-06-15": [],
        "2006-06-17": ["reminder"],
        "2006-06-27": ["reminder"],
        "2006-07-01": ["report", "overdue"],  # the run first: the letter can say the report went
        "2006-07-05": ["report", "last_call"],
        "2006-07-07": [],
    }


def test_the_coordinator_and_the_lead_are_told_on_their_days(replay):
    assert letters_to(replay, "2006-07-01", COORDINATOR) == [("notice", "T+1")]
    assert letters_to(replay, "2006-07-07", LEAD) == [("escalation", "T+7")]
    everyone = [letter for day in DAYS for letter in replay[day]["letters"]]
    assert len(everyone) == len(set(everyone)), "a letter went twice"


def test_a_rerun_on_any_day_sends_nothing_more(replay):
    assert {day: replay[day]["again"] for day in DAYS} == {day: [] for day in DAYS}


def test_a_partner_who_delivers_stops_getting_letters(replay):
    """Riga delivers on 3 July: reminded and told it is overdue before, no last call after."""
    riga = [(day, letter) for day in DAYS for letter in letters_to(replay, day, RIGA)]
    assert riga == [
        ("2006-06-17", ("reminder", "T-14")),
        ("2006-06-27", ("reminder", "T-3")),
        ("2006-07-01", ("overdue", "T+1")),
    ]


def test_the_overdue_notice_says_what_is_missing_and_how_to_deliver(replay):
    msg = mail(replay, "2006-07-01", SPB, "was due on 30 June 2006")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    attached = [part.get_filename() for part in msg.iter_attachments()]
    assert attached == ["WP4-M3_seed_funding_st-petersburg.xlsx"]  # the template of what it owes
    for body in (text.replace(attached[0], "the template"), html.replace(attached[0], "the template")):
        assert "The template to fill in is attached" in body
        assert "City of St. Petersburg" in body and "(St. Petersburg)" in body
        assert "was due on 30 June 2006" in body
        assert "Public seed-funding schemes" in body
        assert "inbox/st-petersburg/WP4-M3/" in body
        assert "The WP4-M3 report went out on 1 July 2006 with your input marked as missing" in body
        assert "before 7 July 2006" in body  # when the lead partner will be told
        assert "2006-06-30" not in body and "UTC" not in body and "seed_funding" not in body


def test_the_late_partners_letters_are_addressed_like_every_other_message(replay):
    """Display names, replies to the WP coordinator, and a rehearsal that says so."""
    msg = mail(replay, "2006-07-01", SPB, "was due on 30 June 2006")
    assert msg["To"].addresses[0].display_name.startswith("City of St. Petersburg")
    assert msg["From"].addresses[0].display_name
    [reply] = msg["Reply-To"].addresses
    assert "Stockholm" in reply.display_name  # WP4's coordinator answers questions about WP4-M3
    assert msg.get_body(("plain",)).get_content().startswith("Rehearsal: ")


def test_the_last_call_names_the_day_the_lead_is_told(replay):
    msg = mail(replay, "2006-07-05", SPB, "last call")
    assert msg["Subject"] == "[BaltMet Inno] WP4-M3: last call for your input before 7 July 2006"
    text = msg.get_body(("plain",)).get_content()
    assert "5 days later we still have nothing from St. Petersburg" in text
    assert (
        "your folder inbox/st-petersburg/WP4-M3/ on the project's shared drive. Please send it before 7 July 2006"
        in text
    )
    # v2 (Riga's late file) went out the same morning, before this letter was written
    assert "went out on 1 July 2006 with your input marked as missing, and again as version 2 on 5 July 2006" in text
    assert "Riga" not in text


def test_the_escalation_says_what_has_already_been_sent(replay):
    msg = mail(replay, "2006-07-07", LEAD, "still late")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert not list(msg.iter_attachments())  # the lead is told, not asked to fill anything in
    for body in (text, html):
        assert "City of St. Petersburg, Committee for Economic Development" in body
        assert "Public seed-funding schemes" in body
        assert (
            "The WP4-M3 report went out on 1 July 2006 with their input marked as missing, and again as "
            "version 2 on 5 July 2006; a late input will make a new version." in body
        )
        assert "will go out with" not in body  # the old promise, false after v1 and v2
        assert "Riga" not in body  # delivered on 3 July


def test_simulate_lists_the_letters_the_daily_runs_sent(replay, project):
    """The rehearsal of the same inbox runs every day, so the T-14 goes on the 16th, not the
    17th — but who gets which letter is the same."""
    from wpflow.schedule.chase import inbox_deliveries, simulate

    store = replay["store"]
    timeline = simulate(project, inbox_deliveries(project, replay["inbox"]), date(2006, 6, 1), date(2006, 7, 31))
    emails = {p.id: p.emails[0] for p in project.participants}
    rehearsed = {
        (a.action, a.rung, emails[pid])
        for a in timeline
        if a.milestone == "WP4-M3" and a.action != "run"
        for pid in a.recipients
    }
    sent = {(r.kind, r.rung, r.recipient) for r in store.notifications("BaltMet Inno", "WP4-M3") if r.rung}
    assert rehearsed == sent


def test_a_missed_rung_is_not_caught_up_once_the_next_one_is_due(project):
    """The issue's own replay skipped 16 June and ran next on 27 June: T-3's day, so the T-14
    reminder is not sent late beside it (the T-3 says the same, truer)."""
    from wpflow.schedule.ladder import Delivery, actions_on

    milestone = project.milestone("WP4-M3")
    nothing: list[Delivery] = []
    rungs = [(a.action, a.rung) for a in actions_on(project, milestone, nothing, date(2006, 6, 27))]
    assert rungs == [("reminder", "T-3")]
    rungs = [(a.action, a.rung) for a in actions_on(project, milestone, nothing, date(2006, 6, 26))]
    assert rungs == [("reminder", "T-14")]


def test_an_escalation_before_any_report_says_none_went(project):
    from wpflow.schedule.messages import report_so_far

    milestone = project.milestone("WP4-M3")
    words = report_so_far(project, milestone, [], date(2006, 7, 7), whose="their inputs", then="-")
    assert words == "No WP4-M3 report has gone out yet; when one does, it will mark their inputs as missing."


def test_the_eml_files_are_the_letters(replay):
    """One .eml per letter and report: the outbox holds what the store says went."""
    for day in DAYS:
        assert len(replay[day]["emls"]) >= len(replay[day]["kinds"])
    assert all(Path(p).stat().st_size > 0 for day in DAYS for p in replay[day]["emls"])


def test_a_failing_run_does_not_keep_the_late_partner_from_being_told(configure, tmp_path):
    """The run goes before the day's letters; when it fails, the letters still go (saying no
    report went out) and the error is raised after them."""
    from wpflow.schedule.chase import chase_day, collect_inbox
    from wpflow.workspace import workspace

    inbox = tmp_path / "inbox"
    put(inbox, "helsinki", "WP4-M3", "seed_funding_helsinki.csv", seed_csv("Helsinki Start-up Grant"))
    (inbox / "arrivals.yaml").write_text("helsinki/WP4-M3/seed_funding_helsinki.csv: 2006-06-10\n")
    configure(inbox=inbox, stable_seconds=0)
    ws = workspace()
    day = date(2006, 7, 1)
    collect_inbox(ws, day)

    def start(milestone_id: str, as_of: date | None) -> str:
        if milestone_id == "WP4-M3":
            raise RuntimeError("the renderer broke")
        return f"run-{milestone_id}"

    with pytest.raises(RuntimeError, match="the renderer broke"):
        chase_day(ws, day, start_pipeline=start)
    letters = {(n.kind, n.recipient) for n in ws.store.notifications(ws.project.name, "WP4-M3")}
    assert ("overdue", SPB) in letters and ("notice", COORDINATOR) in letters
    [overdue] = [
        m
        for m in (parse_eml(p) for p in ws.settings.outbox_dir.glob("*.eml"))
        if m["To"].addresses[0].addr_spec == SPB and "WP4-M3" in m["Subject"]
    ]
    assert "No WP4-M3 report has gone out yet" in overdue.get_body(("plain",)).get_content()


def test_a_reminder_carries_the_template_of_what_is_owed(replay):
    msg = mail(replay, "2006-06-27", SPB, "reminder")
    assert [part.get_filename() for part in msg.iter_attachments()] == ["WP4-M3_seed_funding_st-petersburg.xlsx"]
    text = msg.get_body(("plain",)).get_content()
    assert "The template to fill in is attached: WP4-M3_seed_funding_st-petersburg.xlsx." in text
