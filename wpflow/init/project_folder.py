"""`wpflow init`: a new project folder (project.yaml, an inbox folder per partner) from the partner
list and the work plan a secretariat already keeps as spreadsheets.

What the spreadsheets do not hold — the project's name, programme, sender address, time zone —
comes from the command line, a `Project` sheet of the work plan, or the terminal; start and end
default to the work plan's first and last day. The YAML written is what `load_project` reads
back (checked before it is written), so `wpflow project check` accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError

from schemas.policies import DeadlinePolicy
from schemas.project import Programme, Project
from wpflow.files import replacing
from wpflow.init.columns import PROJECT_COLUMNS, PROJECT_FIELDS, header_key, lookup, shown
from wpflow.init.dates import parse_date, parse_period
from wpflow.init.kinds_sheet import KINDS_FILE, DeclaredKind, read_kinds
from wpflow.init.partners import parse_email, parse_text, read_partners
from wpflow.init.sheets import (
    Ask,
    Collector,
    InitError,
    InitErrors,
    Where,
    parse_bool,
    read_sheet,
    text,
    workbook_sheets,
)
from wpflow.init.workplan import PROJECT_SHEET, read_work_packages
from wpflow.project.load import PROJECT_FILE, parse_project

DEFAULT_TIMEZONE = DeadlinePolicy.model_fields["timezone"].default


def parse_timezone(value: Any) -> str:
    raw = text(value)
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{raw!r} is not a time zone like Europe/Helsinki") from None
    return raw


@dataclass(frozen=True)
class Fact:
    """A value of the project the spreadsheets' rows do not hold."""

    key: str
    what: str
    option: str | None  # the command-line option, if there is one
    parse: Callable[[Any], Any]
    required: bool = True


FACTS = (
    Fact("name", "the project's short name (in e-mail subjects)", "--name", parse_text),
    Fact("title", "the project's full title", "--title", parse_text),
    Fact("programme", "the funding programme", "--programme", parse_text),
    Fact("programme_period", "the programme period", "--programme-period", parse_text, False),
    Fact("project_period", "the project's period", None, parse_period, False),
    Fact("start", "the project's first day", "--start", parse_date, False),
    Fact("end", "the project's last day", "--end", parse_date, False),
    Fact("secretariat_email", "the secretariat's e-mail address (the sender)", "--secretariat-email", parse_email),
    Fact("timezone", "the time zone of the daily deadline run", "--timezone", parse_timezone),
    Fact("assumed", "whether the whole work plan is assumed", "--assumed", parse_bool, False),
    Fact("assumed_note", "why the work plan is assumed", "--assumed-note", parse_text, False),
)


@dataclass(frozen=True)
class NewProject:
    """What `init` makes: the project, and the kinds of its own the work plan declares."""

    project: Project
    kinds: list[DeclaredKind]


def build_project(partners: Path, workplan: Path, given: dict[str, Any], ask: Ask | None) -> NewProject:
    """The project the spreadsheets (and `given` options, and answers) describe; InitErrors
    with every problem of every sheet located otherwise. Without `ask` nothing missing is guessed."""
    c = Collector(ask)
    roster = read_partners(partners, c)
    facts = read_facts(workplan, given, c)
    kinds = read_kinds(workplan, c)
    work_packages = read_work_packages(workplan, roster.refs, roster.lead, facts, c, kinds)
    if c.errors:
        raise InitErrors(c.errors)
    milestones = [m for wp in work_packages for m in wp.milestones]
    period = facts.get("project_period") or (None, None)
    try:
        project = Project(
            name=facts["name"],
            title=facts["title"],
            programme=Programme(name=facts["programme"], period=facts.get("programme_period")),
            start=facts.get("start") or period[0] or min(m.start for m in milestones),
            end=facts.get("end") or period[1] or max(m.end for m in milestones),
            lead=roster.lead,
            secretariat_email=facts["secretariat_email"],
            participants=roster.participants,
            work_packages=work_packages,
            deadlines=DeadlinePolicy(timezone=facts["timezone"]),
        )
    except ValidationError as exc:  # the project's own period: start after end
        raise InitErrors(
            [InitError(Where(workplan.name), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
        ) from None
    problems = project.reference_problems()
    if problems:
        raise InitErrors([InitError(Where(workplan.name), message) for _, message in problems])
    return NewProject(project, kinds)


def read_facts(workplan: Path, given: dict[str, Any], c: Collector) -> dict[str, Any]:
    """The command line's options, else the work plan's Project sheet, else the terminal (or,
    without it, an error naming both places the value could be given)."""
    sheet = next((n for n in workbook_sheets(workplan) if n.casefold() == PROJECT_SHEET.casefold()), None)
    facts = _sheet_facts(workplan, sheet, c) if sheet else {}
    failed = {key for key, value in facts.items() if value is None}
    for fact in FACTS:
        if fact.option and given.get(fact.key) not in (None, False):
            facts[fact.key] = c.parse(Where(fact.option), given[fact.key], fact.parse)
            failed.update([fact.key] if facts[fact.key] is None else [])
    for fact in FACTS:
        if not fact.required or facts.get(fact.key) is not None or fact.key in failed:
            continue
        default = {"title": facts.get("name"), "timezone": DEFAULT_TIMEZONE}.get(fact.key)
        if c.ask is not None:
            facts[fact.key] = c.ask(fact.what[:1].upper() + fact.what[1:], default, fact.parse)
        elif fact.key == "title" and default:
            facts["title"] = default  # the short name is a title; nothing is guessed
        else:
            row = shown(fact.key)
            where = (
                f" or a {row!r} row in sheet {sheet}"
                if sheet
                else f" (or a {PROJECT_SHEET} sheet in an XLSX work plan)"
            )
            c.fail(Where(workplan.name, sheet), f"{fact.what} is missing: give {fact.option}{where}")
    return facts


def _sheet_facts(workplan: Path, sheet: str, c: Collector) -> dict[str, Any]:
    """The Project sheet's field/value rows (a value that does not parse: None, reported)."""
    table = read_sheet(workplan, PROJECT_COLUMNS, sheet, c)
    if not table.usable:
        return {}
    by_key = {f.key: f for f in FACTS}
    known = lookup(PROJECT_FIELDS)
    facts: dict[str, Any] = {}
    for n, cells in table.rows:
        written, value = table.cell(cells, "field"), table.cell(cells, "value")
        fact = by_key.get(known.get(header_key(written), ""))
        if fact is None:
            fields = ", ".join(shown(k) for k in by_key)
            c.fail(
                table.where(n, "field"), f"unknown field {text(written or '')!r}; known: {fields} (wpflow init --help)"
            )
        elif value is not None:
            facts[fact.key] = c.parse(table.where(n, "value"), value, fact.parse)
    return facts


def refuse_existing(directory: Path, *, force: bool) -> None:
    """Before anything is asked: a folder that already holds a project is kept unless `force`."""
    target = directory / PROJECT_FILE
    if directory.exists() and not directory.is_dir():
        raise InitErrors([InitError(Where(str(directory)), "is a file, not a folder")])
    if target.exists() and not force:
        raise InitErrors([InitError(Where(str(target)), "exists; give --force to replace it")])


# -- writing --------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Lists of short words and rows of short values on one line (`emails: [a@b.org]`, a ladder
    rung, a meeting), as people write project.yaml by hand; sentences and nesting in blocks."""

    def represent_list(self, data: list) -> yaml.Node:
        words = _short(data) and not any(" " in str(v) for v in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=words)

    def represent_dict(self, data: dict) -> yaml.Node:
        return self.represent_mapping("tag:yaml.org,2002:map", data, flow_style=_short(list(data.values())))


def _short(values: list[Any]) -> bool:
    return all(not isinstance(v, dict | list) and len(str(v)) <= 50 for v in values)


_Dumper.add_representer(list, _Dumper.represent_list)
_Dumper.add_representer(dict, _Dumper.represent_dict)


def project_yaml(project: Project, sources: list[str]) -> str:
    """project.yaml's text: what differs from the defaults, and the deadline ladder and report
    policy in full (the secretariat tunes them there)."""
    data = project.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    head = {k: data.pop(k) for k in ("name", "title", "programme", "start", "end", "lead", "secretariat_email")}
    policies = {
        "deadlines": project.deadlines.model_dump(mode="python"),
        "reports": project.reports.model_dump(mode="python"),
    }
    data.pop("deadlines", None)
    data.pop("reports", None)
    body = yaml.dump({**head, **policies, **data}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    header = (
        f"# {project.name}: made by `wpflow init` from {' and '.join(sources)}.\n"
        "# Edit freely; `wpflow project check --project <this folder>` lists what is assumed.\n"
    )
    return header + body


def kinds_yaml(kinds: list[DeclaredKind], source: str) -> str:
    """kinds.yaml's text: the work plan's own kinds, in the format input kinds are declared in."""
    body = yaml.dump(
        {"kinds": [k.as_yaml() for k in kinds]}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110
    )
    return f"# Input kinds of this project: made by `wpflow init` from the Kinds sheet of {source}.\n" + body


def write_project(
    directory: Path,
    project_text: str,
    project: Project,
    *,
    kinds_text: str | None = None,
    force: bool = False,
    inbox_root: Path | None = None,
) -> list[Path]:
    """DIR/kinds.yaml when the work plan declares kinds, DIR/project.yaml (read back first, with
    those kinds: what is written loads), and <inbox_root>/<partner>/ for each participant (the
    inbox the runs will read; default DIR/inbox); the inbox folders made. An existing
    project.yaml is kept unless `force`."""
    refuse_existing(directory, force=force)
    target = directory / PROJECT_FILE
    directory.mkdir(parents=True, exist_ok=True)
    if kinds_text is not None:
        with replacing(directory / KINDS_FILE) as tmp:
            tmp.write_text(kinds_text, encoding="utf-8")
    parse_project(project_text, target)  # ProjectErrors here would be a bug of init, not of the input
    with replacing(target) as tmp:
        tmp.write_text(project_text, encoding="utf-8")
    folders = [(inbox_root or directory / "inbox") / p.id for p in project.participants]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders
