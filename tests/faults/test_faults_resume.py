"""The fault table of resuming (issue 13): each row a setup, a fault, and what must follow.

| fault | expected |
|---|---|
| kill -9 during a send (SMTP stalls mid-DATA) | the next run sends the missing e-mail exactly once; the killed run is "crashed" |
| SMTP down during a milestone run | the report is written; every e-mail is delivered once by the next run |
| SMTP down during drops (real aiosmtpd, stopped and restarted on the same port) | every receipt arrives, no restart (through Prefect: tests/inbox/test_watch.py) |
| 503 from the Prefect API during a burst (a receiver failing first; on a real batch run: tests/inbox/test_watch.py) | retried from the queue, nothing lost |
| kill -9 of `wpflow run` / of a `prefect server start` parent | no uvicorn/Prefect server child alive seconds later |
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest

from schemas.settings import ROOT, Settings
from tests.conftest import BUNDLED_PROJECT, SmtpSink
from tests.inbox.test_watch import MILESTONE, SENDERS, drop, running_watcher, wait_for
from tests.schedule.test_chase import seed_csv

AS_OF = date(2006, 7, 31)  # WP4-M3 is due: a report v1 with receipts first (bundled inbox)


# -- harness -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_on(handler, port: int) -> Iterator[int]:
    """A real aiosmtpd server on a fixed port (so it can be stopped and started again there)."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class StallingSink(SmtpSink):
    """Accepts `stall_after` messages, then never answers the next DATA (a hung relay)."""

    def __init__(self, stall_after: int) -> None:
        super().__init__(host="127.0.0.1", port=0)
        self.stall_after = stall_after
        self.stalled = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if len(self.envelopes) >= self.stall_after:
            self.stalled.set()
            await asyncio.sleep(3600)
        return await super().handle_DATA(server, session, envelope)


def smtp_settings(outputs: Path, port: int, **extra) -> Settings:
    return Settings(
        project=BUNDLED_PROJECT,
        outputs=outputs,
        mail_transport="smtp",
        smtp_port=port,
        smtp_timeout=60,
        _env_file=None,
        **extra,
    )


def child_env(**wpflow: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WPFLOW_", "PREFECT_API_URL"))}
    return {**env, "WPFLOW_PROJECT": str(BUNDLED_PROJECT), "WPFLOW_REPORT_PDF": "false", **wpflow}


SEND_IN_CHILD = """
import datetime, sys
from wpflow.milestone.direct_run import run_direct
from wpflow.workspace import workspace
run_direct(workspace(), "WP4-M3", datetime.date(2006, 7, 31))
"""


# -- kill -9 during a send ----------------------------------------------------------------
@pytest.mark.system
@pytest.mark.parametrize("stall_after", [0, 4], ids=["first-send", "fifth-send"])
def test_kill_9_during_a_send_next_run_sends_the_missing_email_once_and_marks_the_run_crashed(tmp_path, stall_after):
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import workspace

    outputs, port = tmp_path / "outputs", free_port()
    hung = StallingSink(stall_after)
    with smtp_on(hung, port):
        child = subprocess.Popen(
            [sys.executable, "-c", SEND_IN_CHILD],
            cwd=ROOT,
            env=child_env(
                WPFLOW_OUTPUTS=str(outputs),
                WPFLOW_MAIL_TRANSPORT="smtp",
                WPFLOW_SMTP_PORT=str(port),
                WPFLOW_SMTP_TIMEOUT="60",
            ),
        )
        try:
            assert hung.stalled.wait(120), "the child never reached the stalled send"
        finally:
            child.kill()
            child.wait()
    first = {m["Message-ID"] for m in hung.messages}
    assert len(first) == stall_after

    sink = SmtpSink(host="127.0.0.1", port=0)
    with smtp_on(sink, port):
        ws = workspace(settings=smtp_settings(outputs, port))
        outcome = run_direct(ws, MILESTONE, AS_OF)
    again = [m["Message-ID"] for m in sink.messages]
    assert len(again) == len(set(again)) and not first & set(again), "no e-mail twice"
    claimed = ws.store.notifications(ws.project.name, MILESTONE, include_unsent=True)
    assert all(n.sent for n in claimed), "the interrupted send was not left claimed"
    assert {n.message_id for n in claimed} == first | set(again), "every e-mail the store knows went out once"
    assert outcome.report is not None and Path(outcome.report.path).is_file()
    runs = ws.store.runs(ws.project.name, MILESTONE)
    assert [r.status for r in runs] == ["crashed", "incomplete"]
    assert "died" in (runs[0].error or "")


# -- SMTP down during a milestone run -----------------------------------------------------
def test_smtp_down_during_a_run_writes_the_report_and_the_next_run_delivers_every_email_once(tmp_path):
    from wpflow.mail.transports import TransientMailError
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import workspace

    outputs, port = tmp_path / "outputs", free_port()  # nothing listens there: connection refused
    ws = workspace(settings=smtp_settings(outputs, port))
    with pytest.raises(TransientMailError):
        run_direct(ws, MILESTONE, AS_OF)
    assert (outputs / "reports" / "baltmet-inno" / f"{MILESTONE}.docx").is_file(), "the report does not wait for mail"
    assert ws.store.notifications(ws.project.name, MILESTONE) == []

    sink = SmtpSink(host="127.0.0.1", port=0)
    with smtp_on(sink, port):
        run_direct(ws, MILESTONE, AS_OF)
        run_direct(ws, MILESTONE, AS_OF)  # and once more: nothing twice
    ids = [m["Message-ID"] for m in sink.messages]
    assert ids and len(ids) == len(set(ids))
    assert sorted(ids) == sorted(n.message_id for n in ws.store.notifications(ws.project.name, MILESTONE))
    assert any("report" in m["Subject"] for m in sink.messages)
    assert [r.status for r in ws.store.runs(ws.project.name, MILESTONE)] == ["failed", "incomplete", "incomplete"]


# -- the watcher under faults -------------------------------------------------------------
@pytest.fixture
def quick_retries(inbox, monkeypatch):
    monkeypatch.setenv("WPFLOW_RECEIPT_RETRY_SECONDS", "0.5")
    monkeypatch.setenv("WPFLOW_RECEIPT_RETRY_MAX_SECONDS", "2")
    return inbox


def test_smtp_down_during_drops_every_receipt_arrives_when_it_returns_without_a_restart(quick_retries, monkeypatch):
    from tests.inbox.test_watch import ws

    inbox, port = quick_retries, free_port()
    monkeypatch.setenv("WPFLOW_MAIL_TRANSPORT", "smtp")
    monkeypatch.setenv("WPFLOW_SMTP_PORT", str(port))
    sink = SmtpSink(host="127.0.0.1", port=0)
    names = [(partner, f"seed_funding_down_{i}.csv") for i, partner in enumerate(SENDERS[:3])]
    with running_watcher():  # one watcher throughout: SMTP goes away and comes back under it
        for partner, name in names:
            drop(inbox, partner, name, seed_csv(f"Scheme {name}"))
        wait_for(lambda: len(ws().store.queued_receipts(ws().project.name)) == 3, what="three queued receipts")
        time.sleep(3)  # SMTP stays down across several retries
        with smtp_on(sink, port):
            wait_for(lambda: len(sink.messages) == 3, timeout=30, what="three receipts after SMTP returned")
            wait_for(lambda: not ws().store.queued_receipts(ws().project.name), what="an empty queue")
            time.sleep(1)  # and nothing more
    assert len(sink.messages) == 3
    assert sorted(m["To"].addresses[0].addr_spec for m in sink.messages) == sorted(
        ws().project.participant(partner).emails[0] for partner, _ in names
    )


@pytest.mark.parametrize("failures", [1, 3])
def test_a_503_from_the_api_during_a_burst_is_retried_not_lost(quick_retries, failures):
    """A fake receiver stands in for `receive_upload_run`: its first calls per file fail the way
    Prefect's client fails on POST /api/flow_runs/ (HTTPStatusError 503); a real 503 needs an
    overloaded server, which is impractical here."""
    from tests.inbox.test_watch import outbox_files, ws
    from wpflow.inbox.watch import receive_file

    inbox, calls, lock = quick_retries, {}, threading.Lock()

    def busy_api(item):
        with lock:
            calls[item.path.name] = calls.get(item.path.name, 0) + 1
            attempt = calls[item.path.name]
        if attempt <= failures:
            request = httpx.Request("POST", "http://127.0.0.1:4200/api/flow_runs/")
            raise httpx.HTTPStatusError(
                "Server error '503 Service Unavailable' for url 'http://127.0.0.1:4200/api/flow_runs/'",
                request=request,
                response=httpx.Response(503, request=request),
            )
        return receive_file(ws(), item)

    names = [f"seed_funding_burst_{i}.csv" for i in range(20)]
    with running_watcher(busy_api):
        for i, name in enumerate(names):
            drop(inbox, SENDERS[i % len(SENDERS)], name, seed_csv(f"Scheme B{i}"))
        wait_for(lambda: len(outbox_files()) == len(names), timeout=60, what="a receipt per file")
        wait_for(lambda: not ws().store.queued_receipts(ws().project.name), what="an empty queue")
    assert all(calls[n] == failures + 1 for n in names)


def test_the_retry_queue_survives_a_restart(quick_retries, monkeypatch):
    """A receipt queued by one watcher is sent by the next one (the queue is in the store)."""
    from tests.inbox.test_watch import outbox_files, ws

    inbox = quick_retries

    def down(item):
        raise ConnectionRefusedError("SMTP server 127.0.0.1:25 is unreachable")

    with running_watcher(down):
        drop(inbox, "riga", "seed_funding_restart.csv", seed_csv("Scheme R"))
        wait_for(lambda: ws().store.queued_receipts(ws().project.name), what="a queued receipt")
    [queued] = ws().store.queued_receipts(ws().project.name)
    assert queued.path == f"riga/{MILESTONE}/seed_funding_restart.csv" and "unreachable" in queued.last_error
    with running_watcher():
        wait_for(lambda: len(outbox_files()) == 1, what="the receipt after the restart")
        wait_for(lambda: not ws().store.queued_receipts(ws().project.name), what="an empty queue")


# -- orphans ------------------------------------------------------------------------------
def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "uvicorn" in line or "prefect" in line]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


SERVER_IN_CHILD = """
import sys, time
from pathlib import Path
from orchestration.serve import prefect_server
with prefect_server(int(sys.argv[1]), Path(sys.argv[2])):
    print("up", flush=True)
    time.sleep(600)
"""


@pytest.mark.system
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("parent", ["wpflow run (ephemeral API)", "prefect server start"])
def test_a_prefect_server_dies_with_its_parent_killed_with_sigkill(tmp_path, parent):
    env = child_env(
        WPFLOW_OUTPUTS=str(tmp_path / "outputs"),
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )
    if parent.startswith("wpflow"):
        cmd = [str(Path(sys.executable).parent / "wpflow"), "run", "--all", "--as-of", "2008-01-31"]
    else:
        cmd = [sys.executable, "-c", SERVER_IN_CHILD, str(free_port()), str(tmp_path / "prefect")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (servers := children(proc.pid)):
            assert proc.poll() is None and time.monotonic() < deadline, "no server child started"
            time.sleep(0.2)
        time.sleep(2)  # well into its start-up (or serving)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in servers if alive(pid)]
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{parent}: server process(es) {left} outlived their parent"


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
