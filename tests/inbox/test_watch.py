"""The inbox watcher against real folders: a real watchfiles watcher in a thread, the real store
(SQLite) and outbox; through Prefect: test_watch_prefect.py."""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import parse_eml
from tests.uploads import seed_csv
from tests.waiting import wait_for
from tests.watching import (
    MILESTONE,
    SENDERS,
    drop,
    outbox_files,
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
