"""A PDF beside the DOCX, made by LibreOffice when it is installed.

Coordinators forward reports to people without Word; a PDF also shows the layout exactly as
checked. `soffice --convert-to pdf` runs headless with a profile of its own per process and
thread (`-env:UserInstallation`): two conversions sharing a profile make the second one exit
silently without output. Without LibreOffice the DOCX stands alone, said once in the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT_S = 180.0  # a 10 000-row report takes about a minute on a loaded 2-core machine
_warned = threading.Event()


def soffice() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def profile_dir() -> Path:
    """A LibreOffice profile per process and thread: reused (its first start costs seconds),
    never shared by two conversions at once."""
    return Path(tempfile.gettempdir()) / f"wpflow-soffice-{os.getpid()}-{threading.get_ident()}"


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
    with tempfile.TemporaryDirectory(prefix="wpflow-pdf-") as tmp:
        command = [exe, f"-env:UserInstallation={profile_dir().as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", tmp, str(docx)]
        if not run(command, timeout):
            return None
        made = Path(tmp) / target.name
        if not made.exists():
            log.warning("LibreOffice made no PDF of %s", docx.name)
            return None
        partial = target.with_name(target.name + ".tmp")
        shutil.move(made, partial)
        partial.replace(target)
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
        log.warning("LibreOffice failed (exit %s) on %s: %s", proc.returncode, command[-1],
                    output.decode(errors="replace")[-500:])
        return False
    return True
