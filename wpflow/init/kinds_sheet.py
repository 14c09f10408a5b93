"""The work plan's `Kinds` sheet: input kinds of the project's own, one row per field — the kind
(its name on its first row; a blank cell continues the kind above), the field, its type, unit,
allowed values, whether it is required, its bounds, whether the report sums it — written as the
project's `kinds.yaml` beside project.yaml (the format input kinds are declared in: `kinds:` a
list of kinds, each with its `fields` in column order and its `measures`).

A kind of the sheet is then a kind the work plan's `inputs` may name, by id or by label. Bounds
may be numbers, dates, or 'project start' / 'project end' (± N years): the year or date of the
project's own period, so a kind outlives the consortium that wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wpflow.init.columns import KIND_COLUMNS
from wpflow.init.dates import parse_date
from wpflow.init.sheets import Collector, Where, parse_bool, read_sheet, split_list, text, workbook_sheets

KINDS_SHEETS = ("kinds", "input kinds", "new kinds")
KINDS_FILE = "kinds.yaml"
TYPES = {
    "text": "text",
    "string": "text",
    "name": "text",
    "integer": "integer",
    "whole number": "integer",
    "int": "integer",
    "year": "integer",
    "count": "integer",
    "number": "number",
    "decimal": "number",
    "amount": "number",
    "yes/no": "boolean",
    "boolean": "boolean",
    "yes or no": "boolean",
    "date": "date",
    "choice": "choice",
    "list": "choice",
    "one of": "choice",
}
_PERIOD_BOUND = re.compile(r"^project\s+(start|end)(?:\s*([+-])\s*(\d+)\s*(?:years?)?)?$", re.IGNORECASE)
_NAME = re.compile(r"[^a-z0-9]+")


def snake(value: str) -> str:
    """'Capacity (kW)' → 'capacity', 'Site name' → 'site_name': a field's or kind's id."""
    words = re.sub(r"\([^)]*\)", "", value).casefold()
    return _NAME.sub("_", words).strip("_")


@dataclass
class DeclaredKind:
    """A kind of the sheet as it is read: its first row, and a field per row."""

    id: str
    label: str
    row: int
    description: str | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)

    def as_yaml(self) -> dict[str, Any]:
        sheet = self.label[:31]  # Excel's limit for a sheet name
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "description": self.description or f"{self.label}, as the work plan declares them.",
            "shape": "rows",
            "sheet": sheet,
            "fields": self.fields,
            "measures": [{"label": self.label}, *self.measures],
        }
        if self.measures:  # the chart shows the first total, else the count
            out["chart"] = self.measures[0]["label"]
        return out


def kinds_sheet(path: Path) -> str | None:
    return next((n for n in workbook_sheets(path) if n.casefold().strip() in KINDS_SHEETS), None)


def parse_type(value: Any) -> str:
    raw = text(value).casefold()
    found = TYPES.get(raw)
    if found is None:
        raise ValueError(f"{text(value)!r} is not a type; known: text, integer, number, yes/no, date, choice")
    return found


def parse_bound(value: Any) -> Any:
    """A bound: a number, a date, or 'project start' / 'project end' (± N years)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    raw = text(value)
    found = _PERIOD_BOUND.match(raw)
    if found:
        bound = f"period_{found[1].lower()}"
        return f"{bound} {found[2]} {int(found[3])}" if found[2] else bound
    try:
        return float(raw) if "." in raw else int(raw)
    except ValueError:
        pass
    try:
        return parse_date(value)
    except ValueError:
        raise ValueError(f"{raw!r} is not a bound: a number, a date, or 'project start' / 'project end'") from None


def read_kinds(path: Path, c: Collector) -> list[DeclaredKind]:
    """The kinds the work plan's Kinds sheet declares (none without one); problems added to `c`."""
    sheet = kinds_sheet(path)
    if sheet is None:
        return []
    table = read_sheet(path, KIND_COLUMNS, sheet, c)
    if not table.usable:
        return []
    kinds: dict[str, DeclaredKind] = {}
    current: DeclaredKind | None = None
    for n, cells in table.rows:
        named = table.cell(cells, "kind")
        if named is not None:
            label = text(named)
            kid = snake(label)
            if kid in kinds:
                c.fail(table.where(n, "kind"), f"kind {label!r} is also declared from row {kinds[kid].row}")
            current = kinds.setdefault(kid, DeclaredKind(kid, label, n))
            if table.cell(cells, "kind_description") is not None:
                current.description = text(table.cell(cells, "kind_description"))
        if current is None:
            c.fail(table.where(n, "kind"), "the kind is missing (name it on its first row)")
            continue
        _field(table, n, cells, current, c)
    for kind in kinds.values():
        if not kind.fields:
            c.fail(Where(path.name, sheet, kind.row), f"kind {kind.label!r} has no fields")
    return list(kinds.values())


def _field(table: Any, n: int, cells: list[Any], kind: DeclaredKind, c: Collector) -> None:
    def cell(column: str) -> Any:
        return table.cell(cells, column)

    def at(column: str) -> Where:
        return table.where(n, column)

    written = cell("field")
    if written is None:
        c.fail(at("field"), f"a field of {kind.label!r} without a name")
        return
    name = snake(text(written))
    if not name or not name[0].isalpha():
        c.fail(at("field"), f"{text(written)!r} is not a field name: start with a letter")
        return
    if any(f["name"] == name for f in kind.fields):
        c.fail(at("field"), f"{kind.label!r} has a second field {name!r}")
        return
    values = split_list(cell("values")) if cell("values") is not None else []
    kind_type = c.parse(at("type"), cell("type"), parse_type) if cell("type") is not None else None
    if kind_type is None:
        kind_type = "choice" if values else "text"
    if kind_type == "choice" and not values:
        c.fail(at("values"), f"field {name!r} is a choice: list its allowed values")
    elif kind_type != "choice" and values:
        c.fail(at("values"), f"field {name!r} is {kind_type}: allowed values are for a choice (leave the type blank)")
    bounded = [b for b in ("min", "max") if cell(b) is not None]
    if bounded and kind_type not in ("integer", "number", "date"):
        c.fail(at(bounded[0]), f"field {name!r} is {kind_type}: only integer, number and date fields have bounds")
    decl: dict[str, Any] = {"name": name, "type": kind_type}
    if cell("required") is not None:
        decl["required"] = bool(c.parse(at("required"), cell("required"), parse_bool))
    if values:
        decl["values"] = values
    for bound in ("min", "max"):
        if cell(bound) is not None:
            decl[bound] = c.parse(at(bound), cell(bound), parse_bound)
    if cell("unit") is not None:
        decl["unit"] = text(cell("unit"))
    decl["description"] = text(cell("description")) if cell("description") is not None else text(written)
    kind.fields.append(decl)
    summed = cell("sum") is not None and c.parse(at("sum"), cell("sum"), parse_bool)
    if summed and kind_type in ("integer", "number"):
        unit = f" ({decl['unit']})" if "unit" in decl else ""
        kind.measures.append({"label": f"{text(written)}{unit}", "sum": name})
    elif summed:
        c.fail(at("sum"), f"field {name!r} is {kind_type}: only numbers are summed")
