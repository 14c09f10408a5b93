"""Dates as a secretariat types them, and the headers `init` accepts: one table (in
`wpflow/init/columns.py`) that the reader, `init --help` and docs/new-project.md all show."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.init.sheets import wpflow
from wpflow.init.columns import SHEETS, header_key, headers_markdown, lookup
from wpflow.init.dates import parse_date, parse_month, parse_period


@pytest.mark.parametrize(
    "typed",
    [
        datetime(2009, 6, 30, 0, 0),  # an Excel date cell, as the reader gives it
        date(2009, 6, 30),
        "2009-06-30",
        "30.06.2009",
        "30.6.2009",
        "30/06/2009",
        "30 June 2009",
        "30 june 2009",
        "30 Jun 2009",
        "30. Juni 2009".replace("Juni", "June"),
        "June 30, 2009",
        "Jun 30 2009",
        "June 30th, 2009",
        " 30  June  2009 ",
    ],
)
def test_dates_as_people_type_them(typed: object) -> None:
    assert parse_date(typed) == date(2009, 6, 30)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("06/30/2009", "'06/30/2009' is not a date (month must be in 1..12); write it as 2009-06-30, 30.06.2009"),
        ("31 June 2009", "'31 June 2009' is not a date (day is out of range for month)"),
        ("30 Juin 2009", "'30 Juin 2009' is not a date; write it as 2009-06-30"),
        ("soon", "'soon' is not a date; write it as 2009-06-30, 30.06.2009, 30/06/2009 (day first), 30 June 2009"),
        ("09-06-30", "is not a date"),  # a two-digit year is never guessed
    ],
)
def test_what_is_not_a_date_says_what_is(typed: str, words: str) -> None:
    with pytest.raises(ValueError, match=r"^") as refused:
        parse_date(typed)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "month"),
    [("2006-09", "2006-09"), ("9/2006", "2006-09"), ("September 2006", "2006-09"), ("Sept 2006", "2006-09")],
)
def test_months(typed: str, month: str) -> None:
    assert parse_month(typed) == month


@pytest.mark.parametrize(
    ("typed", "period"),
    [
        ("2008–2010", (date(2008, 1, 1), date(2010, 12, 31))),
        ("2008-2010", (date(2008, 1, 1), date(2010, 12, 31))),
        ("1.3.2008 – 28.2.2011", (date(2008, 3, 1), date(2011, 2, 28))),
        ("2008-03-01 to 2011-02-28", (date(2008, 3, 1), date(2011, 2, 28))),
    ],
)
def test_project_periods(typed: str, period: tuple[date, date]) -> None:
    assert parse_period(typed) == period


def test_no_header_means_two_things_on_one_sheet() -> None:
    for sheet, columns in SHEETS.items():
        written = [header_key(w) for name, others in columns.items() for w in (name, *others)]
        repeated = {w for w in written if written.count(w) > 1}
        assert not repeated, f"{sheet}: {repeated}"
        assert set(lookup(columns).values()) == set(columns)


def test_the_issues_headers_are_accepted() -> None:
    project, partners = lookup(SHEETS["Project"]), lookup(SHEETS["Partners"])
    for written in ("Programme period", "Programming period", "Period"):
        assert project[header_key(written)] == "programme_period", written
    assert project[header_key("Project period")] == "project_period"
    for written in ("E-mail", "Email", "Mail", "e-mail address"):
        assert partners[header_key(written)] == "email", written


def test_docs_list_the_accepted_headers_from_the_one_table() -> None:
    """docs/new-project.md holds `headers_markdown()` verbatim: edit columns.py, then paste its
    output (`python -c 'from wpflow.init.columns import headers_markdown; print(headers_markdown())'`)."""
    doc = (ROOT / "docs" / "new-project.md").read_text(encoding="utf-8")
    assert headers_markdown() in doc


def test_help_lists_the_accepted_headers(tmp_path: Path) -> None:
    result = wpflow(["init", "--help"], tmp_path)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    for words in (
        "programme period (or programming period, program period, period)",
        "email (or mail, emails",
        "30 June 2009",
    ):
        assert words in flat, words
