"""What an inbox, a second run, a full disk or a web page can do to wpflow — each row a fault
and the outcome it must have, run against the real thing (the `wpflow` command in its own
process, the real watcher, PostgreSQL, tmpfs, a Prefect server). Rows whose machinery lives
with its concern are tested there; the table names them.

| fault | outcome | test |
|---|---|---|
| a FIFO and a socket in an inbox folder | `run --direct` exits 0, the report is issued, the other files get receipts | `test_special_files_in_the_inbox_stop_nothing` |
| 100 FIFOs in an inbox folder under the watcher | a normal file dropped after them gets its receipt within 3 s; the watcher stops within its bound | `test_a_hundred_fifos_do_not_starve_the_watcher` |
| the same bytes from two partners | two receipts, one to each | `test_the_same_bytes_from_two_partners_get_a_receipt_each` |
| a key given twice in project.yaml | refused naming file, line and key | `test_a_duplicate_key_is_refused` |
| a 255-byte UTF-8 name on an invalid file | received, quarantined, receipted | `tests/faults/test_long_names.py` |
| two `run --direct` of WP4-M3 at once on PostgreSQL | both exit 0, one version, each e-mail once, staging empty | `tests/faults/test_concurrent_runs.py` |
| a tmpfs too small for the outputs | one line naming the folder, exit 2; a re-run with room sends each e-mail once | `tests/faults/test_full_disk.py` |
| a cross-origin POST to the Prefect API | refused, no flow run created | `tests/faults/test_cross_origin.py` |
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_PROJECT, parse_eml
from tests.settings_env import child_env
from tests.uploads import seed_csv
from tests.waiting import wait_for
from tests.watching import drop, outbox_files, running_watcher, settle, submissions

pytestmark = pytest.mark.system


def wpflow(settings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The command as a coordinator runs it, in its own process (a hang is a failed test)."""
    env = {k: v for k, v in child_env(settings).items() if not k.startswith("PREFECT_")}
    return subprocess.run(
        [sys.executable, "-m", "wpflow", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_special_files_in_the_inbox_stop_nothing(settings, tmp_path: Path):
    inbox = tmp_path / "inbox"
    shutil.copytree(BUNDLED_PROJECT / "inbox", inbox)
    folder = inbox / "helsinki" / "WP4-M3"
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "fifo.csv")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "socket.csv"))
        done = wpflow(
            settings.model_copy(update={"inbox": inbox, "report_pdf": False}),
            *("run", "WP4-M3", "--direct", "--as-of", "2006-09-30"),
            timeout=180,
        )
    assert done.returncode == 0, done.stderr
    assert (settings.outputs / "reports" / "baltmet-inno" / "WP4-M3.docx").is_file()
    receipts = [parse_eml(p) for p in (settings.outputs / "outbox" / "baltmet-inno").glob("*.eml")]
    receipted = {m["To"] for m in receipts if "receipt" in m["Subject"].lower()}
    assert len(receipted) >= 3, sorted(receipted)  # the partners whose real files were read


def test_a_hundred_fifos_do_not_starve_the_watcher(inbox: Path):
    folder = inbox / "helsinki" / "WP4-M3"
    folder.mkdir(parents=True)
    for i in range(100):
        os.mkfifo(folder / f"fifo_{i:03d}.csv")
    with running_watcher(workers=8):  # fewer workers than FIFOs: one held thread each would starve it
        settle()  # the start's rescan has met every FIFO
        path = drop(inbox, "riga", "seed_funding_riga.csv", seed_csv("Riga Seed Fund"))
        dropped = time.monotonic()
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 1, timeout=3, what="Riga's receipt within 3 s")
        took = time.monotonic() - dropped
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10, "the watcher's stop waited on a FIFO"
    [sub] = submissions()
    assert (sub.partner, sub.file_name, took < 3) == ("riga", path.name, True)


def test_the_same_bytes_from_two_partners_get_a_receipt_each(inbox: Path, project):
    data = (BUNDLED_PROJECT / "inbox" / "riga" / "WP4-M3" / "seed_funding_riga_v1.csv").read_bytes()
    with running_watcher():
        drop(inbox, "riga", "seed_funding.csv", data)
        drop(inbox, "tallinn", "seed_funding.csv", data)
        wait_for(lambda: len(outbox_files()), until=lambda n: n == 2, what="two receipts")
        settle()
    to = sorted(parse_eml(p)["To"].addresses[0].addr_spec for p in outbox_files())
    assert to == sorted(project.participant(p).emails[0] for p in ("riga", "tallinn"))
    assert sorted(s.partner for s in submissions()) == ["riga", "tallinn"]


def test_a_duplicate_key_is_refused(settings, tmp_path: Path):
    folder = tmp_path / "project"
    folder.mkdir()
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    (folder / "project.yaml").write_text(text.replace("lead: helsinki\n", "lead: helsinki\nlead: riga\n", 1))
    done = wpflow(settings, "project", "check", "--project", str(folder), timeout=120)
    assert done.returncode == 1, done.stderr
    assert f"{folder / 'project.yaml'}, line 18, field lead: key 'lead' is given twice (first on line 17)" in (
        done.stderr
    )
