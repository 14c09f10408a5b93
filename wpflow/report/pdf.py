"""A PDF beside the DOCX, made by LibreOffice when it is installed.

Coordinators forward reports to people without Word; a PDF also shows the layout exactly as
checked. `soffice --convert-to pdf` runs headless with a profile wpflow owns (`-env:UserInstallation`):
two conversions sharing a profile make the second one exit silently without output. There is
one profile per CPU, each held with an exclusive file lock during a conversion, so parallel
runs (threads or processes) never share one, and the profiles are reused (a first start costs
seconds) instead of piling up in /tmp. Without LibreOffice the DOCX stands alone, said once in
the log.

The conversion updates the document's indexes first, so the contents list has its page numbers
(`wpflow/report/uno_export.py`, run by a Python with LibreOffice's `uno` module; without one,
plain `--convert-to`, contents without page numbers). Without a metric twin of the templates'
fonts (`wpflow.report.fonts`) there is no PDF at all: its tables would break numbers mid-digit.
What is missing is said once, in one log line, with what to install. The font configuration
LibreOffice sees can be chosen per call (`env`, e.g. FONTCONFIG_FILE).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from wpflow.files import replacing, writing
from wpflow.report.fonts import missing_line, missing_twins, uno_python

log = logging.getLogger(__name__)

PDF_ROOM_BYTES, PDF_ROOM_FACTOR = 1 << 20, 4  # at least 1 MB, or four times the DOCX
TIMEOUT_S = 180.0  # a 10 000-row report takes about a minute on a loaded 2-core machine
UNO_EXPORT = Path(__file__).with_name("uno_export.py")
_warned = threading.Event()
_said: set[str] = set()
_said_lock = threading.Lock()


def soffice() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@contextmanager
def profile_dir() -> Iterator[Path]:
    """A free LibreOffice profile, locked for the duration; waits for the first one when all
    are busy."""
    root = Path(tempfile.gettempdir())
    slots = [root / f"wpflow-soffice-{os.getuid()}-{n}" for n in range(os.cpu_count() or 1)]
    for n, slot in enumerate(slots):
        lock = open(f"{slot}.lock", "a")  # noqa: SIM115 - closed below, after the conversion
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (fcntl.LOCK_NB if n < len(slots) - 1 else 0))
        except BlockingIOError:
            lock.close()
            continue
        try:
            yield slot
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
        return


def say_once(line: str) -> None:
    with _said_lock:
        if line in _said:
            return
        _said.add(line)
    log.warning(line)


def docx_to_pdf(docx: Path, timeout: float = TIMEOUT_S, env: Mapping[str, str] | None = None) -> Path | None:
    """Write `<docx stem>.pdf` beside `docx` and return its path; None (logged) when LibreOffice
    or the fonts' metric twins are missing, or LibreOffice fails or takes longer than `timeout`
    seconds. `env` is LibreOffice's environment (default: this process's)."""
    exe = soffice()
    if exe is None:
        if not _warned.is_set():
            _warned.set()
            log.warning("LibreOffice (soffice) is not installed: reports are written as DOCX only, without a PDF")
        return None
    fonts, python = missing_twins(env), uno_python(exe)
    if fonts or python is None:
        say_once(missing_line(fonts, python is not None))
    if fonts:
        return None
    target = docx.with_suffix(".pdf")
    # the conversion's folder beside the DOCX, not in /tmp: a full disk or a refused write is
    # then met, and named, where the reports are (hidden: no glob for the report's files sees it)
    with writing(target, "the PDF"), tempfile.TemporaryDirectory(prefix=".wpflow-pdf-", dir=docx.parent) as tmp:
        made = Path(tmp) / target.name
        with profile_dir() as profile:
            if python is not None:
                command = [python, str(UNO_EXPORT), exe, profile.as_uri(), str(made), str(docx)]
            else:
                command = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
                command += ["--convert-to", "pdf", "--outdir", tmp, str(docx)]
            failed = run(command, timeout, env)
        if failed is not None or not made.exists():
            no_room_left(Path(tmp), docx)
            log.warning("%s", failed or f"LibreOffice made no PDF of {docx.name}")
            return None
        with replacing(target, "the PDF") as partial:
            shutil.move(made, partial)
    return target


def no_room_left(folder: Path, docx: Path) -> None:
    """Raise a full disk as what it is when LibreOffice failed for want of room (it says no
    more than that it failed): less free space in `folder` than a PDF of `docx` could take."""
    if shutil.disk_usage(folder).free < max(PDF_ROOM_BYTES, PDF_ROOM_FACTOR * docx.stat().st_size):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))


def run(command: list[str], timeout: float, env: Mapping[str, str] | None = None) -> str | None:
    """Run LibreOffice in its own process group, so a timeout kills its helper processes too;
    None when it succeeded, else why not (for the log line)."""
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(env) if env is not None else None,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return f"LibreOffice took longer than {timeout:.0f} s; no PDF for {command[-1]}"
    if proc.returncode != 0:
        return f"LibreOffice failed (exit {proc.returncode}) on {command[-1]}: {output.decode(errors='replace')[-500:]}"
    return None
