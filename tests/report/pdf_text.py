"""Reading a report's PDF as a reader sees it (`pdftotext -layout`, `pdffonts`) beside its DOCX,
and a font configuration with LibreOffice's default fonts only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

NUMBER = re.compile(r"^[\d\u202f.,]+$")
# A contents line: the heading, a dot leader, the page number at the end of the line.
CONTENTS_LINE = re.compile(r"^\s*(?P<heading>\S.*?)\s*\.{3,}\s*(?P<page>\d+)\s*$")
# What LibreOffice may embed for the templates' Arial and Courier New: the fonts themselves or
# their metric twins; OpenSymbol draws the list bullets (the templates' Symbol font).
TWIN_FONTS = {"Arial", "ArialMT", "LiberationSans", "Arimo", "CourierNew", "LiberationMono", "Cousine", "OpenSymbol"}
# Fonts a default LibreOffice install on Debian does not bring: the twins of Calibri and Cambria.
HIDDEN = ("Carlito", "Caladea")

needs_libreoffice = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdffonts")),
    reason="LibreOffice (soffice) and poppler-utils (pdftotext, pdffonts) are not installed: "
    "run scripts/install-render-tools.sh to check the reports' layout",
)


def fonts_config(folder: Path, hidden: tuple[str, ...] = HIDDEN) -> Path:
    """A fontconfig file: the machine's configuration with the `hidden` families rejected, so
    LibreOffice renders as on a machine that never had them."""
    base = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    patterns = "".join(f"<pattern><patelt name='family'><string>{f}</string></patelt></pattern>" for f in hidden)
    path = folder / f"fonts-without-{'-'.join(h.replace(' ', '') for h in hidden)}.conf"
    path.write_text(
        "<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'urn:fontconfig:fonts.dtd'><fontconfig>"
        f"<include ignore_missing='yes'>{base}</include>"
        f"<selectfont><rejectfont>{patterns}</rejectfont></selectfont></fontconfig>",
        encoding="utf-8",
    )
    return path


def flat(text: str) -> str:
    """No-break and thin spaces as plain spaces, as a reader compares them."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def pdf_pages(pdf: Path) -> list[str]:
    """The PDF's pages as `pdftotext -layout` text, spaces flattened."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return flat(text).split("\f")[:-1]


def embedded_fonts(pdf: Path) -> set[str]:
    """The fonts `pdffonts` lists, without subset prefix and face: {'LiberationSans', ...}."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines()[2:] if line.strip()]
    return {name.split("+")[-1].split("-")[0].split(",")[0] for name in names}


def tables(path: Path) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in docx.Document(str(path)).tables]


def cells_that_must_not_break(path: Path) -> set[str]:
    """Every amount of every table, and every city name (the 'City' columns)."""
    found = set()
    for rows in tables(path):
        city_columns = [i for i, h in enumerate(rows[0]) if h == "City"]
        for row in rows[1:]:
            found |= {flat(c) for c in row if NUMBER.match(c)}
            found |= {flat(row[i]) for i in city_columns if row[i]}
    return found


def header_words(path: Path) -> set[str]:
    return {w for rows in tables(path) for header in rows[0] for w in flat(header).split()}


def missing_whole(texts: set[str], pages: list[str]) -> list[str]:
    """Those of `texts` that appear nowhere whole (between spaces or line ends) in the pages."""
    lines = "\n".join(pages)
    return sorted(t for t in texts if not re.search(rf"(?<!\S){re.escape(t)}(?!\S)", lines))


def headings(path: Path) -> list[str]:
    document = docx.Document(str(path))
    return [
        p.text.strip() for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2") and p.text.strip()
    ]


def contents_page(pages: list[str]) -> str:
    return next(p for p in pages if re.search(r"^Contents\s*$", p, re.MULTILINE))


def contents_entries(pages: list[str]) -> list[tuple[str, int]]:
    """(heading, page number) of every line of the contents page that ends with a page number."""
    found = [CONTENTS_LINE.match(line) for line in contents_page(pages).splitlines()]
    return [(m["heading"], int(m["page"])) for m in found if m]
