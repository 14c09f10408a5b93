"""The fault table of receiving and sending: each row is a setup, an action and the expected outcome.

Bombs and oversize files go through the watcher's receive path and the pipeline and must be
refused without any parser seeing them (spies on the annotated-copy writer, openpyxl and the
table reader; the peak memory of a child process doing the same); `wpflow validate` refuses a
symlink, an oversize file and another partner's template with one line and its exit code; a
truncated upload that completes later gets one receipt; unwritable outputs are exit 2 with one
line; a file name with a newline never shows raw.
"""

from __future__ import annotations

import io
import logging
import smtplib
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT, ROOT, parse_eml
from tests.uploads import CSV_HEADER, seed_csv
from tests.waiting import wait_for
from tests.watching import outbox_files, running_watcher, settle, submissions
from wpflow.cli.app import app
from wpflow.cli.errors import describe_failure, mail_unreachable

MILESTONE = "WP4-M3"
runner = CliRunner()


# -- files that must never be parsed ------------------------------------------------------
def zip_bomb(unpacked_mb: int = 100) -> bytes:
    """A workbook whose sheet unpacks ~1000:1: about 100 KB on disk, 100 MB of cells inside."""
    buf = io.BytesIO()
    cell = b'<c t="n"><v>0</v></c>'
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="seed_funding" r:id="rId1"/></sheets></workbook>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<worksheet><sheetData><row r="1">')
            block = cell * (1 << 16)
            for _ in range((unpacked_mb << 20) // len(block)):
                sheet.write(block)
            sheet.write(b"</row></sheetData></worksheet>")
    return buf.getvalue()


def oversize_csv() -> bytes:
    """A valid CSV of ~60 KB: over the 0.05 MB these rows allow."""
    rows = "".join(f"Scheme {i};City;municipal;grant;1000;;;\n" for i in range(1500))
    return (CSV_HEADER + rows).encode("cp1252")


REFUSED = [
    # id, file name, bytes, max_file_mb, words of the refusal
    ("zip-bomb", "seed_funding_riga.xlsx", zip_bomb, 50.0, "zip bomb"),
    ("oversize", "seed_funding_riga.csv", oversize_csv, 0.05, "more than the"),
]


@pytest.fixture
def parser_spies(monkeypatch) -> list[str]:
    """Every call of a parser or the annotated-copy writer, by name: must stay empty."""
    import openpyxl

    import wpflow.inputs.annotate
    import wpflow.inputs.detect_kind
    import wpflow.inputs.validate
    import wpflow.inputs.workbook_metadata

    calls: list[str] = []

    def spy(name: str) -> Callable:
        def called(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called for a refused file")

        return called

    monkeypatch.setattr(wpflow.inputs.annotate, "write_annotated_copy", spy("write_annotated_copy"))
    monkeypatch.setattr(wpflow.inputs.annotate, "load_workbook", spy("openpyxl.load_workbook"))
    monkeypatch.setattr(openpyxl, "load_workbook", spy("openpyxl.load_workbook"))
    # every name the parsers are called by: validate_file and kind detection import them
    monkeypatch.setattr(wpflow.inputs.validate, "read_table", spy("read_table"))
    monkeypatch.setattr(wpflow.inputs.detect_kind, "read_table", spy("read_table"))
    monkeypatch.setattr(wpflow.inputs.detect_kind, "read_metadata", spy("read_metadata"))
    monkeypatch.setattr(wpflow.inputs.workbook_metadata, "read_metadata", spy("read_metadata"))  # the gate's lookup
    return calls


def refused_inbox(tmp_path: Path, name: str, build: Callable[[], bytes]) -> Path:
    folder = tmp_path / "inbox" / "riga" / MILESTONE
    folder.mkdir(parents=True)
    (folder / name).write_bytes(build())
    return folder / name


@pytest.mark.parametrize("path_name", ["watcher", "pipeline"])
@pytest.mark.parametrize(("case", "name", "build", "max_mb", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_files_are_never_parsed(tmp_path, settings, parser_spies, path_name, case, name, build, max_mb, words):
    from wpflow.inbox.watch import receive_file
    from wpflow.milestone.collect import InboxFile
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import workspace

    path = refused_inbox(tmp_path, name, build)
    assert path.stat().st_size < 400_000  # small on disk
    ws = workspace(
        settings=settings.model_copy(update={"inbox": tmp_path / "inbox", "stable_seconds": 0, "max_file_mb": max_mb})
    )
    if path_name == "watcher":
        received = receive_file(ws, InboxFile("riga", MILESTONE, path))
        result = received.result
    else:
        run_direct(ws, MILESTONE)
        [stored] = ws.store.submissions(ws.project.name, milestone=MILESTONE)
        assert stored.status == "invalid"
        result = None
    assert parser_spies == []
    if result is not None:
        assert not result.valid and words in result.errors[0].message
    body = (
        parse_eml(next(p for p in ws.settings.outbox_dir.glob("*.eml") if "receipt" in parse_eml(p)["Subject"]))
        .get_body(("plain",))
        .get_content()
    )
    assert words in body
    quarantine = ws.settings.quarantine_dir / "riga" / MILESTONE
    assert not list(quarantine.glob("*.annotated.xlsx"))  # nothing built from a refused file


CHILD = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]])
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
GRANDCHILD = """
import sys
from pathlib import Path
from schemas.settings import Settings
from wpflow.milestone.collect import InboxFile
from wpflow.milestone.direct_run import run_direct
from wpflow.workspace import workspace
from wpflow.inbox.watch import receive_file

how, project, outputs, inbox, name, max_mb = sys.argv[1:]
ws = workspace(settings=Settings(project=project, outputs=outputs, inbox=inbox, stable_seconds=0, max_file_mb=float(max_mb),
                        _env_file=None))
if how == "watcher":
    receive_file(ws, InboxFile("riga", "WP4-M3", Path(inbox) / "riga" / "WP4-M3" / name))
else:
    run_direct(ws, "WP4-M3")
"""


@pytest.mark.parametrize("path_name", ["watcher", "pipeline"])
@pytest.mark.parametrize(("case", "name", "build", "max_mb", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_files_keep_a_process_under_300_mb(tmp_path, path_name, case, name, build, max_mb, words):
    """ru_maxrss of a child that receives (or runs the pipeline on) the file; measured through an
    intermediate process so that no other child of the test run counts."""
    refused_inbox(tmp_path, name, build)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            GRANDCHILD,
            path_name,
            str(BUNDLED_PROJECT),
            str(tmp_path / "outputs"),
            str(tmp_path / "inbox"),
            name,
            str(max_mb),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    code, peak_kb = (int(v) for v in done.stdout.split()[-2:])
    assert code == 0, done.stderr[-2000:]
    assert peak_kb < 300 * 1024, f"peak {peak_kb // 1024} MB"


# -- wpflow validate: the same gate ------------------------------------------------------
def symlink_to_passwd(tmp_path: Path) -> Path:
    link = tmp_path / "seed_funding_riga.csv"
    link.symlink_to("/etc/passwd")
    return link


def oversize_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed_funding_riga.csv"
    path.write_bytes(oversize_csv())
    return path


def tallinn_template(tmp_path: Path) -> Path:
    from wpflow.inputs.partner_templates import write_templates
    from wpflow.project.load import load_project

    [path] = [
        p for p in write_templates(load_project(BUNDLED_PROJECT), MILESTONE, "tallinn", tmp_path) if p.suffix == ".xlsx"
    ]
    return path


@pytest.mark.parametrize(
    ("setup", "env", "code", "words", "never"),
    [
        (symlink_to_passwd, {}, 2, "symbolic link", "root:"),
        (oversize_file, {"WPFLOW_MAX_FILE_MB": "0.05"}, 2, "more than the", "valid as"),
        (tallinn_template, {}, 1, "made for tallinn", "valid as"),
    ],
    ids=["symlink", "oversize", "other-partners-template"],
)
def test_validate_refuses_what_the_watcher_refuses(tmp_path, setup, env, code, words, never):
    path = setup(tmp_path)
    result = runner.invoke(app, ["validate", str(path), "--partner", "riga", "--milestone", MILESTONE], env=env)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and words in result.stderr
    assert never not in result.output


# -- a truncated upload ------------------------------------------------------------------
def test_a_truncated_csv_that_completes_later_gets_one_receipt(inbox):
    """The upload stops mid-line for 1.5 s (five stability windows of 0.3 s), then completes."""
    content = seed_csv("Riga Seed Fund") + "Riga Growth;City;municipal;grant;500 000,00;;;\n".encode("cp1252")
    path = inbox / "riga" / MILESTONE / "seed_funding_riga.csv"
    path.parent.mkdir(parents=True)
    with running_watcher():
        with path.open("wb") as fh:
            fh.write(content[: len(content) - 20])
            fh.flush()
            time.sleep(1.5)  # the stalled upload: the pause is the fault
            fh.write(content[len(content) - 20 :])
        wait_for(lambda: len(outbox_files()), until=lambda n: n >= 1, what="the receipt")
        settle(1.0)
    assert len(outbox_files()) == 1
    [sub] = submissions()
    assert sub.size == len(content) and sub.status == "valid"


# -- outputs that cannot be written ------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["run", MILESTONE, "--direct"], 2),
        (["run", "--all", "--direct"], 2),
        (["deadlines", "--direct", "--as-of", "2006-07-15"], 2),
    ],
    ids=["run", "run-all", "deadlines"],
)
def test_unwritable_outputs_are_exit_2_with_one_line(tmp_path, args, code):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(
        app, [*args, "--project", str(BUNDLED_PROJECT)], env={"WPFLOW_OUTPUTS": str(blocker / "outputs")}
    )
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:") or "Traceback" in line]
    assert len(errors) == 1 and "cannot write" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_status_reads_without_writing(tmp_path):
    """No store yet and a folder that cannot be created: status shows every partner missing."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(
        app,
        ["status", "--as-of", "2006-07-15", "--project", str(BUNDLED_PROJECT)],
        env={"WPFLOW_OUTPUTS": str(blocker / "outputs")},
    )
    assert result.exit_code == 0, result.output
    assert "WP4-M3" in result.stdout


# -- names and bounded receipts ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "raw", "escaped"),
    [
        ("seed_funding_riga\nFORGED line.csv", seed_csv("Riga Seed", "about 2 mio"), "riga\nFORGED", "riga\\nFORGED"),
        ("seed_funding_riga\r\nBcc: x@evil.example.csv", seed_csv("Riga Seed"), "\r\nBcc", "\\r\\nBcc"),
    ],
    ids=["newline-invalid", "crlf-valid"],
)
def test_a_name_with_a_newline_never_shows_raw(tmp_path, settings, caplog, name, data, raw, escaped):
    from wpflow.inbox.watch import archive_rejected, receive_file
    from wpflow.milestone.collect import InboxFile
    from wpflow.workspace import workspace

    folder = tmp_path / "inbox" / "riga" / MILESTONE
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    ws = workspace(settings=settings.model_copy(update={"inbox": tmp_path / "inbox", "stable_seconds": 0}))
    with caplog.at_level(logging.DEBUG):
        receive_file(ws, InboxFile("riga", MILESTONE, folder / name))
        stray = tmp_path / "inbox" / name
        stray.write_bytes(data)
        archive_rejected(ws, stray, "not in a <partner>/<milestone>/ folder")
    [eml] = list(ws.settings.outbox_dir.glob("*.eml"))
    message = parse_eml(eml)
    body = message.get_body(("plain",)).get_content()
    assert raw not in body and escaped in body
    assert raw.strip() not in str(message["Subject"]) or escaped in str(message["Subject"])
    assert message["Bcc"] is None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert raw not in logged and escaped in logged


def test_a_receipt_for_thousands_of_errors_is_bounded(tmp_path, settings):
    from wpflow.inbox.watch import receive_file
    from wpflow.milestone.collect import InboxFile
    from wpflow.workspace import workspace

    rows = "".join(f"Scheme {i};City;city-level;grant;about {i} mio;;;\n" for i in range(3000))
    folder = tmp_path / "inbox" / "riga" / MILESTONE
    folder.mkdir(parents=True)
    (folder / "seed_funding_riga.csv").write_bytes((CSV_HEADER + rows).encode("cp1252"))
    ws = workspace(settings=settings.model_copy(update={"inbox": tmp_path / "inbox", "stable_seconds": 0}))
    received = receive_file(ws, InboxFile("riga", MILESTONE, folder / "seed_funding_riga.csv"))
    assert len(received.result.errors) >= 6000
    [eml] = list(ws.settings.outbox_dir.glob("*.eml"))
    message = parse_eml(eml)
    body = message.get_body(("plain",)).get_content()
    assert len(body.splitlines()) < 100 and "more problems, all listed in the attached problems.csv" in body
    attached = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
    csv_text = attached["problems.csv"]
    csv_text = csv_text.decode("utf-8-sig") if isinstance(csv_text, bytes) else csv_text.lstrip("\ufeff")
    assert len(csv_text.splitlines()) >= 6000
    assert len(eml.read_bytes()) < 3 << 20


def refused(outer: BaseException) -> BaseException:
    """`outer` raised from a refused connection, as httpx and smtplib chain them."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            raise outer from exc
    except BaseException as chained:
        return chained


@pytest.mark.parametrize(
    ("failure", "line", "mail"),
    [
        (
            lambda: refused(httpx.ConnectError("[Errno 111] Connection refused")),
            "cannot reach the Prefect API: ",
            False,
        ),
        (
            lambda: refused(RuntimeError("Failed to reach API at http://127.0.0.1:1/api/")),
            "cannot reach the Prefect",
            False,
        ),
        (lambda: refused(smtplib.SMTPConnectError(421, "busy")), "cannot reach the mail server: ", True),
        (lambda: ConnectionRefusedError(111, "Connection refused"), "cannot reach the mail server: ", True),
    ],
    ids=["httpx", "prefect-wrapped", "smtp", "socket"],
)
def test_an_unreachable_prefect_api_is_not_called_a_mail_server(failure, line, mail):
    exc = failure()
    if isinstance(exc, RuntimeError):  # Prefect's own error wraps httpx's
        exc.__cause__ = refused(httpx.ConnectError("[Errno 111] Connection refused"))
    code, text = describe_failure(exc)
    assert (code, text.startswith(line), mail_unreachable(exc)) == (2, True, mail), text
