"""The demo's reports as PDFs on a machine with LibreOffice's default fonts only: WP4-M3 (five
budgets, a wide table), WP4's final report and the joint final report, converted with Carlito
and Caladea hidden from LibreOffice (a fontconfig file passed to it in `env`). Nothing may
break mid-word, the contents list has page numbers that point at the headings, and the PDF
embeds the templates' fonts' metric twins.

Needs LibreOffice and poppler-utils (`scripts/install-render-tools.sh`); skipped without them.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.report.pdf_text import (
    TWIN_FONTS,
    cells_that_must_not_break,
    contents_entries,
    embedded_fonts,
    fonts_config,
    header_words,
    headings,
    missing_whole,
    needs_libreoffice,
    pdf_pages,
)
from wpflow.report import fonts, pdf

REPORTS = ["WP4-M3", "WP4", "final"]

pytestmark = needs_libreoffice


@pytest.fixture(scope="module")
def converted(demo_outputs, tmp_path_factory) -> dict[str, tuple[Path, Path, list[str]]]:
    """report → (DOCX, PDF, the PDF's pages as text), converted with the default fonts only."""
    folder = tmp_path_factory.mktemp("default-fonts")
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts_config(folder))}
    made = {}
    for name in REPORTS:
        source = shutil.copy(demo_outputs[0] / "reports" / "baltmet-inno" / f"{name}.docx", folder)
        target = pdf.docx_to_pdf(Path(source), env=env)
        assert target is not None and target.is_file(), f"no PDF of {name}"
        made[name] = (Path(source), target, pdf_pages(target))
    return made


@pytest.mark.parametrize("name", REPORTS)
def test_no_amount_or_city_breaks_across_lines(converted, name):
    path, _, pages = converted[name]
    musts = cells_that_must_not_break(path)
    assert {"Copenhagen", "Stockholm"} <= musts
    assert not missing_whole(musts, pages), f"{name}: split over lines or cut"
    text = "\n".join(pages)
    assert "Copenhag\n" not in text and "Copenhag " not in text


@pytest.mark.parametrize("name", REPORTS)
def test_no_header_word_breaks(converted, name):
    path, _, pages = converted[name]
    words = header_words(path)
    assert "City" in words and ("Milestone" in words or name == "WP4-M3")
    assert not missing_whole(words, pages), f"{name}: header words split"


@pytest.mark.parametrize("name", REPORTS)
def test_the_contents_list_gives_each_headings_page(converted, name):
    path, _, pages = converted[name]
    entries = contents_entries(pages)
    assert [h for h, _ in entries] == headings(path)
    numbers = [n for _, n in entries]
    assert numbers == sorted(numbers) and numbers[0] > 2 and numbers[-1] <= len(pages)
    for heading, number in entries:  # the heading is on the page the contents list names (perhaps wrapped)
        assert joined(heading) in joined(pages[number - 1]), (heading, number)


def joined(text: str) -> str:
    """Lines joined, as a wrapped heading reads: "round-" and "up" make "round-up"."""
    return re.sub(r"(?<=-) ", "", " ".join(text.split()))


@pytest.mark.parametrize("name", REPORTS)
def test_the_pdf_embeds_the_templates_fonts_or_their_metric_twins(converted, name):
    _, target, _ = converted[name]
    embedded = embedded_fonts(target)
    assert embedded <= TWIN_FONTS and embedded & {"LiberationSans", "Arial", "ArialMT", "Arimo"}, embedded


def test_without_the_twins_there_is_no_pdf_and_one_line_says_what_to_install(
    demo_outputs, tmp_path, monkeypatch, caplog
):
    """A broken layout is worse than none: the DOCX stands alone, said once."""
    monkeypatch.setattr(pdf, "_said", set())
    hidden = ("Liberation Sans", "Liberation Mono", "Arimo", "Cousine", "Arial", "Courier New")
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts_config(tmp_path, hidden))}
    if fonts.drawn_as("Arial", env) is None:
        pytest.skip("fontconfig's fc-match is not installed")
    source = Path(shutil.copy(demo_outputs[0] / "reports" / "baltmet-inno" / "WP4-M3.docx", tmp_path))
    with caplog.at_level(logging.WARNING, logger="wpflow.report.pdf"):
        assert pdf.docx_to_pdf(source, env=env) is None
        assert pdf.docx_to_pdf(source, env=env) is None
    assert not source.with_suffix(".pdf").exists()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "no metric twin of Arial or Courier New" in lines[0], lines
    assert "fonts-liberation2" in lines[0] and "DOCX only" in lines[0]


def test_the_line_names_what_is_missing_and_the_packages():
    assert fonts.missing_line([], uno=False) == (
        "PDF: no Python with LibreOffice's uno module, so the PDF's contents list has no page numbers. "
        "Install python3-uno (Debian/Ubuntu: scripts/install-render-tools.sh does it)"
    )
    both = fonts.missing_line(["Arial"], uno=False)
    assert (
        both.count("PDF:") == 1
        and "\n" not in both
        and both.endswith(
            "Install fonts-liberation2 python3-uno (Debian/Ubuntu: scripts/install-render-tools.sh does it)"
        )
    )


def test_without_python_uno_the_pdf_is_made_with_contents_but_no_page_numbers(
    demo_outputs, tmp_path, monkeypatch, caplog
):
    """The plain `soffice --convert-to` of before, said once: the layout is right, only the
    contents' page numbers are missing."""
    monkeypatch.setattr(pdf, "uno_python", lambda _soffice: None)
    monkeypatch.setattr(pdf, "_said", set())
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts_config(tmp_path))}
    source = Path(shutil.copy(demo_outputs[0] / "reports" / "baltmet-inno" / "WP4-M3.docx", tmp_path))
    with caplog.at_level(logging.WARNING, logger="wpflow.report.pdf"):
        target = pdf.docx_to_pdf(source, env=env)
    assert target is not None
    pages = pdf_pages(target)
    assert not contents_entries(pages) and "Annex B: provenance" in pages[1]
    assert not missing_whole(cells_that_must_not_break(source), pages)
    assert [r.getMessage() for r in caplog.records] == [fonts.missing_line([], uno=False)]


@pytest.mark.parametrize("name", REPORTS)
def test_no_page_is_blank_or_nearly_so(converted, name):
    """A page holding only its footer, or a heading and a line above a table that starts on the
    next page, reads as a mistake: every page but the title page has at least three lines."""
    _, _, pages = converted[name]
    footer = re.compile(r"Page \d+ of \d+")
    thin = {
        n: lines
        for n, page in enumerate(pages, 1)
        if n > 1 and len(lines := [line for line in page.splitlines() if line.strip() and not footer.search(line)]) < 3
    }
    assert not thin, f"{name}: nearly empty pages {thin}"
