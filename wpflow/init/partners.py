"""The partner list of `wpflow init`: one row per organisation (id or name, city, country,
organisation, role, e-mail), read into the project's participants.

An id comes from the `id` column, else from the name ('St. Petersburg' → st-petersburg): it is
also the partner's inbox folder. The city's local coordinator (who delivers the city's inputs)
is the first lead or partner of the city unless the list says otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.project import EMAIL_RE, Participant
from wpflow.init.columns import PARTNER_COLUMNS
from wpflow.init.sheets import Collector, Table, parse_bool, read_sheet, slug, split_list, text

ROLES = {
    "lead": "lead",
    "lead partner": "lead",
    "lp": "lead",
    "partner": "partner",
    "project partner": "partner",
    "pp": "partner",
    "observer": "observer",
}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
REQUIRED = ("id", "city", "country", "organisation", "role", "emails")
FIELD_COLUMN = {"emails": "email"}  # a Participant field → the column it is read from


def parse_id(value: Any) -> str:
    raw = text(value)
    if not ID_RE.match(raw):
        raise ValueError(f"{raw!r} is not an id: lower-case letters, digits and '-', e.g. 'st-petersburg'")
    return raw


def parse_role(value: Any) -> str:
    raw = text(value)
    role = ROLES.get(raw.casefold())
    if role is None:
        raise ValueError(f"{raw!r} is not a role; expected lead, partner or observer")
    return role


def parse_email(value: Any) -> str:
    raw = text(value)
    if not EMAIL_RE.fullmatch(raw):
        raise ValueError(f"{raw!r} is not an e-mail address")
    return raw


def parse_emails(value: Any) -> list[str]:
    """One or more addresses separated by ';', ',' or spaces."""
    return [parse_email(a) for a in re.split(r"[;,\s]+", str(value)) if a]


def parse_text(value: Any) -> str:
    raw = text(value)
    if not raw:
        raise ValueError("is empty")
    return raw


@dataclass(frozen=True)
class PartnerRef:
    """A row of the partner list as the work plan may name it — by id, city or organisation —
    kept even when the row has problems, so the work plan's references to it are not also
    reported as unknown partners."""

    id: str
    city: str
    organisation: str
    role: str | None


@dataclass
class Roster:
    """The partner list read: the participants whose rows are complete, and every row with an id."""

    participants: list[Participant]
    refs: list[PartnerRef]

    @property
    def lead(self) -> str | None:
        return next((r.id for r in self.refs if r.role == "lead"), None)


def read_partners(path: Path, c: Collector) -> Roster:
    """The participants in the list's order; every problem is added to `c` (nothing raised: the
    work plan is read and reported on in the same pass)."""
    table = read_sheet(path, PARTNER_COLUMNS, "Partners", c)
    rc = c if table.usable else Collector(None)  # a bad header: its rows' problems would be noise
    if not table.rows:
        c.fail(table.where(None), "no partners listed")
    rows = [(n, _partner_fields(table, n, cells, rc)) for n, cells in table.rows]
    _check_ids(table, rows, rc)
    _check_lead(table, rows, rc)
    _choose_local_coordinators([fields for _, fields in rows])
    participants = []
    for n, fields in rows:
        if any(fields[k] is None for k in REQUIRED):
            continue  # already reported
        try:
            participants.append(Participant.model_validate(fields))
        except ValidationError as exc:
            for err in exc.errors():
                column = FIELD_COLUMN.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else None
                rc.fail(table.where(n, _id_column(table) if column == "id" else column), err["msg"])
    refs = [
        PartnerRef(f["id"], text(f["city"] or ""), text(f["organisation"] or ""), f["role"])
        for _, f in rows
        if f["id"] is not None
    ]
    return Roster(participants, refs)


def _partner_fields(table: Table, n: int, cells: list[Any], c: Collector) -> dict[str, Any]:
    def cell(column: str) -> Any:
        return table.cell(cells, column)

    def at(column: str):
        return table.where(n, column)

    given_id, name, city = cell("id"), cell("name"), cell("city")
    label = text(given_id or name or city or f"the partner in row {n}")
    if given_id is not None:
        pid = c.parse(at("id"), given_id, parse_id)
    elif name is not None and slug(text(name)):
        pid = slug(text(name))
    else:
        pid = c.need(at("id"), None, f"id of {label}", parse_id, slug(text(city)) if city else None)
    fields: dict[str, Any] = {
        "id": pid,
        "city": c.need(at("city"), city, f"city of {label}", parse_text),
        "country": c.need(at("country"), cell("country"), f"country of {label}", parse_text),
        "organisation": c.need(at("organisation"), cell("organisation"), f"organisation of {label}", parse_text),
        "role": c.need(at("role"), cell("role"), f"role of {label} (lead, partner or observer)", parse_role),
        "emails": c.need(at("email"), cell("email"), f"e-mail of {label}", parse_emails),
        "local_coordinator": _optional(c, at("local_coordinator"), cell("local_coordinator"), parse_bool),
        "region": split_list(cell("region")) if cell("region") is not None else [],
        "assumed": _optional(c, at("assumed"), cell("assumed"), parse_bool) or False,
        "note": text(cell("note")) if cell("note") is not None else None,
    }
    return fields


def _optional(c: Collector, where, value: Any, parse) -> Any:
    return None if value is None else c.parse(where, value, parse)


def _id_column(table: Table) -> str:
    return "id" if "id" in table.columns or "name" not in table.columns else "name"


def _check_ids(table: Table, rows: list[tuple[int, dict[str, Any]]], c: Collector) -> None:
    first: dict[str, int] = {}
    for n, fields in rows:
        pid = fields["id"]
        if pid is None:
            continue
        if pid in first:
            c.fail(
                table.where(n, _id_column(table)),
                f"id {pid!r} is also row {first[pid]}'s; give each partner its own id (an 'id' column)",
            )
        first.setdefault(pid, n)


def _check_lead(table: Table, rows: list[tuple[int, dict[str, Any]]], c: Collector) -> None:
    leads = [(n, f["id"]) for n, f in rows if f["role"] == "lead"]
    if not leads and all(f["role"] is not None for _, f in rows) and rows:
        c.fail(table.where(None, "role"), "no partner has the role lead; the lead partner must be listed")
    for n, pid in leads[1:]:
        c.fail(table.where(n, "role"), f"a second lead ({pid}; row {leads[0][0]} is the lead); one lead only")


def _choose_local_coordinators(rows: list[dict[str, Any]]) -> None:
    """A city whose rows leave `local_coordinator` blank: its first lead or partner (else its
    first observer) delivers the city's inputs. A city where any row says yes or no is as said."""
    cities: dict[str, list[dict[str, Any]]] = {}
    for fields in rows:
        cities.setdefault(str(fields["city"]), []).append(fields)
    for members in cities.values():
        if any(f["local_coordinator"] is not None for f in members):
            for f in members:
                f["local_coordinator"] = bool(f["local_coordinator"])
            continue
        chosen = next((f for f in members if f["role"] in ("lead", "partner")), members[0])
        for f in members:
            f["local_coordinator"] = f is chosen
