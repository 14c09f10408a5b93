"""Column headers as people write them, matched to the fields of an input kind.

'Budget_EUR (EUR) *', 'Budget (EUR)' and 'budget' all name `budget_eur`: case, separators, a
unit in brackets and a required-field star are how a header is written, not what it means.
Also the spreadsheet names of columns (A, B, … AA) that issues point at. Used by the readers,
the checks, kind detection, the template stamp (`metadata`) and the generated templates.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from schemas.inputs import UNIT


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how partners name spreadsheet columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_UNIT_IN_BRACKETS = re.compile(r"\s*\([^)]*\)\s*$")
_SEPARATORS = re.compile(r"[\s\-/.]+")


def normalise_header(text: Any) -> str:
    """'Budget_EUR (EUR) *' → 'budget_eur': case, spaces, hyphens, a unit in brackets and a
    required-field star are how people write headers, not what they mean."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text)).strip().rstrip("*:").strip()
    return _SEPARATORS.sub("_", _UNIT_IN_BRACKETS.sub("", text)).strip("_").lower()


def field_title(name: str, info: FieldInfo) -> str:
    """'Budget' for budget_eur (unit EUR): the header a person reads in a template. The field's
    own title when the schema gives one, else its name in words without the unit (a header
    shows the unit in brackets). `header_names` maps it back, so titles stay machine-readable."""
    if info.title:
        return info.title
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = normalise_header(extra.get(UNIT, ""))
    stem = name[: -len(unit) - 1] if unit and name.endswith("_" + unit) else name
    words = stem.replace("_", " ")
    return words[:1].upper() + words[1:]


@functools.cache
def header_names(model: type[BaseModel]) -> dict[str, str]:
    """Header (normalised, underscores dropped) → field. Besides the name itself ('E-mail' is
    email) and its title, a field named after its unit answers to the name without it: 'Budget
    (EUR)' and 'Budget' are budget_eur, 'Floor area (m²)' is floor_area_m2 (unless two fields
    share it)."""
    stems: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        stems.setdefault(normalise_header(field_title(name, info)).replace("_", ""), []).append(name)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unit = normalise_header(extra.get(UNIT, ""))
        if unit and name.endswith("_" + unit):
            stems.setdefault(name[: -len(unit) - 1].replace("_", ""), []).append(name)
    names = {stem: fields[0] for stem, fields in stems.items() if len(set(fields)) == 1}
    return names | {name.replace("_", ""): name for name in model.model_fields}


def resolve_header(header: Sequence[str], model: type[BaseModel]) -> list[str]:
    """Each normalised header as the field it names, or unchanged if it names none."""
    known = header_names(model)
    return [known.get(h.replace("_", ""), h) if h else h for h in header]
