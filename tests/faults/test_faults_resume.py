"""The fault table of resuming: each row a setup, a fault, and what must follow.

| fault | expected |
|---|---|
| kill -9 during a send (SMTP stalls mid-DATA) | the next run sends the missing e-mail exactly once; the killed run is "crashed" |
| SMTP down during a milestone run | the report is written; every e-mail is delivered once by the next run |
| SMTP down during drops (real aiosmtpd, stopped and restarted on the same port) | every receipt arrives, no restart (through Prefect: tests/inbox/test_watch_prefect.py) |
| 503 from the Prefect API during a burst (a receiver failing first; on a real batch run: tests/inbox/test_watch_prefect.py) | retried from the queue, nothing lost |
| kill -9 of `wpflow run` / of a `prefect server start` parent | no uvicorn/Prefect server child alive seconds later |
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from schemas.settings import ROOT, Settings
from tests.conftest import BUNDLED_PROJECT
from tests.settings_env import child_env
from tests.smtp import SmtpSink, StallingSink, free_port, smtp_on
from tests.uploads import seed_csv
from tests.waiting import wait_for
from tests.watching import (
    MILESTONE,
    SENDERS,
    api_busy,
    drop,
    outbox_files,
    queued_receipts,
    running_watcher,
    settle,
    ws,
)

AS_OF = date(2006, 7, 31)  # WP4-M3 is due: a report v1 with receipts first (bundled inbox)


# -- harness -----------------------------------------------------------------------------
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
            env=child_env(smtp_settings(outputs, port)),
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
def quick_retries(inbox, configure):
    configure(receipt_retry_seconds=0.5, receipt_retry_max_seconds=2)
    return inbox


def test_smtp_down_during_drops_every_receipt_arrives_when_it_returns_without_a_restart(quick_retries, configure):
    inbox, port = quick_retries, free_port()
    configure(mail_transport="smtp", smtp_port=port)
    sink = SmtpSink(host="127.0.0.1", port=0)
    names = [(partner, f"seed_funding_down_{i}.csv") for i, partner in enumerate(SENDERS[:3])]
    with running_watcher():  # one watcher throughout: SMTP goes away and comes back under it
        for partner, name in names:
            drop(inbox, partner, name, seed_csv(f"Scheme {name}"))
        wait_for(lambda: len(queued_receipts()), until=lambda n: n == 3, what="three queued receipts")
        time.sleep(3)  # SMTP stays down across several retries
        with smtp_on(sink, port):
            wait_for(
                lambda: len(sink.messages),
                until=lambda n: n == 3,
                timeout=30,
                what="three receipts after SMTP returned",
            )
            wait_for(queued_receipts, until=lambda queued: not queued, what="an empty queue")
            settle(1)  # and nothing more
    assert len(sink.messages) == 3
    assert sorted(m["To"].addresses[0].addr_spec for m in sink.messages) == sorted(
        ws().project.participant(partner).emails[0] for partner, _ in names
    )


@pytest.mark.parametrize("failures", [1, 3])
def test_a_503_from_the_api_during_a_burst_is_retried_not_lost(quick_retries, failures):
    """A fake receiver stands in for `receive_upload_run`: its first calls per file fail the way
    Prefect's client fails on POST /api/flow_runs/ (HTTPStatusError 503); a real 503 needs an
    overloaded server, which is impractical here."""
    from wpflow.inbox.watch import receive_file

    inbox, calls, lock = quick_retries, {}, threading.Lock()

    def busy_api(item):
        with lock:
            calls[item.path.name] = calls.get(item.path.name, 0) + 1
            attempt = calls[item.path.name]
        if attempt <= failures:
            raise api_busy()
        return receive_file(ws(), item)

    names = [f"seed_funding_burst_{i}.csv" for i in range(20)]
    with running_watcher(busy_api):
        for i, name in enumerate(names):
            drop(inbox, SENDERS[i % len(SENDERS)], name, seed_csv(f"Scheme B{i}"))
        wait_for(lambda: len(outbox_files()), until=lambda n: n == len(names), timeout=60, what="a receipt per file")
        wait_for(queued_receipts, until=lambda queued: not queued, what="an empty queue")
    assert all(calls[n] == failures + 1 for n in names)


def test_the_retry_queue_survives_a_restart(quick_retries):
    """A receipt queued by one watcher is sent by the next one (the queue is in the store)."""
    inbox = quick_retries

    def down(item):
        raise ConnectionRefusedError("SMTP server 127.0.0.1:25 is unreachable")

    with running_watcher(down):
        drop(inbox, "riga", "seed_funding_restart.csv", seed_csv("Scheme R"))
        wait_for(queued_receipts, what="a queued receipt")
    [queued] = queued_receipts()
    assert queued.path == f"riga/{MILESTONE}/seed_funding_restart.csv" and "unreachable" in queued.last_error
    with running_watcher():
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 1, what="the receipt after the restart")
        wait_for(queued_receipts, until=lambda queued: not queued, what="an empty queue")


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
        Settings(project=BUNDLED_PROJECT, outputs=tmp_path / "outputs", _env_file=None),
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )
    if parent.startswith("wpflow"):
        cmd = [str(Path(sys.executable).parent / "wpflow"), "run", "--all", "--as-of", "2008-01-31"]
    else:
        cmd = [sys.executable, "-c", SERVER_IN_CHILD, str(free_port()), str(tmp_path / "prefect")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        def server_children() -> list[int]:
            assert proc.poll() is None, f"{parent} exited before starting a server"
            return children(proc.pid)

        servers = wait_for(server_children, timeout=120, interval=0.2, what=f"a server child of {parent}")
        time.sleep(2)  # the kill comes well into its start-up (or serving): the time is the fault
    finally:
        proc.kill()
        proc.wait()
    try:
        wait_for(
            lambda: [pid for pid in servers if alive(pid)],
            until=lambda left: not left,
            timeout=5,
            interval=0.1,
            what=f"{parent}: its server process(es) {servers} to die with it",
        )
    finally:
        for pid in servers:  # do not leave them to the next test
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
