"""The intake end to end: a reply from Malmö's address becomes a file the real watcher archives
and receipts (real SMTP sink) and the next WP4-M3 version shows; the poller killed -9 between
renaming an attachment in and recording it, started again, leaves one file and one submission."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date

import pytest
from docx import Document

from schemas.settings import ROOT
from tests.intake.mails import partner_mail, sample
from tests.settings_env import child_env
from tests.waiting import wait_for
from tests.watching import running_watcher, submissions
from wpflow.inbox.watch import locate, receive_file
from wpflow.intake.poller import IntakePoller
from wpflow.milestone.direct_run import run_direct
from wpflow.workspace import workspace

SAMPLE_INBOX = ROOT / "projects" / "baltmet-inno" / "inbox"
OTHERS = ["helsinki", "berlin-tsb", "copenhagen", "stockholm", "tallinn"]  # WP4-M3 without Malmö
# kills the poller, as a crash would, right after the second attachment is renamed in
CRASHING_POLLER = """
import os, signal
from wpflow.intake.poller import IntakePoller
from wpflow.workspace import workspace

poller = IntakePoller([workspace()])
poller.after_rename = lambda key, position: position == 1 and os.kill(os.getpid(), signal.SIGKILL)
poller.poll_once()
"""


def docx_text(path) -> str:
    document = Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_a_reply_from_malmo_is_archived_receipted_and_in_the_next_wp4_m3_version(intake_settings, dovecot, smtp_server):
    settings = intake_settings(report_delay_seconds=3600)  # the test runs the milestone itself
    for partner in OTHERS:
        shutil.copytree(SAMPLE_INBOX / partner / "WP4-M3", settings.inbox_root / partner / "WP4-M3")
    shutil.copy(SAMPLE_INBOX / "arrivals.yaml", settings.inbox_root / "arrivals.yaml")
    ws = workspace()
    first = run_direct(ws, "WP4-M3", date(2006, 7, 31))
    assert "Innovationsbron Syd" not in docx_text(settings.reports_dir / "WP4-M3.docx")
    name, data = sample("malmo", "seed_funding_malmo.csv")
    dovecot.append(partner_mail(files=[(name, data)]))

    with running_watcher():
        [outcome] = IntakePoller([ws]).poll_once()
        receipt = wait_for(
            lambda: [m for m in smtp_server.messages if "receipt — seed_funding_malmo" in m["Subject"]],
            what="Malmö's receipt in the SMTP sink",
        )
    assert outcome.outcome == "processed"
    assert receipt[0]["To"].addresses[0].addr_spec == "baltmet-inno@malmo.example.org"
    assert receipt[0]["Subject"] == "[BaltMet Inno] WP4-M3 receipt — seed_funding_malmo.csv: accepted"
    [malmo] = [s for s in submissions() if s.partner == "malmo"]
    assert (settings.archive_dir / malmo.sha256).read_bytes() == data

    second = run_direct(ws, "WP4-M3")
    assert (first.version.version, second.new_version, second.version.version) == (1, True, 2)
    assert "Innovationsbron Syd" in docx_text(settings.reports_dir / "WP4-M3.docx")


@pytest.mark.system
def test_a_poller_killed_between_renaming_a_file_in_and_moving_the_message_leaves_one_submission_per_file(
    intake_settings, dovecot
):
    settings = intake_settings()
    files = [sample("malmo", "seed_funding_malmo.csv"), ("second.csv", b"name;provider\nx;y\n")]
    dovecot.append(partner_mail(files=files, message_id="<crash@malmo.example.org>"))
    folder = settings.inbox_root / "malmo" / "WP4-M3"

    child = subprocess.run(
        [sys.executable, "-c", CRASHING_POLLER], env=child_env(settings), cwd=ROOT, capture_output=True, timeout=120
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert sorted(p.name for p in folder.iterdir()) == ["second.csv", "seed_funding_malmo.csv"]
    assert len(dovecot.messages("INBOX")) == 1, "the message is not moved yet"
    first_inode = (folder / "seed_funding_malmo.csv").stat().st_ino

    [outcome] = IntakePoller([workspace()]).poll_once()  # started again

    assert outcome.outcome == "processed"
    assert [p.name for p in outcome.files] == ["second.csv"], "the recorded file is not written again"
    assert (folder / "seed_funding_malmo.csv").stat().st_ino == first_inode
    assert sorted(p.name for p in folder.iterdir()) == ["second.csv", "seed_funding_malmo.csv"]
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages(settings.imap_processed_folder)) == 1
    ws = workspace()
    for path in sorted(folder.iterdir()):
        receive_file(ws, locate(ws, path))
        receive_file(ws, locate(ws, path))  # the watcher hearing the rewritten file again
    assert sorted(s.file_name for s in submissions()) == ["second.csv", "seed_funding_malmo.csv"]
