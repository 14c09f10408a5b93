"""What LibreOffice needs beside itself to make a report's PDF as laid out: the fonts' metric
twins and a Python that can drive it over UNO.

The templates ask for Arial and Courier New (scripts/set_template_fonts.py), and the tables'
column widths are measured with Arial's advance widths (`wpflow.report.table_layout`). On Linux
LibreOffice draws them with whatever fontconfig offers: Liberation Sans and Liberation Mono (or
Arimo and Cousine), metric-compatible twins, when installed; else DejaVu Sans, wider, which
breaks numbers and words in the tables. So the twins are a precondition of a correct PDF, asked
of fontconfig (`fc-match`) once per process and font configuration (`FONTCONFIG_FILE`). Where
there is no fc-match (Windows, macOS) the fonts themselves are installed with the system.

The contents' page numbers need the document's indexes updated inside LibreOffice
(`wpflow/report/uno_export.py`), run by a Python with LibreOffice's `uno` module: its own
`program/python` where LibreOffice ships one, the system's python3 with python3-uno on Debian.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

FONTS_PACKAGE = "fonts-liberation2"  # Debian's Liberation Sans, Serif and Mono 2.x
UNO_PACKAGE = "python3-uno"
TWINS = {
    "Arial": ("Arial", "Liberation Sans", "Arimo"),
    "Courier New": ("Courier New", "Liberation Mono", "Cousine"),
}
CHECK_TIMEOUT_S = 30.0
_missing: dict[str, list[str]] = {}
_lock = threading.Lock()


def drawn_as(family: str, env: Mapping[str, str] | None = None) -> str | None:
    """The family fontconfig substitutes for `family`, or None without fontconfig's tools."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-f", "%{family[0]}", family],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
            env=dict(env) if env is not None else None,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def missing_twins(env: Mapping[str, str] | None = None) -> list[str]:
    """The template fonts for which this machine has neither the font nor a metric twin.
    Asked once per fontconfig configuration: fonts do not come and go while a run lasts, and a
    test that hides some points FONTCONFIG_FILE elsewhere."""
    config = (env if env is not None else os.environ).get("FONTCONFIG_FILE", "")
    with _lock:
        if config not in _missing:
            _missing[config] = [
                font
                for font, twins in TWINS.items()
                if (found := drawn_as(font, env)) is not None and found not in twins
            ]
        return list(_missing[config])


@functools.cache
def uno_python(soffice: str) -> str | None:
    """A Python that can `import uno` and so drive the LibreOffice at `soffice`, if any."""
    program = Path(soffice).resolve().parent
    candidates = [program / "python", program / "python.exe", Path("/usr/bin/python3")]
    for python in candidates:
        if not python.is_file():
            continue
        try:
            done = subprocess.run(
                [str(python), "-c", "import uno"], capture_output=True, timeout=CHECK_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return str(python)
    return None


def missing_line(fonts: list[str], uno: bool) -> str:
    """One log line: what is missing, what it costs, what to install."""
    parts, packages = [], []
    if fonts:
        parts.append(
            f"no metric twin of {' or '.join(fonts)} (LibreOffice would draw a wider font and break "
            "numbers and words in the tables), so reports are written as DOCX only"
        )
        packages.append(FONTS_PACKAGE)
    if not uno:
        parts.append("no Python with LibreOffice's uno module, so the PDF's contents list has no page numbers")
        packages.append(UNO_PACKAGE)
    return (
        f"PDF: {'; '.join(parts)}. Install {' '.join(packages)} "
        "(Debian/Ubuntu: scripts/install-render-tools.sh does it)"
    )
