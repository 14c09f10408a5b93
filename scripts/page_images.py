"""Page images of the demo's PDFs for the docs: WP4-M3's report and the joint final report.

Run after `make demo` (which leaves outputs/reports/baltmet-inno/*.pdf):

    .venv/bin/python scripts/page_images.py [--dpi 80] [--out docs/images]

Each page becomes docs/images/<report>-<page>.png, rendered by poppler's pdftoppm at a modest
resolution and reduced to a small palette (Pillow), so the pictures stay readable and the
repository small (about 1 MB for both reports). Old images of the same reports are removed
first: a report that got shorter leaves no stale page behind. docs/pdf.md shows them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "outputs" / "reports" / "baltmet-inno"
NAMES = ["WP4-M3", "final"]
COLOURS = 64  # text, the headings' blues and the charts' few colours


def page_images(pdf: Path, out: Path, dpi: int) -> list[Path]:
    """Render every page of `pdf` to `out/<stem>-<n>.png`; returns the images in page order."""
    for old in out.glob(f"{pdf.stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out / pdf.stem)], check=True)
    pages = sorted(out.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for n, page in enumerate(pages, start=1):
        target = out / f"{pdf.stem}-{n}.png"  # pdftoppm pads page numbers ("-01") as it likes
        with Image.open(page) as image:
            small = image.convert("RGB").quantize(COLOURS, dither=Image.Dither.NONE)
        page.unlink()
        small.save(target, optimize=True)
    return [out / f"{pdf.stem}-{n}.png" for n in range(1, len(pages) + 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, default=80)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        print("page_images: pdftoppm is missing (poppler-utils; scripts/install-render-tools.sh)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        pdf = REPORTS / f"{name}.pdf"
        if not pdf.is_file():
            print(f"page_images: no {pdf.relative_to(ROOT)}; run make demo first", file=sys.stderr)
            return 1
        made = page_images(pdf, args.out, args.dpi)
        size = sum(p.stat().st_size for p in made)
        print(f"{name}: {len(made)} pages, {size / 1024:.0f} KB in {args.out.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
