"""The reports as a reader sees them: rendered through LibreOffice to PDF and read back with
`pdftotext -layout`. WP4-M3 (a wide seed-funding table), WP3-M1 (clusters) and WP3-M2 (no partner
file arrived: no report goes to the partners, so its draft — what a coordinator previews before
the due date) from the bundled project and inbox, as of the end of the project.

Rendered with LibreOffice's default fonts only: Carlito and Caladea, where installed, are hidden
from it (`FONTCONFIG_FILE`, inherited by LibreOffice), so the layout is checked as on a machine
without them. Needs LibreOffice and poppler-utils (`scripts/install-render-tools.sh`); skipped
without them.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT
from tests.report.pdf_text import (
    cells_that_must_not_break,
    contents_entries,
    fonts_config,
    header_words,
    headings,
    missing_whole,
    needs_libreoffice,
    pdf_pages,
)

MILESTONES = ["WP4-M3", "WP3-M1", "WP3-M2"]
AS_OF = date(2008, 1, 31)
DRAFT_AS_OF = date(2005, 12, 1)  # WP3-M2 is due 2005-12-31: before it, a draft is rendered
FOOTER = re.compile(r"^\s*\S.*Page \d+ of \d+\s*$")

pytestmark = needs_libreoffice


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """milestone → (DOCX path, the PDF's pages as `pdftotext -layout` text)."""
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import Workspace

    out = tmp_path_factory.mktemp("pdf")
    ws = Workspace(Settings(project=BUNDLED_PROJECT, outputs=out, stable_seconds=0, report_pdf=True, _env_file=None))
    made = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FONTCONFIG_FILE", str(fonts_config(out)))
        for milestone in MILESTONES:
            ref = run_direct(ws, milestone, DRAFT_AS_OF if milestone == "WP3-M2" else AS_OF).report
            assert ref.pdf_path and Path(ref.pdf_path).exists(), f"no PDF beside {ref.path}"
            made[milestone] = (Path(ref.path), pdf_pages(Path(ref.pdf_path)))
    return made


@pytest.mark.parametrize("milestone", MILESTONES)
def test_amounts_and_cities_never_break(reports, milestone):
    path, pages = reports[milestone]
    assert not missing_whole(cells_that_must_not_break(path), pages), f"{milestone}: split over lines or cut"


@pytest.mark.parametrize("milestone", MILESTONES)
def test_no_header_word_is_split(reports, milestone):
    path, pages = reports[milestone]
    assert not missing_whole(header_words(path), pages), f"{milestone}: header words split"


@pytest.mark.parametrize("milestone", MILESTONES)
def test_contents_page_lists_the_headings_with_their_pages(reports, milestone):
    path, pages = reports[milestone]
    assert "Word fills in" not in "\n".join(pages)
    entries = contents_entries(pages)
    assert headings(path) and [h for h, _ in entries] == headings(path)
    assert all(2 < n <= len(pages) for _, n in entries), entries


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
    assert "Innovationsagentur" in text and "berlin-tsb" not in text  # TSB's name, wrapped in its cell
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
