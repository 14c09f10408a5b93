"""Set the templates' fonts to ones with a metric twin on every platform: Arial and Courier New.

A report's tables are laid out from measured text widths (`wpflow.report.table_layout`), so
the font a reader's program draws with must have the advance widths we measured. Arial and
Courier New are on every Windows and macOS machine, and LibreOffice draws them with Liberation
Sans and Liberation Mono, their metric-compatible twins, which a default LibreOffice install on
Linux brings along (Debian: fonts-liberation2). Calibri, Cambria and Consolas have twins too
(Carlito, Caladea), but only where someone installed them; elsewhere LibreOffice falls back to
the wider DejaVu Sans and tables break words and numbers.

Only font names change: every `w:rFonts` (styles, body, footers) and the theme's fonts. Theme
references (`w:asciiTheme`, ...) become the names themselves, so no program resolves a theme font
differently. Idempotent and independent of the templates' structure: run it again after any
edit to the templates (e.g. after scripts/build_report_template.py or build_final_templates.py):

    .venv/bin/python scripts/set_template_fonts.py [template.docx ...]
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
SANS = "Arial"
MONO = "Courier New"
RENAME = {"Calibri": SANS, "Cambria": SANS, "Calibri Light": SANS, "Courier": MONO, "Consolas": MONO}
THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme")
_RFONTS = re.compile(r"<w:rFonts\b([^>]*?)(/?)>")
_ATTR = re.compile(r'\s+([\w:]+)="([^"]*)"')
_THEME_FONT = re.compile(r'(<a:(?:latin)\s+typeface=")([^"]*)(")')
PARTS = re.compile(r"^word/(styles|document|footer\d*|header\d*)\.xml$")


def rfonts(match: re.Match[str]) -> str:
    """One `w:rFonts` element with theme references and renamed fonts replaced by our names."""
    attrs = dict(_ATTR.findall(match.group(1)))
    themed = any(a in attrs for a in THEME_ATTRS)
    for a in THEME_ATTRS:
        attrs.pop(a, None)
    for a in ("w:ascii", "w:hAnsi", "w:cs"):
        if a in attrs:
            attrs[a] = RENAME.get(attrs[a], attrs[a])
        elif themed:
            attrs[a] = SANS
    inner = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<w:rFonts{inner}{match.group(2)}>"


def edit_part(name: str, xml: str) -> str:
    if name == "word/theme/theme1.xml":
        return _THEME_FONT.sub(lambda m: m.group(1) + RENAME.get(m.group(2), m.group(2)) + m.group(3), xml)
    if PARTS.match(name):
        return _RFONTS.sub(rfonts, xml)
    return xml


def set_fonts(path: Path) -> bool:
    """Rewrite `path` with our fonts; False (file untouched) when it already has them."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    edited = []
    for info, data in items:
        if info.filename.endswith(".xml"):
            text = data.decode("utf-8")
            new = edit_part(info.filename, text)
            data = new.encode("utf-8") if new != text else data
        edited.append((info, data))
    if all(a[1] is b[1] for a, b in zip(items, edited)):
        return False
    with (
        tempfile.NamedTemporaryFile(dir=path.parent, suffix=".docx", delete=False) as tmp,
        zipfile.ZipFile(tmp, "w") as out,
    ):
        for info, data in edited:
            out.writestr(info, data, compress_type=info.compress_type)
    shutil.move(tmp.name, path)
    return True


def main(paths: list[str]) -> None:
    for path in [Path(p) for p in paths] or sorted(TEMPLATES.glob("*.docx")):
        print(f"{path.name}: {'fonts set' if set_fonts(path) else 'already set'}")


if __name__ == "__main__":
    main(sys.argv[1:])
