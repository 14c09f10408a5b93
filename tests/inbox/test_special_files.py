"""Special files in an inbox folder — a FIFO, a socket — are refused before anything opens
them: opening a FIFO waits for a writer that may never come, which would hang a run, the daily
ladder or a watcher thread for good."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from datetime import date
from pathlib import Path

import pytest

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT
from wpflow.inbox.watch import Rejected, locate
from wpflow.milestone.collect import list_inbox
from wpflow.milestone.direct_run import run_direct
from wpflow.workspace import Workspace


@pytest.fixture
def special_inbox(tmp_path: Path) -> tuple[Workspace, list[Path]]:
    """The bundled inbox, with a FIFO and a socket among Riga's WP4-M3 files."""
    inbox = tmp_path / "inbox"
    shutil.copytree(BUNDLED_PROJECT / "inbox", inbox)
    folder = inbox / "riga" / "WP4-M3"
    fifo = folder / "fifo.csv"
    os.mkfifo(fifo)
    sock_path = folder / "s.csv"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    ws = Workspace(
        Settings(project=BUNDLED_PROJECT, inbox=inbox, outputs=tmp_path / "outputs", stable_seconds=0, _env_file=None)
    )
    yield ws, [fifo, sock_path]
    sock.close()


def test_collect_lists_files_only(special_inbox, caplog):
    ws, special = special_inbox
    with caplog.at_level("WARNING", logger="wpflow.milestone.collect"):
        listed = {f.path.name for f in list_inbox(ws.settings.inbox_root, ["riga"], "WP4-M3")}
    assert listed and not listed & {p.name for p in special}
    assert "it is a FIFO, not a file" in caplog.text and "it is a socket, not a file" in caplog.text


@pytest.mark.parametrize(("name", "kind"), [("fifo.csv", "a FIFO"), ("s.csv", "a socket")])
def test_the_watcher_refuses_a_special_file_without_opening_it(special_inbox, name, kind):
    ws, _ = special_inbox
    with pytest.raises(Rejected, match=f"it is {kind}, not a file"):
        locate(ws, ws.settings.inbox_root.resolve() / "riga" / "WP4-M3" / name)


def test_a_run_with_a_fifo_in_the_inbox_finishes_and_issues_the_report(special_inbox):
    """Before, `wpflow run WP4-M3 --direct` never returned (the collect opened the FIFO)."""
    ws, _ = special_inbox
    done: list[object] = []
    runner = threading.Thread(target=lambda: done.append(run_direct(ws, "WP4-M3", date(2006, 7, 3))), daemon=True)
    runner.start()
    runner.join(120)
    assert done, "the run did not return: something opened the FIFO"
    assert (ws.settings.outputs / "reports" / "baltmet-inno" / "WP4-M3.docx").is_file()
    outbox = (ws.settings.outputs / "outbox" / "baltmet-inno").glob("*.eml")
    receipts = [p for p in outbox if b"receipt" in p.read_bytes().split(b"\n\n", 1)[0]]
    assert receipts, "the other partners' files got no receipt"


def test_the_same_bytes_from_two_partners_get_two_receipts(tmp_path: Path):
    """Tallinn's file with the very bytes of Riga's: Riga's receipt is not Tallinn's, so Tallinn's
    file is not taken as received and acknowledged, and it gets a receipt of its own."""
    from wpflow.inbox.receive import already_received, archive_upload, check_upload, receive_file, send_upload_receipt
    from wpflow.milestone.collect import InboxFile

    inbox = tmp_path / "inbox"
    riga = inbox / "riga" / "WP4-M3" / "seed_funding.csv"
    tallinn = inbox / "tallinn" / "WP4-M3" / "seed_funding.csv"
    for path in (riga, tallinn):
        path.parent.mkdir(parents=True)
        shutil.copy(BUNDLED_PROJECT / "inbox" / "riga" / "WP4-M3" / "seed_funding_riga_v1.csv", path)
    ws = Workspace(
        Settings(project=BUNDLED_PROJECT, inbox=inbox, outputs=tmp_path / "outputs", stable_seconds=0, _env_file=None)
    )
    riga_item, tallinn_item = InboxFile("riga", "WP4-M3", riga), InboxFile("tallinn", "WP4-M3", tallinn)
    receive_file(ws, riga_item)
    assert already_received(ws, riga_item)
    checked = check_upload(ws, archive_upload(ws, tallinn_item))  # stored and checked; its receipt failed
    assert not already_received(ws, tallinn_item), "Riga's receipt taken for Tallinn's"
    send_upload_receipt(ws, checked)
    assert already_received(ws, tallinn_item)
    receipts = [n for n in ws.store.notifications(ws.project.name, "WP4-M3") if n.kind == "receipt"]
    assert sorted(n.recipient for n in receipts) == sorted(
        ws.project.participant(p).emails[0] for p in ("riga", "tallinn")
    )


def test_open_regular_checks_what_it_opened_without_waiting(tmp_path: Path):
    """A FIFO swapped in after the lstat: the open neither waits nor reads, and a link is not
    followed."""
    import errno

    from wpflow.files import NotRegularFile, open_regular

    fifo, real, link = tmp_path / "fifo.csv", tmp_path / "real.csv", tmp_path / "link.csv"
    os.mkfifo(fifo)
    real.write_bytes(b"a;b\n")
    link.symlink_to(real)
    with open_regular(real) as fh:
        assert fh.read() == b"a;b\n"
    with pytest.raises(NotRegularFile, match="not a regular file"):
        open_regular(fifo)  # returns at once: O_NONBLOCK, then fstat
    with pytest.raises(OSError) as followed:
        open_regular(link)
    assert followed.value.errno == errno.ELOOP
