"""A PDF beside the DOCX, made by LibreOffice when it is installed.

Coordinators forward reports to people without Word; a PDF also shows the layout exactly as
checked. `soffice --convert-to pdf` runs headless with a profile wpflow owns (`-env:UserInstallation`):
two conversions sharing a profile make the second one exit silently without output. There is
one profile per CPU, each held with an exclusive file lock during a conversion, so parallel
runs (threads or processes) never share one, and the profiles are reused (a first start costs
seconds) instead of piling up in /tmp. Without LibreOffice the DOCX stands alone, said once in
the log.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wpflow.files import replacing

log = logging.getLogger(__name__)

TIMEOUT_S = 180.0  # a 10 000-row report takes about a minute on a loaded 2-core machine
_warned = threading.Event()


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


def docx_to_pdf(docx: Path, timeout: float = TIMEOUT_S) -> Path | None:
    """Write `<docx stem>.pdf` beside `docx` and return its path; None (logged) when LibreOffice
    is missing, fails or takes longer than `timeout` seconds."""
    exe = soffice()
    if exe is None:
        if not _warned.is_set():
            _warned.set()
            log.warning("LibreOffice (soffice) is not installed: reports are written as DOCX only, without a PDF")
        return None
    target = docx.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="wpflow-pdf-") as tmp, profile_dir() as profile:
        command = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(docx),
        ]
        if not run(command, timeout):
            return None
        made = Path(tmp) / target.name
        if not made.exists():
            log.warning("LibreOffice made no PDF of %s", docx.name)
            return None
        with replacing(target) as partial:
            shutil.move(made, partial)
    return target


def run(command: list[str], timeout: float) -> bool:
    """Run LibreOffice in its own process group, so a timeout kills its helper processes too."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        log.warning("LibreOffice took longer than %.0f s; no PDF for %s", timeout, command[-1])
        return False
    if proc.returncode != 0:
        log.warning(
            "LibreOffice failed (exit %s) on %s: %s",
            proc.returncode,
            command[-1],
            output.decode(errors="replace")[-500:],
        )
        return False
    return True
