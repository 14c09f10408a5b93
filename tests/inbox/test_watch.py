"""The inbox watcher against real folders: a real watchfiles watcher in a thread, the real store
(SQLite) and outbox, and for one test a real Prefect API (the test harness's server)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import parse_eml
from tests.smtp import SmtpSink, free_port, smtp_on
from tests.uploads import seed_csv
from tests.waiting import wait_for
from tests.watching import (
    MILESTONE,
    SENDERS,
    drop,
    outbox_files,
    queued_receipts,
    running_watcher,
    settle,
    submissions,
    ws,
)


# -- stability ---------------------------------------------------------------------------
def test_a_slowly_written_file_is_read_once_when_complete(inbox):
    content = seed_csv("Riga Seed Fund " + "x" * 400)
    chunks = [content[i : i + 50] for i in range(0, len(content), 50)]
    path = inbox / "riga" / MILESTONE / "seed_funding_riga.csv"
    path.parent.mkdir(parents=True)
    with running_watcher():
        with path.open("wb") as fh:
            for chunk in chunks:  # ~1.5 s of writing, never 0.3 s without a change
                fh.write(chunk)
                fh.flush()
                time.sleep(0.12)
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 1, what="the receipt")
        settle()
    subs = submissions()
    assert len(subs) == 1 and len(chunks) > 8
    assert Path(subs[0].archive_path).read_bytes() == content
    assert subs[0].status == "valid" and subs[0].size == len(content)
    receipt = parse_eml(outbox_files()[0])
    assert receipt["To"].addresses[0].addr_spec == "baltmet-inno@riga.example.org"
    assert "seed_funding_riga.csv" in receipt.get_body(("plain",)).get_content()


def test_two_hundred_files_at_once_give_two_hundred_submissions_and_receipts(inbox, project):
    with running_watcher():
        for i in range(200):
            partner = SENDERS[i % len(SENDERS)]
            drop(inbox, partner, f"seed_funding_{i:03d}.csv", seed_csv(f"Scheme {i}"))
        wait_for(lambda: len(outbox_files()), until=lambda n: n >= 200, timeout=120, what="200 receipts")
        settle()
    assert len(outbox_files()) == 200
    subs = submissions()
    assert len(subs) == 200
    assert sorted(s.file_name for s in subs) == [f"seed_funding_{i:03d}.csv" for i in range(200)]
    assert {s.partner for s in subs} == set(SENDERS)
    receipted = {parse_eml(p)["To"].addresses[0].addr_spec for p in outbox_files()}
    assert receipted == {project.participant(p).emails[0] for p in SENDERS}


def test_files_dropped_while_stopped_are_picked_up_on_start_once(inbox):
    for partner in ("helsinki", "malmo", "riga"):
        drop(inbox, partner, f"seed_funding_{partner}.csv", seed_csv(f"{partner} fund"))
    with running_watcher():
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 3, what="3 receipts")
        settle()
    calls = []
    with running_watcher(calls.append):  # a restart sees the same bytes: nothing is received again
        settle(1.0)
    assert calls == []
    assert len(outbox_files()) == 3
    assert sorted(s.partner for s in submissions()) == ["helsinki", "malmo", "riga"]


IGNORED = [
    "~$seed_funding.xlsx",
    ".~lock.seed_funding.xlsx#",
    "seed_funding.csv.part",
    "seed_funding.csv.crdownload",
    "seed_funding.tmp",
    ".seed_funding.csv",
    "seed_funding.csv~",
    "Thumbs.db",
    "desktop.ini",
]


def test_editor_and_partial_files_never_become_submissions(inbox):
    with running_watcher():
        for i, name in enumerate(IGNORED):
            drop(inbox, "riga", name, seed_csv(f"Hidden scheme {i}"))
        drop(inbox, "malmo", "seed_funding_malmo.csv", seed_csv("Malmö fund"))  # a real one, as a marker
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 1, what="the marker's receipt")
        settle()
    assert [s.file_name for s in submissions()] == ["seed_funding_malmo.csv"]
    assert len(list(ws().settings.archive_dir.iterdir())) == 1  # not even archived


def test_a_finished_download_is_received_under_its_final_name(inbox):
    with running_watcher():
        part = drop(inbox, "riga", "seed_funding_riga.csv.part", seed_csv("Riga fund"))
        settle()
        part.rename(part.with_name("seed_funding_riga.csv"))
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 1, what="the receipt")
        settle()
    assert [s.file_name for s in submissions()] == ["seed_funding_riga.csv"]


# -- rejections --------------------------------------------------------------------------
def archived(data: bytes) -> bool:
    import hashlib

    return (ws().settings.archive_dir / hashlib.sha256(data).hexdigest()).exists()


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("nobody/WP4-M3/seed_funding.csv", "'nobody' is not a partner id"),
        ("riga/WP9-M9/seed_funding.csv", "'WP9-M9' is not a milestone"),
        ("riga/seed_funding.csv", "not in a <partner>/<milestone>/ folder"),
        ("riga/WP4-M3/old/seed_funding.csv", "not in a <partner>/<milestone>/ folder"),
    ],
)
def test_a_file_outside_known_folders_is_rejected_but_archived(inbox, caplog, where, reason):
    data = seed_csv(f"Stray {where}")
    with caplog.at_level(logging.WARNING, logger="wpflow.inbox.watch"), running_watcher():
        path = inbox / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        wait_for(lambda: archived(data), what="the rejected file's archive copy")
        settle()
    assert submissions() == [] and outbox_files() == []
    rejections = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected")]
    assert len(rejections) == 1 and reason in rejections[0] and "archived as" in rejections[0]


def test_a_symlink_is_rejected_and_never_followed(inbox, tmp_path, caplog):
    secret = tmp_path / "outside.csv"
    secret.write_bytes(seed_csv("Not a partner's file"))
    with caplog.at_level(logging.WARNING, logger="wpflow.inbox.watch"), running_watcher():
        link = inbox / "riga" / MILESTONE / "seed_funding_riga.csv"
        link.parent.mkdir(parents=True)
        link.symlink_to(secret)
        wait_for(lambda: any("symlink" in r.getMessage() for r in caplog.records), what="the rejection")
        settle()
    assert submissions() == [] and not archived(secret.read_bytes())
    message = next(r.getMessage() for r in caplog.records if "symlink" in r.getMessage())
    assert "pointing outside the inbox" in message and "never followed" in message


# -- complete milestones start their pipeline ----------------------------------------------
NARRATIVE = "---\nkind: progress_narrative\ntitle: Local strategy draft\n---\n\n## Progress\n\n{text}\n"


def test_a_quiet_milestone_starts_its_pipeline_once_per_content_of_its_inputs(inbox, configure):
    """WP1-M4 wants a progress narrative from Tallinn and Riga; today is long past its due date,
    so whatever arrives goes into a report — once the folder has been quiet for the delay: two
    files at once start one run, the same bytes again none, a changed file the next one."""
    from wpflow.inbox.watch import trigger_if_due

    configure(report_delay_seconds=1.5)
    started: list[tuple[str, date | None]] = []

    def start(milestone_id, as_of):
        started.append((milestone_id, as_of))
        return f"run-{len(started)}"

    text = lambda s: NARRATIVE.format(text=s).encode()  # noqa: E731
    with running_watcher(trigger=lambda m: trigger_if_due(ws(), m, start)):
        drop(inbox, "tallinn", "progress_narrative_tallinn.md", text("Tallinn drafted its strategy."), "WP1-M4")
        drop(inbox, "riga", "progress_narrative_riga.md", text("Riga drafted its strategy."), "WP1-M4")
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 2, what="both receipts")
        assert started == [], "the folder has not been quiet for 1.5 s yet"
        wait_for(lambda: started, what="the pipeline start")
        drop(inbox, "riga", "copy of progress_narrative_riga.md", text("Riga drafted its strategy."), "WP1-M4")
        settle(2.5)
        assert started == [("WP1-M4", None)]  # the same bytes again are the same content
        drop(inbox, "riga", "progress_narrative_riga.md", text("Riga drafted and adopted its strategy."), "WP1-M4")
        wait_for(lambda: len(started), until=lambda n: n == 2, what="the second start (a new version)")
        settle()
    assert started == [("WP1-M4", None), ("WP1-M4", None)]


# -- through Prefect -----------------------------------------------------------------------
def receipt_latencies(inbox: Path, count: int) -> list[float]:
    """Seconds from a file being complete to its receipt being in the outbox, one at a time."""
    latencies = []
    for i in range(count):
        before = len(outbox_files())
        drop(inbox, SENDERS[i % len(SENDERS)], f"seed_funding_latency_{i}.csv", seed_csv(f"Scheme L{i}"))
        complete = time.monotonic()
        wait_for(lambda: len(outbox_files()), until=lambda n, before=before: n > before, what=f"receipt {i}")
        latencies.append(time.monotonic() - complete)
    return latencies


@contextmanager
def batched_prefect_watcher() -> Iterator:
    """The watcher as `wpflow serve` runs it: files received in `receive-uploads` flow runs."""
    from flows.watcher import WAITING_THREADS, receive_batch, register_receive_uploads
    from wpflow.inbox.batches import BatchReceiver

    register_receive_uploads()  # as flows.watcher.watch_inbox does before watching
    receiver = BatchReceiver(receive_batch)
    try:
        with running_watcher(receiver, workers=WAITING_THREADS) as watcher:
            yield watcher
    finally:
        receiver.close()


def receiving_runs() -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["receive-uploads"])))


def test_uploads_one_by_one_are_receive_uploads_runs_with_a_fast_receipt(prefect_api, inbox, configure):
    configure(stable_seconds=1)  # the real default window
    before = {r.id for r in receiving_runs()}
    with batched_prefect_watcher():
        drop(inbox, "riga", "seed_funding_riga.xlsx.part", b"partial")  # ignored, no run
        latencies = receipt_latencies(inbox, 6)
        settle(1.5)
    # the 2 s p95 target is measured in bench/bench_latency.py, not asserted on a shared machine;
    # here: no receipt may come before the file has been stable for the whole window
    assert min(latencies) >= 1.0
    assert len(submissions()) == 6 and len(outbox_files()) == 6
    runs = [r for r in receiving_runs() if r.id not in before]
    assert len(runs) == 6  # one at a time: one run each
    assert {r.state.type.value for r in runs} == {"COMPLETED"}
    assert "baltmet-inno · 1 upload · helsinki · WP4-M3" in {r.name for r in runs}


def test_a_burst_is_received_in_few_runs_that_list_every_upload(prefect_api, inbox, configure):
    """40 files at once (one with a newline in its name): a receipt each, far fewer runs than
    files, and every file a task run of one of them, its name escaped."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    configure(stable_seconds=0.5)
    before = {r.id for r in receiving_runs()}
    names = [f"seed_funding_burst_{i}.csv" for i in range(39)] + ["seed\nfunding forged.csv"]
    with batched_prefect_watcher():
        for i, name in enumerate(names):
            drop(inbox, SENDERS[i % len(SENDERS)], name, seed_csv(f"Scheme B{i}"))
        wait_for(lambda: len(outbox_files()), until=lambda n: n == len(names), timeout=90, what="a receipt per file")
        settle(1)
    assert len(outbox_files()) == len(names)
    runs = [r for r in receiving_runs() if r.id not in before]
    assert 1 <= len(runs) <= 10, [r.name for r in runs]
    assert {r.state.type.value for r in runs} == {"COMPLETED"}
    ids = [r.id for r in runs]

    def task_names() -> set[str]:
        with get_client(sync_client=True) as client:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=200)
        return {t.name for t in tasks}

    def artifact_rows() -> list[dict]:
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
        return [row for a in artifacts for row in json.loads(a.data)]

    # a task per partner folder of a batch (task states travel as events: they land shortly after)
    wait_for(
        lambda: {n.split(" · ")[0] for n in task_names()},
        until=lambda partners: partners == set(SENDERS),
        what="the partners' task runs",
    )
    rows = artifact_rows()
    assert sorted(row["file"] for row in rows) == sorted(n.replace("\n", "\\n") for n in names)
    assert {row["status"] for row in rows} == {"valid"}
    assert not any("\n" in n for n in task_names())


def test_a_503_on_creating_a_batch_run_defers_its_files_and_they_are_received_once(
    prefect_api, inbox, configure, monkeypatch
):
    """The API answers the first batch's flow-run creation with a 503 (injected at the batch
    runner, as Prefect's client raises it; the rest is the real API): every file of that batch
    goes to the retry queue and is received from there, one receipt each."""
    import httpx

    import flows.watcher
    from flows.watcher import WAITING_THREADS, receive_batch, register_receive_uploads
    from wpflow.inbox.batches import BatchReceiver

    configure(stable_seconds=0.5, receipt_retry_seconds=0.5)
    calls: list[int] = []

    def busy_then_real(items, project=None):
        calls.append(len(items))
        if len(calls) == 1:
            request = httpx.Request("POST", "http://127.0.0.1:4200/api/flow_runs/")
            raise httpx.HTTPStatusError(
                "Server error '503 Service Unavailable' for url 'http://127.0.0.1:4200/api/flow_runs/'",
                request=request,
                response=httpx.Response(503, request=request),
            )
        return receive_batch(items, project)

    monkeypatch.setattr(flows.watcher, "receive_batch", busy_then_real)
    register_receive_uploads()
    names = [f"seed_funding_busy_{i}.csv" for i in range(12)]
    receiver = BatchReceiver(flows.watcher.receive_batch)
    try:
        with running_watcher(receiver, workers=WAITING_THREADS):
            for i, name in enumerate(names):
                drop(inbox, SENDERS[i % len(SENDERS)], name, seed_csv(f"Scheme S{i}"))
            wait_for(
                lambda: len(outbox_files()), until=lambda n: n == len(names), timeout=60, what="a receipt per file"
            )
            wait_for(queued_receipts, until=lambda queued: not queued, what="an empty queue")
            settle(1)
    finally:
        receiver.close()
    assert len(calls) >= 2 and calls[0] >= 1  # the first batch failed whole, later ones received it
    assert len(outbox_files()) == len(names) and len(submissions()) == len(names)


def test_smtp_down_during_drops_through_prefect_every_receipt_arrives_when_it_returns(prefect_api, inbox, configure):
    """The batched Prefect path under an SMTP outage: the batch runs end Failed naming the
    files, the files wait in the retry queue, and every receipt goes out once SMTP is back —
    one watcher throughout, no restart (the plain path: tests/faults/test_faults_resume.py)."""
    port = free_port()
    configure(
        mail_transport="smtp",
        smtp_port=port,
        stable_seconds=0.5,
        receipt_retry_seconds=0.5,
        receipt_retry_max_seconds=2,
    )
    sink = SmtpSink(host="127.0.0.1", port=0)
    names = [(partner, f"seed_funding_down_{i}.csv") for i, partner in enumerate(SENDERS[:3])]
    before = {r.id for r in receiving_runs()}
    with batched_prefect_watcher():
        for partner, name in names:
            drop(inbox, partner, name, seed_csv(f"Scheme {name}"))
        wait_for(lambda: len(queued_receipts()), until=lambda n: n == 3, what="three queued receipts")
        with smtp_on(sink, port):
            wait_for(
                lambda: len(sink.messages),
                until=lambda n: n == 3,
                timeout=60,
                what="three receipts after SMTP returned",
            )
            wait_for(queued_receipts, until=lambda queued: not queued, what="an empty queue")
            settle(1)  # and nothing more
    assert sorted(m["To"].addresses[0].addr_spec for m in sink.messages) == sorted(
        ws().project.participant(partner).emails[0] for partner, _ in names
    )
    states = {r.state.type.value for r in receiving_runs() if r.id not in before}
    assert states == {"FAILED", "COMPLETED"}  # the UI says which batches could not send, then that they did
