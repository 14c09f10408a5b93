"""What a partner reads about one value: pydantic's validation errors in plain words, and the
warning for a date whose day and month could be read either way."""

from __future__ import annotations

from typing import Any

from schemas.records import Issue
from wpflow.inputs.coerce import format_cell, parse_date

DATE_HINT = "write dates as 31.12.2005 or 2005-12-31"
MESSAGES = {
    "missing": "is required",
    "bool_parsing": "must be yes or no",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "finite_number": "is not a finite number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "is too short",
    "too_short": "needs at least {min_length}",
    "date_from_datetime_parsing": f"is not a date; {DATE_HINT}",
    "date_parsing": f"is not a date; {DATE_HINT}",
    "date_from_datetime_inexact": "has a time of day; give the date only",
    "extra_forbidden": "is not a field of this input",
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_type": "must be a set of fields",
}


def plain_message(err: Any) -> str:  # a pydantic ErrorDetails
    kind = err["type"]
    if err.get("input", "") is None and kind.endswith("_type"):  # an empty cell in a required column
        return "is required"
    if kind == "literal_error":
        return "must be one of: " + err["ctx"]["expected"].replace("'", "")
    if kind in MESSAGES:
        return MESSAGES[kind].format(**{k: format_cell(v) for k, v in err.get("ctx", {}).items()})
    text = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    # a model's own message may start with the value, which the receipt already shows
    return text.removeprefix(f"{value!r} ") if isinstance(value, str) else text


def ambiguous_date(name: str, field_name: str, text: str) -> Issue | None:
    parsed, ambiguous = parse_date(text)
    if not ambiguous:
        return None
    return Issue(
        file=name,
        field=field_name,
        value=text.strip(),
        severity="warning",
        message=f"could be read either way; read as {parsed:%d %B %Y} (day first). {DATE_HINT.capitalize()}",
    )
