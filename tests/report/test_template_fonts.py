"""The templates ask only for fonts with a metric twin everywhere, and the widths the tables are
measured with are those fonts' widths.

A template rebuilt from python-docx's default (Calibri, Cambria) or edited in Word with another
font would lay out differently from what `wpflow.report.table_layout` measures: run
scripts/set_template_fonts.py after such an edit (it says "already set" when nothing changed).
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from schemas.settings import ROOT
from wpflow.report import table_layout
from wpflow.report.fonts import TWINS

TEMPLATES = sorted((ROOT / "templates").glob("*.docx"))
ALLOWED = set(TWINS) | {"Symbol"}  # Symbol: the list bullets, drawn with OpenSymbol by LibreOffice
LIBERATION = Path("/usr/share/fonts/truetype/liberation2")


def fonts_named(path: Path) -> tuple[set[str], set[str], set[str]]:
    """(fonts named in w:rFonts, theme references in w:rFonts, the theme's Latin fonts)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}
    named, themed, theme = set(), set(), set()
    for name, xml in parts.items():
        for attrs in re.findall(r"<w:rFonts\b([^>]*)/?>", xml):
            named |= set(re.findall(r'w:(?:ascii|hAnsi|cs)="([^"]*)"', attrs))
            themed |= set(re.findall(r'w:(?:asciiTheme|hAnsiTheme|cstheme)="([^"]*)"', attrs))
        if name.startswith("word/theme/"):
            theme |= set(re.findall(r'<a:latin typeface="([^"]*)"', xml))
    return named, themed, theme


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_ask_only_for_fonts_with_metric_twins(template):
    named, themed, theme = fonts_named(template)
    assert "Arial" in named and named <= ALLOWED, named
    assert not themed, f"theme fonts resolve differently per program: {themed}"
    assert theme == {"Arial"}, theme


def test_setting_the_fonts_again_changes_nothing(tmp_path):
    copies = []
    for template in TEMPLATES:
        copy = tmp_path / template.name
        copy.write_bytes(template.read_bytes())
        copies.append(copy)
    script = ROOT / "scripts" / "set_template_fonts.py"
    done = subprocess.run([sys.executable, str(script), *map(str, copies)], capture_output=True, text=True, check=True)
    assert done.stdout.count("already set") == len(TEMPLATES), done.stdout
    assert [c.read_bytes() for c in copies] == [t.read_bytes() for t in TEMPLATES]


@pytest.mark.skipif(not LIBERATION.is_dir(), reason="Liberation fonts (fonts-liberation2) are not installed")
def test_the_measured_widths_are_liberation_sans_widths():
    """The widest of the four faces per character, as table_layout holds them."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    faces = [
        ttlib.TTFont(LIBERATION / f"LiberationSans-{face}.ttf") for face in ("Regular", "Bold", "Italic", "BoldItalic")
    ]

    def width(ch: str) -> int:
        return round(max(f["hmtx"][f.getBestCmap()[ord(ch)]][0] * 1000 / f["head"].unitsPerEm for f in faces))

    assert [width(chr(c)) for c in range(32, 127)] == table_layout._ASCII
    for measured, chars in table_layout._OTHER.items():
        assert [width(c) for c in chars] == [measured] * len(chars), chars
