"""Cells as partners type them, turned into the values a field holds, and back.

'1 250 000,50' and '1,250,000.50' are numbers, '31.12.2005' and '2005-12-31' dates, 'ja' and
'x' yes. A value that does not convert is passed on unchanged, so the model refuses it in its
own words (`field_messages` makes those plain). `format_cell` shows a value as it was written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

TRUE = {"yes", "true", "ja", "1", "x", "y"}
FALSE = {"no", "false", "nein", "0", "n"}

_NUMBER = re.compile(r"[-+]?[\d.,]+")
_CURRENCY = re.compile(r"(?i)\s*(eur|€)$")
_DECIMAL_COMMA = re.compile(r",\d{1,2}$")
_THOUSANDS_COMMA = re.compile(r",\d{3}$")


def parse_number(text: str) -> float | None:
    """'1 250 000,50', '1.250.000,50', '1,250,000.50', '750000' → float; anything else None."""
    if text.isascii() and text.lstrip("+-").replace(".", "", 1).isdigit():  # '750000', '2.5': no regex
        try:
            return float(text)
        except ValueError:
            pass
    t = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    t = _CURRENCY.sub("", t)
    if not _NUMBER.fullmatch(t):
        return None
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif "," in t:
        decimal = _DECIMAL_COMMA.search(t) or (t.count(",") == 1 and not _THOUSANDS_COMMA.search(t))
        t = t.replace(",", ".") if decimal else t.replace(",", "")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    try:
        return float(t)
    except ValueError:
        return None


_ISO_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_DAY_MONTH_DATE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")


def parse_date(text: str) -> tuple[dt.date | None, bool]:
    """(date, ambiguous) from `31.12.2005`, `2005-12-31`, `12/31/2005` or `31/12/2005`. Where
    day and month could be swapped (`03/04/2005`) the European reading (day first) wins and
    `ambiguous` is True so the partner is told how it was read. Two-digit years are refused:
    '05' is 1905 to some programs and 2005 to others."""
    text = text.strip()
    try:
        if match := _ISO_DATE.fullmatch(text):
            return dt.date(*(int(g) for g in match.groups())), False
        if match := _DAY_MONTH_DATE.fullmatch(text):
            a, sep, b, year = int(match[1]), match[2], int(match[3]), int(match[4])
            if sep == "/" and b > 12:  # 12/31/2005: American, month first
                return dt.date(year, a, b), False
            return dt.date(year, b, a), sep == "/" and a <= 12 and a != b
    except ValueError:
        pass
    return None, False


def base_types(annotation: Any) -> set[type]:
    args = getattr(annotation, "__args__", None)
    if args:
        return {a for a in args if isinstance(a, type)}
    return {annotation} if isinstance(annotation, type) else set()


def _to_text(value: Any) -> Any:
    """Text as typed (blank → None); a number Excel made of typed digits (a phone number,
    a year) back to those digits, not '67000000.0'."""
    if value.__class__ is str:
        return value.strip() or None
    if value is None:
        return None
    if value.__class__ is float and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return format_cell(value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _to_float(value: Any) -> Any:
    if value.__class__ is str:
        text = value.strip()
        if not text:
            return None
        number = parse_number(text)
        return text if number is None else number
    return value  # a number already, or something the model will refuse in its own words


def _to_int(value: Any) -> Any:
    value = _to_float(value)
    return int(value) if value.__class__ is float and value.is_integer() else value


def _to_bool(value: Any) -> Any:
    if value.__class__ is str:
        low = value.strip().lower()
        if not low:
            return None
        return True if low in TRUE else False if low in FALSE else value.strip()
    return value


def to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # calamine gives Excel dates with a time as datetime
        return value.date()
    if value.__class__ is str:
        text = value.strip()
        return (parse_date(text)[0] or text) if text else None
    return value


def converter(annotation: Any) -> Callable[[Any], Any]:
    """How a cell becomes the field's value, chosen once per column rather than once per cell
    (2.5 million cells at 500 partners)."""
    kinds = base_types(annotation)
    if bool in kinds:
        return _to_bool
    if float in kinds:
        return _to_float
    if int in kinds:
        return _to_int
    if dt.date in kinds:
        return to_date
    return _to_text


def is_blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and not value.strip())


def format_cell(value: Any) -> str:
    """A value as a partner wrote it: yes/no, and 5 rather than Excel's 5.0."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
