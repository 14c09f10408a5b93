"""The evidence resuming rests on, on SQLite and PostgreSQL: who owns a claim, when a
claim is taken over, runs whose process died marked crashed, the receipt queue's back-off. The
faults themselves: tests/faults/test_faults_resume.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


# -- the evidence: owners, takeovers, crashed runs, the queue (SQLite and PostgreSQL) ------
def exited_owner() -> str:
    """A process of this host and boot that has exited (and been reaped)."""
    from wpflow.store.claim_owner import Owner, me

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return Owner(me().host, me().boot_id, gone.pid, 1).token


def foreign_owner() -> str:
    return "another-host|boot|4242|1"


def test_is_dead_needs_proof():
    from wpflow.store.claim_owner import Owner, is_dead, me

    assert not is_dead(me().token) and not is_dead(None) and not is_dead("garbage")
    assert is_dead(exited_owner())
    assert is_dead(Owner(me().host, me().boot_id, os.getpid(), me().started + 1).token), "a reused pid"
    assert is_dead(Owner(me().host, "an-earlier-boot", os.getpid(), me().started).token), "a reboot"
    assert not is_dead(foreign_owner()), "another host cannot be checked: the clock decides"


def set_owner(store, table: str, owner: str) -> None:
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET owner = :o"), {"o": owner})


@pytest.mark.parametrize(
    ("owner", "timeout_min", "taken"),
    [
        (exited_owner, 15, True),
        (lambda: None, 15, False),
        (foreign_owner, 15, False),
        (foreign_owner, 0, True),
    ],
    ids=[
        "dead owner: at once",
        "alive (this process): no",
        "other host: not before the timeout",
        "other host: after the timeout",
    ],
)
def test_an_unfinished_claim_is_taken_over_when_its_owner_is_provably_dead(db_url, owner, timeout_min, taken):
    from datetime import timedelta

    from wpflow.store.store import Store

    store = Store(db_url, claim_timeout=timedelta(minutes=timeout_min))
    assert store.claim_notification(
        "k", project="P", milestone="M", recipient="r@x.org", kind="report", message_id="<k@x.org>"
    )
    assert store.claim("run:k", project="P", milestone="M")
    if owner() is not None:
        set_owner(store, "notifications", owner())
        set_owner(store, "claims", owner())
    again = store.claim_notification(
        "k", project="P", milestone="M", recipient="r@x.org", kind="report", message_id="<k@x.org>"
    )
    assert again is taken
    assert store.claim("run:k", project="P", milestone="M") is (taken and timeout_min == 15)  # runs: evidence only
    [claim] = store.notifications("P", include_unsent=True)
    assert claim.message_id == "<k@x.org>", "the Message-ID is recorded before the send"
    store.close()


def test_a_run_whose_process_died_is_marked_crashed_by_the_next_run_of_its_milestone(db_url):
    from wpflow.store.store import Store

    store = Store(db_url)
    killed = store.start_run("P", "M", None)
    set_owner(store, "milestone_runs", exited_owner())
    other = store.start_run("P", "N", None)  # another milestone's run does not look
    assert [r.status for r in store.runs("P")] == ["running", "running"]
    store.start_run("P", "M", None)
    runs = {r.id: r for r in store.runs("P")}
    assert runs[killed].status == "crashed" and "died" in runs[killed].error
    assert runs[other].status == "running", "only provably dead owners"
    store.close()


def test_the_receipt_queue_backs_off_and_clears(db_url):
    from datetime import timedelta

    from wpflow.store.orm import utcnow
    from wpflow.store.receipt_queue import backoff
    from wpflow.store.store import Store

    assert [backoff(n, 2, 60).total_seconds() for n in (1, 2, 3, 6, 7)] == [2, 4, 8, 60, 60]
    store = Store(db_url)
    store.defer_receipt("P", "riga/M/a.csv", "SMTP down", first=2, cap=60)
    retry = store.defer_receipt("P", "riga/M/a.csv", "SMTP still down", first=2, cap=60)
    assert (retry.attempts, retry.last_error) == (2, "SMTP still down")
    assert store.due_receipts("P") == []
    assert [r.path for r in store.due_receipts("P", utcnow() + timedelta(seconds=5))] == ["riga/M/a.csv"]
    store.clear_receipt_retry("P", "riga/M/a.csv")
    assert store.queued_receipts("P") == []
    store.close()
