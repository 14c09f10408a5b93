"""Any name a filesystem allows is received: a partner's file name of 255 bytes (127 Cyrillic
letters) on an invalid file, whose quarantine note, annotated copy and receipt attachment are all
named after it.

| path | file | expected |
|---|---|---|
| `wpflow run WP4-M3 --direct`, twice | invalid CSV, 255-byte Cyrillic name | exit 0, report issued; every quarantine name ≤ 255 bytes; the receipt's .eml carries the annotated copy under an RFC 2231 filename |
| the watcher's receive path, SQLite and PostgreSQL | the same | receipt with the attachment, nothing queued for a retry, the name stored whole |
| a write of a name too long | — | "cannot write the annotated copy <path>: File name too long", exit 2 |
"""

from __future__ import annotations

import errno
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT, parse_eml
from tests.uploads import put, seed_csv
from wpflow.cli.app import app
from wpflow.cli.errors import describe_failure
from wpflow.file_names import MAX_NAME_BYTES, bounded_name, name_bytes
from wpflow.files import WriteFailed, replacing, writing

MILESTONE = "WP4-M3"
# 255 bytes in UTF-8, the most a name may have: 1 + 125 × 2 + 4
LONG_NAME = "r" + "ж" * 125 + ".csv"
ATTACHED = " (annotated).xlsx"


# -- the one rule for names -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "limit", "suffix"),
    [
        (LONG_NAME, MAX_NAME_BYTES, ".csv"),  # fits exactly: unchanged
        ("ж" * 200 + ".csv", MAX_NAME_BYTES, ".csv"),
        ("ж" * 200 + ".xlsx", 100, ".xlsx"),
        ("e\u0301" * 200 + ".csv", 50, ".csv"),  # letters with combining accents
        ("名" * 100 + ".tar.gz", MAX_NAME_BYTES, ".gz"),
        ("a." + "ж" * 200, MAX_NAME_BYTES, ""),  # a long "extension" is no extension
    ],
    ids=["fits", "cyrillic", "small-limit", "combining", "cjk", "long-extension"],
)
def test_a_bounded_name_fits_keeps_its_extension_and_whole_characters(name, limit, suffix):
    bounded = bounded_name(name, limit)
    assert name_bytes(bounded) <= limit
    assert bounded.endswith(suffix)
    assert bounded.encode("utf-8").decode("utf-8") == bounded  # cut between characters
    if name_bytes(name) <= limit:
        assert bounded == name
    else:
        assert "~" in bounded and not bounded[bounded.index("~") - 1].isspace()
        cut = bounded[: bounded.index("~")]
        assert name.startswith(cut) and name[len(cut)] != "\u0301"  # no accent parted from its letter


def test_long_names_that_share_their_beginning_stay_distinct():
    names = ["ж" * 200 + f"_{n}.csv" for n in range(50)]
    assert len({bounded_name(n) for n in names}) == len(names)
    assert bounded_name(names[0]) == bounded_name(names[0])  # and the same name always the same


# -- a run -----------------------------------------------------------------------------------
def invalid_long_named_inbox(root: Path) -> Path:
    """The bundled inbox with Riga's invalid file under a 255-byte Cyrillic name."""
    inbox = root / "inbox"
    shutil.copytree(BUNDLED_PROJECT / "inbox", inbox)
    put(inbox, "riga", MILESTONE, LONG_NAME, seed_csv("Riga Seed", "about 2 mio"))
    return inbox


def test_a_255_byte_name_on_an_invalid_file_is_quarantined_annotated_and_acknowledged(tmp_path):
    inbox, outputs = invalid_long_named_inbox(tmp_path), tmp_path / "outputs"
    env = {"WPFLOW_OUTPUTS": str(outputs), "WPFLOW_INBOX": str(inbox), "WPFLOW_STABLE_SECONDS": "0"}
    first = CliRunner().invoke(app, ["run", MILESTONE, "--direct", "--project", str(BUNDLED_PROJECT)], env=env)

    assert first.exit_code == 0, first.output
    assert "WP4-M3: report v1 issued" in first.stdout and first.stderr.count("error") == 0, first.output
    assert (outputs / "reports" / "baltmet-inno" / "WP4-M3.docx").is_file()
    quarantine = outputs / "quarantine" / "baltmet-inno" / "riga" / MILESTONE
    long_entries = [p for p in quarantine.iterdir() if p.name.startswith("rж")]
    assert sorted(p.name.endswith(".annotated.xlsx") for p in long_entries) == [False, True]  # note, copy
    assert all(name_bytes(p.name) <= MAX_NAME_BYTES for p in quarantine.iterdir())
    [note] = [p for p in long_entries if p.suffix == ".txt"]
    assert f"File: {LONG_NAME}" in note.read_text(encoding="utf-8")  # the name as sent, whole

    [eml] = [p for p in (outputs / "outbox" / "baltmet-inno").glob("*.eml") if "жжж" in str(parse_eml(p)["Subject"])]
    raw = eml.read_bytes()
    assert b"filename*=utf-8''r%D0%B6%D0%B6" in raw  # RFC 2231: the name's UTF-8, percent-encoded
    assert max(len(line) for line in raw.splitlines()) <= 998  # RFC 5322's line limit
    message = parse_eml(eml)
    assert message["To"].addresses[0].addr_spec.endswith("riga.example.org")
    [attachment] = [p for p in message.iter_attachments() if p.get_filename().endswith(ATTACHED)]
    filename = attachment.get_filename()
    assert filename.startswith("rжжж") and name_bytes(filename) <= MAX_NAME_BYTES
    workbook = load_workbook(io.BytesIO(attachment.get_content()))
    assert "Problems" in workbook.sheetnames
    problems = [str(c.value) for row in workbook["Problems"].iter_rows() for c in row if c.value]
    assert any("about 2 mio" in p for p in problems), problems

    again = CliRunner().invoke(app, ["run", MILESTONE, "--direct", "--project", str(BUNDLED_PROJECT)], env=env)
    assert again.exit_code == 0, again.output
    assert "unchanged since v1" in again.stdout and "error" not in again.stderr


def test_the_watcher_receives_a_255_byte_name_with_its_receipt(tmp_path, settings, db_url):
    from wpflow.inbox.watch import receive_file
    from wpflow.milestone.collect import InboxFile
    from wpflow.workspace import workspace

    path = put(tmp_path / "inbox", "riga", MILESTONE, LONG_NAME, seed_csv("Riga Seed", "about 2 mio"))
    update = {"inbox": tmp_path / "inbox", "stable_seconds": 0, "database_url": db_url}
    ws = workspace(settings=settings.model_copy(update=update))
    checked = receive_file(ws, InboxFile("riga", MILESTONE, path))

    assert not checked.result.valid
    [eml] = list(ws.settings.outbox_dir.glob("*.eml"))
    [attachment] = [p for p in parse_eml(eml).iter_attachments() if p.get_filename().endswith(ATTACHED)]
    assert attachment.get_filename().startswith("rжжж")
    assert ws.store.queued_receipts(ws.project.name) == []
    [stored] = ws.store.submissions(ws.project.name, milestone=MILESTONE)
    assert stored.file_name == LONG_NAME  # stored as sent, whole


# -- the error names the write ---------------------------------------------------------------
def test_a_name_too_long_is_a_write_that_failed_naming_what_and_where(tmp_path):
    target = tmp_path / ("ж" * 200 + ".xlsx")  # 405 bytes: no filesystem here takes it
    with pytest.raises(WriteFailed) as failed, writing(target, "the annotated copy"):
        target.write_bytes(b"x")
    code, line = describe_failure(failed.value)
    assert failed.value.errno == errno.ENAMETOOLONG
    assert code == 2
    assert line == f"cannot write the annotated copy {target}: File name too long"


def test_replacing_a_file_with_a_250_byte_name_needs_no_longer_temporary_name(tmp_path):
    target = tmp_path / ("ж" * 123 + ".xlsx")  # 251 bytes: its temporary name is shortened
    with replacing(target, "the annotated copy") as tmp:
        tmp.write_bytes(b"content")
    assert target.read_bytes() == b"content"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
