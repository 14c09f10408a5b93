"""DOCX → PDF through LibreOffice's UNO API, with the document's indexes updated first.

`soffice --convert-to pdf` exports the contents list as the DOCX stores it, and LibreOffice
does not compute page numbers inside a stored result. Updating the index in LibreOffice before
the export lays the document out and writes every entry with its page number, as Word does
on open.

This file is a script for a Python that has LibreOffice's `uno` module (Debian's python3-uno,
for /usr/bin/python3; LibreOffice's own `program/python` elsewhere), never imported by wpflow:
wpflow's Python usually cannot load `uno`. `wpflow.report.pdf` runs it as

    <python> uno_export.py <soffice> <profile URL> <out.pdf> <in.docx>

It starts one LibreOffice listening on a private pipe, converts, and ends it; exit 0 when the
PDF was written. The profile is the caller's (locked by it), so no other LibreOffice shares it.
The caller starts the script in a session of its own, so a LibreOffice that hangs dies with the
whole group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CONNECT_S = 60.0  # a first start with a fresh profile takes a few seconds on a loaded machine


def prop(name: str, value: Any) -> Any:
    import uno  # only in the script's Python, see the docstring

    p = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    p.Name, p.Value = name, value
    return p


def connect(pipe: str, office: subprocess.Popen[bytes]) -> Any:
    """The desktop of the LibreOffice listening on `pipe`, retried until it is up."""
    import uno

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_S
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            if office.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def export(desktop: Any, source: Path, target: Path) -> None:
    import uno

    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(str(source)), "_blank", 0, (prop("Hidden", True), prop("ReadOnly", True))
    )
    try:
        indexes = doc.getDocumentIndexes()
        # Twice: the first pass may change the contents' length and move what follows it.
        for _ in range(2):
            for n in range(indexes.getCount()):
                indexes.getByIndex(n).update()
        doc.refresh()
        doc.storeToURL(uno.systemPathToFileUrl(str(target)), (prop("FilterName", "writer_pdf_Export"),))
    finally:
        doc.close(True)


def main(soffice: str, profile: str, target: str, source: str) -> int:
    pipe = f"wpflow-{os.getpid()}"
    office = subprocess.Popen(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        desktop = connect(pipe, office)
        try:
            export(desktop, Path(source).resolve(), Path(target).resolve())
        finally:
            with contextlib.suppress(Exception):  # the bridge drops while LibreOffice exits
                desktop.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):  # the PDF is written: ended below
            office.wait(timeout=30)
    finally:
        if office.poll() is None:
            stop_all(office)
    return 0 if Path(target).is_file() else 1


def stop_all(office: subprocess.Popen[bytes]) -> None:
    """`soffice` is a shell script whose soffice.bin outlives a killed parent: when this script
    leads its own session (as wpflow starts it), signal the whole group, ignoring the signal
    here so the script still reports whether the PDF was written; SIGKILL (this script included)
    only for a LibreOffice that ignores SIGTERM."""
    sys.stderr.flush()
    if os.getsid(0) == os.getpid():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.killpg(0, signal.SIGTERM)
        try:
            office.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            os.killpg(0, signal.SIGKILL)
    office.kill()
    office.wait()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
