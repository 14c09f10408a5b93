"""The work plan of `wpflow init`: one row per milestone (its WP, period, due date, required
inputs, meetings), and in a workbook an optional `Project` sheet of field/value rows (name,
programme, time zone, …). A WP's title and coordinator are given on its first row; a blank WP
cell continues the WP above, as a sheet with merged cells reads.

Cells listing several things put one per line or separate them with ';':
- inputs: `seed_funding`, `meeting_report from St. Petersburg: report of the workshop` (a kind id
  or label; `from` partners, 'partner-cities' or 'all-cities'; after ':' what is asked for);
- meetings: `Tampere 2006-09: Kick-off meeting` (a participant's city or '?'; YYYY-MM or M/YYYY).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.project import Meeting, Milestone, RequiredInput, WorkPackage
from wpflow.init.columns import MILESTONE_COLUMNS
from wpflow.init.dates import parse_date, parse_month
from wpflow.init.kinds_sheet import KINDS_SHEETS, DeclaredKind
from wpflow.init.partners import PartnerRef
from wpflow.init.sheets import (
    Collector,
    Table,
    parse_bool,
    read_sheet,
    slug,
    split_list,
    text,
    workbook_sheets,
)
from wpflow.inputs.headers import normalise_header

PROJECT_SHEET = "Project"
_INPUT = re.compile(r"^(?P<kind>.+?)(?:\s+from\s+(?P<from>[^:]+?))?(?:\s*:\s*(?P<note>.*))?$", re.IGNORECASE)
_MEETING = re.compile(r"^(?:(?P<city>.+?)\s+)?(?P<month>\d{4}-\d{1,2}|\d{1,2}/\d{4})\s*:\s*(?P<topic>.+)$")


class Partners:
    """The participants as the work plan names them: by id, by name, or by a city with one partner."""

    def __init__(self, participants: list[PartnerRef], kinds: list[DeclaredKind]):
        self.participants = participants
        self.kinds = kinds  # the work plan's own kinds (its Kinds sheet), named like wpflow's
        self.cities = {p.city.casefold(): p.city for p in participants}

    def resolve(self, value: Any) -> str:
        raw = text(value)
        by_id = [p.id for p in self.participants if p.id == slug(raw)]
        by_city = [p.id for p in self.participants if p.city.casefold() == raw.casefold()]
        by_org = [p.id for p in self.participants if p.organisation.casefold() == raw.casefold()]
        for found in (by_id, by_org, by_city):
            if len(found) == 1:
                return found[0]
        if len(by_city) > 1:
            raise ValueError(f"{raw!r} has {len(by_city)} partners ({', '.join(by_city)}); name one by its id")
        raise ValueError(f"{raw!r} is not a partner; known: {', '.join(p.id for p in self.participants)}")

    def city(self, value: str) -> str | None:
        if value.strip() == "?":
            return None
        try:
            return self.cities[value.strip().casefold()]
        except KeyError:
            known = ", ".join(sorted(self.cities.values()))
            raise ValueError(f"meeting city {value.strip()!r} is not a partner's city (known: {known})") from None


def parse_wp(value: Any) -> str:
    raw = text(value).upper().replace(" ", "")
    number = raw.removeprefix("WP")
    if not number.isdigit():
        raise ValueError(f"{text(value)!r} is not a work package like WP2")
    return f"WP{int(number)}"


@cache
def library_kinds() -> tuple[tuple[str, str], ...]:
    """(id, label) of the shared library's kinds, read once per `init` (not once per work-plan
    cell: each read parses the library's YAML files)."""
    from wpflow.project.kinds_load import library_declarations

    return tuple((kind.id, kind.label) for kind in library_declarations().values())


def parse_kind(value: str, declared: Sequence[DeclaredKind] = ()) -> str:
    """A kind's id from its id or label: a kind of the shared library, or one of the work plan's
    Kinds sheet."""
    wanted = normalise_header(value)
    known = [*library_kinds(), *((k.id, k.label) for k in declared)]
    for kid, label in known:
        if wanted in (normalise_header(kid), normalise_header(label)):
            return kid
    raise ValueError(f"unknown input kind {value!r}; known: {', '.join(kid for kid, _ in known)}")


def milestone_sheet(path: Path) -> str | None:
    """`Milestones`, else the workbook's first sheet that is not the Project sheet."""
    names = [n for n in workbook_sheets(path) if not n.startswith("_")]
    named = next((n for n in names if n.casefold() == "milestones"), None)
    others = (PROJECT_SHEET.casefold(), *KINDS_SHEETS)
    return named or next((n for n in names if n.casefold().strip() not in others), None)


def read_work_packages(
    path: Path,
    participants: list[PartnerRef],
    lead: str | None,
    facts: dict[str, Any],
    c: Collector,
    declared: Sequence[DeclaredKind] = (),
) -> list[WorkPackage]:
    """The work packages in the order the rows first name them; problems are added to `c`."""
    table = read_sheet(path, MILESTONE_COLUMNS, milestone_sheet(path), c)
    if not table.usable:
        return []  # its header is reported; rows read against the wrong columns would be noise
    if not table.rows:
        c.fail(table.where(None), "no milestones listed")
    partners = Partners(participants, list(declared))
    assumed = bool(facts.get("assumed"))
    groups: dict[str, dict[str, Any]] = {}
    current: str | None = None
    for n, cells in table.rows:
        wp_cell = table.cell(cells, "wp")
        wp = (
            current
            if wp_cell is None and current
            else c.need(table.where(n, "wp"), wp_cell, f"WP of row {n}", parse_wp)
        )
        if wp is None:
            continue
        current = wp
        group = groups.setdefault(wp, {"first": n, "milestones": [], "seen": {}})
        _wp_fields(table, n, cells, group, partners, lead, c)
        milestone = _milestone(table, n, cells, wp, len(group["milestones"]), partners, facts, c)
        if milestone is not None and milestone.id in group["seen"]:
            c.fail(table.where(n, "milestone"), f"{milestone.id} is also row {group['seen'][milestone.id]}")
        elif milestone is not None:
            group["milestones"].append(milestone)
            group["seen"][milestone.id] = n
    out = []
    for wp, group in groups.items():
        if group.get("title") is None or group.get("coordinator") is None or not group["milestones"]:
            continue  # reported
        out.append(
            WorkPackage(
                id=wp,
                title=group["title"],
                coordinator=group["coordinator"],
                coordinator_assumed=assumed,
                milestones=group["milestones"],
            )
        )
    return out


def _wp_fields(
    table: Table, n: int, cells: list[Any], group: dict[str, Any], partners: Partners, lead: str | None, c: Collector
) -> None:
    """Title and coordinator: needed on the WP's first row; a later row may repeat, not change them."""
    for key, column, what, parse, default in (
        ("title", "wp_title", "title", text, None),
        ("coordinator", "coordinator", "coordinator (a partner's id, name or city)", partners.resolve, lead),
    ):
        value, at = table.cell(cells, column), table.where(n, column)
        if n == group["first"]:
            group[key] = c.need(at, value, f"the WP's {what}", parse, default)
        elif value is not None:
            given = c.parse(at, value, parse)
            if given is not None and group.get(key) is not None and given != group[key]:
                c.fail(at, f"{given!r} differs from the WP's {key} {group[key]!r} on row {group['first']}")


def _milestone(
    table: Table,
    n: int,
    cells: list[Any],
    wp: str,
    before: int,
    partners: Partners,
    facts: dict[str, Any],
    c: Collector,
) -> Milestone | None:
    def cell(column: str) -> Any:
        return table.cell(cells, column)

    def at(column: str):
        return table.where(n, column)

    given = cell("milestone")
    mid = c.parse(at("milestone"), given, lambda v: _milestone_id(v, wp)) if given else f"{wp}-M{before + 1}"
    label = mid or f"the milestone in row {n}"
    title = c.need(at("title"), cell("title"), f"title of {label}", text)
    start = c.need(at("start"), cell("start"), f"first day of {label}", parse_date)
    end = c.need(at("end"), cell("end"), f"last day of {label}", parse_date)
    due = c.need(at("due"), cell("due"), f"due date of {label}", parse_date, end.isoformat() if end else None)
    if start and end and end < start:
        c.fail(at("end"), f"{label} ends on {end}, before it starts on {start}")
    if start and due and due < start:
        c.fail(at("due"), f"{label} is due on {due}, before it starts on {start}")
    assumed = c.parse(at("assumed"), cell("assumed"), parse_bool) if cell("assumed") is not None else None
    assumed = bool(facts.get("assumed")) if assumed is None else assumed
    inputs = [c.parse(at("inputs"), item, lambda v: _required_input(v, partners)) for item in _items(cell("inputs"))]
    meetings = [
        c.parse(at("meetings"), item, lambda v: _meeting(v, partners, assumed)) for item in _items(cell("meetings"))
    ]
    if None in (mid, title, start, end, due) or None in inputs or None in meetings:
        return None  # reported
    note = text(cell("note")) if cell("note") is not None else (facts.get("assumed_note") if assumed else None)
    try:
        return Milestone(
            id=mid,
            title=title,
            start=start,
            end=end,
            due=due,
            activities=split_list(cell("activities")) if cell("activities") is not None else [],
            meetings=meetings,
            inputs=inputs,
            assumed=assumed,
            note=note,
        )
    except ValidationError as exc:
        for err in exc.errors():
            column = str(err["loc"][0]) if err["loc"] else "milestone"
            c.fail(at("milestone" if column == "id" else column), err["msg"].removeprefix("Value error, "))
        return None


def _items(value: Any) -> list[str]:
    return [] if value is None else split_list(value)


def _milestone_id(value: Any, wp: str) -> str:
    raw = text(value).upper().replace(" ", "")
    found = re.fullmatch(r"(?:(WP\d+)-?)?M?(\d+)", raw)
    if not found:
        raise ValueError(f"{text(value)!r} is not a milestone like {wp}-M1, M1 or 1")
    if found[1] and parse_wp(found[1]) != wp:
        raise ValueError(f"milestone {text(value)!r} is in a row of {wp}")
    return f"{wp}-M{int(found[2])}"


def _required_input(item: str, partners: Partners) -> RequiredInput:
    found = _INPUT.match(item)
    if not found:
        raise ValueError(f"{item!r} is not an input like 'seed_funding' or 'meeting_report from berlin: what'")
    kind = parse_kind(found["kind"].strip(), partners.kinds)
    source: list[str] | str = "partner-cities"
    if found["from"]:
        wanted = found["from"].strip()
        if slug(wanted) in ("partner-cities", "all-cities"):
            source = slug(wanted)
        else:
            source = [partners.resolve(p) for p in wanted.split(",") if p.strip()]
    note = (found["note"] or "").strip() or None
    return RequiredInput.model_validate({"kind": kind, "from": source, "note": note})


def _meeting(item: str, partners: Partners, assumed: bool) -> Meeting:
    found = _MEETING.match(item)
    if not found:
        raise ValueError(f"{item!r} is not a meeting like 'Tampere 2006-09: Kick-off meeting'")
    city = partners.city(found["city"]) if found["city"] else None
    note = "assumed with its milestone" if assumed else None
    return Meeting(
        city=city, month=parse_month(found["month"]), topic=found["topic"].strip(), assumed=assumed, note=note
    )
