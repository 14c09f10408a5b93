"""The deadline ladder as a table: who gets what on which day (WP4-M3, due 2006-06-30)."""

from __future__ import annotations

from datetime import date

import pytest

from wpflow.schedule.ladder import Delivery, actions_on, outstanding_on

OTHERS = ["berlin-tsb", "copenhagen", "malmo", "stockholm", "st-petersburg", "tallinn"]
OVERDUE = ["berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg", "tallinn"]
DELIVERIES = [
    Delivery("helsinki", "seed_funding", date(2006, 6, 10), valid=True),
    Delivery("riga", "seed_funding", date(2006, 6, 20), valid=False),
]


def _summary(actions):
    return [(a.action, a.rung, a.recipients) for a in actions]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2006-06-15", []),  # T-15: nothing yet
        (
            "2006-06-16",
            [
                (
                    "reminder",
                    "T-14",
                    ["berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg", "tallinn"],
                )
            ],
        ),
        (
            "2006-06-21",
            [
                (
                    "reminder",
                    "T-14",
                    ["berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg", "tallinn"],
                )
            ],
        ),  # catch-up: same key, sent once
        (
            "2006-06-27",
            [
                (
                    "reminder",
                    "T-3",
                    ["berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg", "tallinn"],
                )
            ],
        ),
        (
            "2006-06-30",
            [
                (
                    "reminder",
                    "T-3",
                    ["berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg", "tallinn"],
                ),
                ("run", "due", []),
            ],
        ),
        # T+1: the late partners themselves (Riga's file is invalid) and the WP4 co-ordinator
        (
            "2006-07-01",
            [("overdue", "T+1", OVERDUE), ("notice", "T+1", ["stockholm"]), ("run", "due", [])],
        ),
        # a missed T+1 is caught up until the next rung's day...
        (
            "2006-07-04",
            [("overdue", "T+1", OVERDUE), ("notice", "T+1", ["stockholm"]), ("run", "due", [])],
        ),
        # ...when the last call takes over, itself in force until the lead is told
        ("2006-07-05", [("last_call", "T+5", OVERDUE), ("run", "due", [])]),
        ("2006-07-06", [("last_call", "T+5", OVERDUE), ("run", "due", [])]),
        ("2006-07-07", [("escalation", "T+7", ["helsinki"]), ("run", "due", [])]),  # lead partner
        ("2006-07-20", [("escalation", "T+7", ["helsinki"]), ("run", "due", [])]),  # last catch-up day
        ("2006-07-21", [("run", "due", [])]),
        # long past: nobody is chased any more, but a run stays due — its key (the content of the
        # inputs) makes it happen once, and a late file (new content) brings the next version
        ("2006-08-30", [("run", "due", [])]),
    ],
)
def test_ladder(project, day, expected):
    milestone = project.milestone("WP4-M3")
    actions = actions_on(project, milestone, DELIVERIES, date.fromisoformat(day))
    assert _summary(actions) == expected


def test_reminders_name_what_is_outstanding(project):
    milestone = project.milestone("WP4-M3")
    out = outstanding_on(project, milestone, DELIVERIES, date(2006, 6, 27))
    assert out["riga"] == ["seed_funding (invalid)"]
    assert out["tallinn"] == ["seed_funding"]
    assert "helsinki" not in out


def test_a_fixed_file_stops_the_reminders(project):
    milestone = project.milestone("WP4-M3")
    fixed = [*DELIVERIES, Delivery("riga", "seed_funding", date(2006, 6, 25), valid=True, version=2)]
    assert "riga" not in outstanding_on(project, milestone, fixed, date(2006, 6, 27))


def test_everything_delivered_runs_early_and_stops_the_ladder(project):
    milestone = project.milestone("WP4-M3")
    everyone = [Delivery(p, "seed_funding", date(2006, 6, 5), True) for p in ["helsinki", "riga", *OTHERS]]
    assert _summary(actions_on(project, milestone, everyone, date(2006, 6, 16))) == [("run", "complete", [])]
    assert _summary(actions_on(project, milestone, everyone, date(2006, 7, 7))) == [("run", "due", [])]


def run_key_on(project, deliveries, day):
    [run] = [a for a in actions_on(project, project.milestone("WP4-M3"), deliveries, day) if a.action == "run"]
    return run.key, run.release


def test_a_run_is_keyed_by_the_content_of_the_inputs_not_the_day(project):
    due = run_key_on(project, DELIVERIES, date(2006, 6, 30))
    assert due == run_key_on(project, DELIVERIES, date(2006, 9, 1)) and due[1] == "report"
    late = [*DELIVERIES, Delivery("malmo", "seed_funding", date(2006, 7, 5), True, sha256="m" * 64)]
    assert run_key_on(project, late, date(2006, 7, 4)) == due, "not arrived yet on 07-04"
    assert run_key_on(project, late, date(2006, 7, 5))[0] != due[0]


def test_nothing_delivered_at_the_due_date_is_an_empty_run_not_a_report(project):
    only_invalid = [Delivery("riga", "seed_funding", date(2006, 6, 20), valid=False)]
    assert run_key_on(project, only_invalid, date(2006, 6, 30))[1] == "empty"
    assert [
        a
        for a in actions_on(project, project.milestone("WP4-M3"), only_invalid, date(2006, 6, 29))
        if a.action == "run"
    ] == []
