"""Dates and months as a secretariat types them in a work plan: a workbook's date cell,
2009-06-30, 30.06.2009, 30/06/2009, 30 June 2009, June 30, 2009 — and months as 2009-06, 6/2009
or June 2009.

Each form is an explicit pattern; English month names come from a table of our own, not from
the locale (`%B` in `strptime` would read month names in whatever language the machine is
set to). A slash is always day first, the European order of the programmes' documents:
06/30/2009 is refused, never guessed, and the error lists what is accepted.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
    for name in {full, full[:3], "sept" if full == "september" else full[:3]}
}
DATE_FORMS = "2009-06-30, 30.06.2009, 30/06/2009 (day first), 30 June 2009 or June 30, 2009"
MONTH_FORMS = "2009-06, 6/2009 or June 2009"

_NUMERIC = re.compile(r"^(\d{1,2})\s*([./])\s*(\d{1,2})\s*\2\s*(\d{4})$")  # 30.06.2009, 30/06/2009
_DAY_NAME = re.compile(r"^(\d{1,2})\.?\s+([A-Za-z]+)\.?,?\s+(\d{4})$")  # 30 June 2009, 30. Jun 2009
_NAME_DAY = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")  # June 30, 2009
_MONTH_NUMERIC = re.compile(r"^(?:(\d{4})-(\d{1,2})|(\d{1,2})\s*/\s*(\d{4}))$")  # 2009-06, 6/2009
_MONTH_NAME = re.compile(r"^([A-Za-z]+)\.?,?\s+(\d{4})$")  # June 2009


def _words(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _month_number(name: str) -> int | None:
    return MONTHS.get(name.casefold())


def _day_month_year(raw: str) -> tuple[int, int, int] | None:
    """(day, month, year) as written, or None when `raw` is none of the accepted forms."""
    if found := _NUMERIC.match(raw):
        return int(found[1]), int(found[3]), int(found[4])
    if (found := _DAY_NAME.match(raw)) and (month := _month_number(found[2])):
        return int(found[1]), month, int(found[3])
    if (found := _NAME_DAY.match(raw)) and (month := _month_number(found[1])):
        return int(found[2]), month, int(found[3])
    return None


def parse_date(value: Any) -> date:
    """A date as a secretariat types it (see the module's forms); ValueError naming them."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = _words(value)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    parts = _day_month_year(raw)
    if parts is not None:
        day, month, year = parts
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"{raw!r} is not a date ({exc}); write it as {DATE_FORMS}") from None
    raise ValueError(f"{raw!r} is not a date; write it as {DATE_FORMS}")


def parse_month(value: Any) -> str:
    """'2006-09', '9/2006' or 'September 2006' (as project descriptions write meeting dates) → '2006-09'."""
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    raw = _words(value)
    month: int | None = None
    year = 0
    if found := _MONTH_NUMERIC.match(raw):
        year, month = (int(found[1]), int(found[2])) if found[1] else (int(found[4]), int(found[3]))
    elif found := _MONTH_NAME.match(raw):
        year, month = int(found[2]), _month_number(found[1])
    if month is not None and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}"
    raise ValueError(f"{raw!r} is not a month; write it as {MONTH_FORMS}")


_YEARS = re.compile(r"^(\d{4})\s*[-–—/]\s*(\d{4})$")  # 2008-2010, 2008–2010
_RANGE = re.compile(r"\s+(?:-|–|—|to|until)\s+|\s*[–—]\s*", re.IGNORECASE)
PERIOD_FORMS = f"2008–2010, or two dates such as 1.1.2008 – 31.12.2010 (each as {DATE_FORMS})"


def parse_period(value: Any) -> tuple[date, date]:
    """A project's period as written on a Project sheet: '2008–2010' (1 January to 31 December)
    or two dates joined by a dash or 'to'."""
    raw = _words(value)
    if found := _YEARS.match(raw):
        return date(int(found[1]), 1, 1), date(int(found[2]), 12, 31)
    parts = _RANGE.split(raw)
    if len(parts) == 2:
        try:
            return parse_date(parts[0]), parse_date(parts[1])
        except ValueError:
            pass
    raise ValueError(f"{raw!r} is not a period; write it as {PERIOD_FORMS}")
