"""People's words for the report: dates as dates, partners by organisation, kinds by title.

The store and the summary keep machine forms (ISO dates, participant ids, kind ids) because
code compares them; whatever a coordinator reads goes through here first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from schemas.records import WPSummary

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_ISO_MONTH = re.compile(r"\b(\d{4})-(\d{2})\b")


def long_date(day: date) -> str:
    """31 January 2008: unambiguous in every partner country, unlike 01/31 or 31.01."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def long_datetime(when: datetime) -> str:
    """31 January 2008, 09:30 UTC."""
    return f"{long_date(when.date())}, {when:%H:%M} {when.tzname() or ''}".rstrip()


def month_words(month: str) -> str:
    """'2007-01' → 'January 2007'; anything else ('not stated') as it is."""
    match = _ISO_MONTH.fullmatch(month)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return month
    return f"{MONTHS[int(match.group(2)) - 1]} {match.group(1)}"


def prose_dates(text: str) -> str:
    """ISO days and months inside a sentence (as `project check` words them) as dates."""

    def day(m: re.Match[str]) -> str:
        try:
            return long_date(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return m.group()

    return _ISO_MONTH.sub(lambda m: month_words(m.group()), _ISO_DAY.sub(day, text))


def sentence(text: str) -> str:
    """A finding as a sentence: dates in words, a capital first letter, a full stop."""
    text = prose_dates(text.strip())
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def kind_title(kind: str | None, titles: Mapping[str, str]) -> str:
    """An input kind by its title ('Public seed-funding schemes'): `titles` are the project's
    (`Project.kind_titles`) or those a summary carries."""
    return titles.get(kind, kind) if kind else "not recognised"


def organisation(summary: WPSummary, partner: str) -> str:
    return summary.organisations.get(partner, partner)


def expects_narratives(summary: WPSummary) -> bool:
    """Whether the milestone asks for a narrative or meeting report (a document, not rows)."""
    kinds = {s.kind for s in summary.partners} | {n.kind for n in summary.narratives}
    return any(k in summary.document_kinds for k in kinds) or bool(summary.narratives)


def no_inputs_reason(summary: WPSummary) -> str:
    """Why the provenance table is empty, in one sentence."""
    if not summary.partners:
        return "This milestone asks the partners for no files, so the report rests on the project definition alone."
    return f"No valid partner file had arrived by {long_date(summary.as_of)}."


THIN_SPACE = "\u202f"  # narrow no-break space: a thousands separator that never wraps


def format_value(value: Any, unit: str = "") -> str:
    """Cell text: thin-space thousands, EUR and whole numbers without decimals, years bare."""
    if value.__class__ is str:  # most cells: skip the checks below (called once per cell)
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if unit == "year":
            return str(int(value))
        decimals = 0 if unit == "EUR" or float(value).is_integer() else 2
        return f"{value:,.{decimals}f}".replace(",", THIN_SPACE)
    return str(value)
