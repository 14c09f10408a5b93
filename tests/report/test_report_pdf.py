"""The reports as a reader sees them: rendered through LibreOffice to PDF and read back with
`pdftotext -layout`. WP4-M3 (a wide seed-funding table), WP3-M1 (clusters) and WP3-M2 (no partner
file arrived: no report goes to the partners, so its draft — what a coordinator previews before
the due date) from the bundled project and inbox, as of the end of the project.

Needs LibreOffice and poppler-utils (`scripts/install-render-tools.sh`); skipped without them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT

MILESTONES = ["WP4-M3", "WP3-M1", "WP3-M2"]
AS_OF = date(2008, 1, 31)
DRAFT_AS_OF = date(2005, 12, 1)  # WP3-M2 is due 2005-12-31: before it, a draft is rendered
FOOTER = re.compile(r"^\s*\S.*Page \d+ of \d+\s*$")
NUMBER = re.compile(r"^[\d\u202f.,]+$")

pytestmark = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext")),
    reason="LibreOffice (soffice) and poppler-utils (pdftotext) are not installed: "
    "run scripts/install-render-tools.sh to check the reports' layout",
)


def flat(text: str) -> str:
    """No-break and thin spaces as plain spaces, as a reader compares them."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """milestone → (DOCX path, the PDF's pages as `pdftotext -layout` text)."""
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import Workspace

    out = tmp_path_factory.mktemp("pdf")
    ws = Workspace(Settings(project=BUNDLED_PROJECT, outputs=out, stable_seconds=0, report_pdf=True, _env_file=None))
    made = {}
    for milestone in MILESTONES:
        ref = run_direct(ws, milestone, DRAFT_AS_OF if milestone == "WP3-M2" else AS_OF).report
        assert ref.pdf_path and Path(ref.pdf_path).exists(), f"no PDF beside {ref.path}"
        text = subprocess.run(
            ["pdftotext", "-layout", ref.pdf_path, "-"], check=True, capture_output=True, text=True
        ).stdout
        made[milestone] = (Path(ref.path), flat(text).split("\f")[:-1])
    return made


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


@pytest.mark.parametrize("milestone", MILESTONES)
def test_amounts_and_cities_never_break(reports, milestone):
    path, pages = reports[milestone]
    lines = "\n".join(pages)
    broken = sorted(c for c in cells_that_must_not_break(path) if not re.search(rf"(?<!\S){re.escape(c)}(?!\S)", lines))
    assert not broken, f"{milestone}: split over lines or cut: {broken}"


@pytest.mark.parametrize("milestone", MILESTONES)
def test_no_header_word_is_split(reports, milestone):
    path, pages = reports[milestone]
    lines = "\n".join(pages)
    words = {w for rows in tables(path) for header in rows[0] for w in flat(header).split()}
    split = sorted(w for w in words if not re.search(rf"(?<!\S){re.escape(w)}(?!\S)", lines))
    assert not split, f"{milestone}: header words split: {split}"


@pytest.mark.parametrize("milestone", MILESTONES)
def test_contents_page_lists_the_headings(reports, milestone):
    path, pages = reports[milestone]
    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    contents = next(p for p in pages if re.search(r"^Contents\s*$", p, re.MULTILINE))
    assert "Word fills in" not in contents
    listed = [line.strip() for line in contents.splitlines()]
    assert headings and all(h in listed for h in headings), [h for h in headings if h not in listed]


@pytest.mark.parametrize("milestone", MILESTONES)
def test_no_page_is_blank(reports, milestone):
    _, pages = reports[milestone]
    blank = [
        n
        for n, page in enumerate(pages, start=1)
        if not [line for line in page.splitlines() if line.strip() and not FOOTER.match(line)]
    ]
    assert not blank, f"{milestone}: blank pages {blank} of {len(pages)}"


def test_people_read_words_not_ids(reports):
    text = "\n".join(reports["WP4-M3"][1])
    assert "TSB Innovationsagentur" in text and "berlin-tsb" not in text
    assert "31 January 2008" in text and "2008-01-31" not in text and "seed_funding " not in text
    # the notes on the sources are the coordinator's (`wpflow project check`), not the partners'
    assert "Notes on the sources" not in text and "falls outside the milestone period" not in text
    assert "Narratives" not in text  # WP4-M3 asks for no narrative
    empty = "\n".join(reports["WP3-M2"][1])
    assert "No city had delivered a valid file of this kind by 1 December 2005." in empty
    assert "No valid partner file had arrived by 1 December 2005." in empty


def test_wide_table_gets_a_landscape_page(reports):
    path, _ = reports["WP4-M3"]
    sections = docx.Document(str(path)).sections
    assert [s.orientation for s in sections].count(1) == 1  # WD_ORIENT.LANDSCAPE
    assert all(
        tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None
        for t in docx.Document(str(path)).tables
        for tr in t._tbl.findall(qn("w:tr"))
    )
