"""Loading a project definition and checking it against itself.

`load_project` turns YAML into a `Project` and reports every problem with the file, the line
and the field, because the people editing `project.yaml` are secretariat staff, not Python
programmers. `check_project` lists what a careful reader of the seeds would flag: sources that
contradict each other, facts that are missing, and what the definition had to assume.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.project import Meeting, MeetingSeries, Milestone, Project

PROJECT_FILE = "project.yaml"


@dataclass
class ProjectError(Exception):
    """A problem in project.yaml, located for a human."""

    file: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f", line {self.line}" if self.line else "")
        return f"{where}" + (f", field {self.field}" if self.field else "") + f": {self.message}"


class ProjectErrors(Exception):
    """All problems found in one project.yaml (a user fixes them in one pass, not one per run)."""

    def __init__(self, errors: list[ProjectError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def project_file(path: Path) -> Path:
    """Accept either the project folder or the YAML file itself."""
    path = Path(path)
    return path / PROJECT_FILE if path.is_dir() else path


def load_project(path: Path) -> Project:
    """Read and validate a project definition; raise ProjectErrors naming file, line and field."""
    file = project_file(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectErrors([ProjectError(file, None, None, f"cannot read: {exc.strerror or exc}")]) from exc
    return parse_project(text, file)


@lru_cache(maxsize=8)
def _cached(file: Path, mtime_ns: int) -> Project:
    return load_project(file)


def load_project_cached(path: Path) -> Project:
    """Load once per file version: long-lived processes (watcher, serve) re-read on change only."""
    file = project_file(path).resolve()
    return _cached(file, file.stat().st_mtime_ns)


def parse_project(text: str, file: Path) -> Project:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ProjectErrors([ProjectError(file, line, None, f"not valid YAML: {exc.problem}")]) from exc
    if not isinstance(data, dict):
        raise ProjectErrors([ProjectError(file, 1, None, "expected a mapping of project fields")])
    try:
        project = Project.model_validate(data)
    except ValidationError as exc:
        errors = [
            ProjectError(file, _line_of(node, err["loc"]), _field_path(err["loc"], data), _message(err))
            for err in exc.errors()
        ]
        raise ProjectErrors(errors) from None
    problems = project.reference_problems()
    if problems:
        raise ProjectErrors(
            [ProjectError(file, _line_of(node, loc), _field_path(loc, data), msg) for loc, msg in problems]
        )
    return project


def _message(err: Any) -> str:  # a pydantic ErrorDetails
    if err["type"] == "extra_forbidden":
        return "unknown key (typo?)"
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "literal_error":
        return f"{err['input']!r} is not allowed; expected {err['ctx']['expected']}"
    return err["msg"].removeprefix("Value error, ")


def _walk(loc: tuple, data: Any):
    """Follow a pydantic error location through the data, skipping union-member tags."""
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_dict or in_list:
            yield part
            data = data[part]
        elif isinstance(data, dict) and part == "from_" and "from" in data:
            yield "from"
            data = data["from"]
        elif isinstance(part, str) and isinstance(data, dict) and last:
            yield part  # a missing or unknown key: the deepest step


def _field_path(loc: tuple, data: Any) -> str | None:
    out = ""
    for part in _walk(loc, data):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or None


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest YAML node the location reaches."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if part == "from_":
            part = "from"
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                continue  # union tag or missing key: stay on the parent
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            continue
    return line


# -- check ------------------------------------------------------------------------------
class Finding(BaseModel):
    """Something `wpflow project check` reports."""

    model_config = ConfigDict(extra="forbid")

    severity: Literal["warning", "info"] = Field(description="warning: contradiction or gap; info: assumption")
    kind: Literal["contradiction", "gap", "assumption"] = Field(description="What sort of finding")
    where: str = Field(description="Project, participant, WP or milestone it concerns")
    message: str = Field(description="What is wrong or assumed")
    source: str | None = Field(None, description="Source id(s) involved")


def check_project(project: Project) -> list[Finding]:
    """Every contradiction, gap and assumption in the definition, warnings first."""
    findings: list[Finding] = []
    findings += _role_contradictions(project)
    findings += _count_contradictions(project)
    findings += _recorded_notes(project)
    for wp in project.work_packages:
        for m in wp.milestones:
            findings += _meeting_findings(project, m)
        findings += _meetings_out_of_order(wp.milestones)
        findings += _meetings_in_two_milestones(wp.milestones)
    findings += _assumptions(project)
    order = {"warning": 0, "info": 1}
    return sorted(findings, key=lambda f: order[f.severity])


def _role_contradictions(project: Project) -> list[Finding]:
    out = []
    for p in project.participants:
        roles = {c.role for c in p.role_claims} | {p.role}
        if len(roles) > 1:
            claims = "; ".join(f"{c.source}: {c.role}" for c in p.role_claims)
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where=p.id,
                    message=f"{p.city} is listed as {' and '.join(sorted(roles))} ({claims}); "
                    f"the definition uses {p.role}",
                    source=",".join(c.source for c in p.role_claims),
                )
            )
    return out


def _count_contradictions(project: Project) -> list[Finding]:
    out = []
    for stated in project.stated_counts:
        listed = sum(1 for p in project.participants if p.role in stated.roles)
        if listed != stated.count:
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where="participants",
                    message=(
                        f"{stated.source} states {stated.count} {stated.what}; the definition lists "
                        f"{listed} with role {'/'.join(stated.roles)}"
                    ),
                    source=stated.source,
                )
            )
    return out


def _recorded_notes(project: Project) -> list[Finding]:
    out = []
    scoped = [(project.name, n) for n in project.notes]
    scoped += [(wp.id, n) for wp in project.work_packages for n in wp.notes]
    for where, note in scoped:
        if note.kind != "remark":
            out.append(Finding(severity="warning", kind=note.kind, where=where, message=note.text, source=note.source))
    return out


def _meeting_findings(project: Project, m: Milestone) -> list[Finding]:
    out = []
    for item in m.meetings:
        if isinstance(item, MeetingSeries):
            if not item.cities:
                out.append(
                    Finding(
                        severity="warning",
                        kind="gap",
                        where=m.id,
                        message=f"'{item.series}': {len(item.months)} dates but no host cities are stated",
                        source=item.source,
                    )
                )
            elif len(item.cities) != len(item.months):
                out.append(
                    Finding(
                        severity="warning",
                        kind="contradiction",
                        where=m.id,
                        message=(
                            f"'{item.series}': the meeting list names {len(item.cities)} cities "
                            f"({', '.join(c or '?' for c in item.cities)}) but {len(item.months)} dates "
                            f"({', '.join(item.months)})"
                        ),
                        source=item.source,
                    )
                )
    for meeting in m.all_meetings():
        if meeting.city is None and meeting.month is not None and not _series_without_cities(m):
            out.append(
                Finding(
                    severity="warning",
                    kind="gap",
                    where=m.id,
                    message=f"'{meeting.topic}' ({meeting.month}): host city not stated",
                    source=meeting.source,
                )
            )
        if meeting.month and not (_month(m.start) <= meeting.month <= _month(m.end)):
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where=m.id,
                    message=(
                        f"'{meeting.topic}' in {meeting.city or 'an unstated city'} ({meeting.month}) falls outside "
                        f"the milestone period {m.start} – {m.end}"
                    ),
                    source=meeting.source,
                )
            )
    return out


def _series_without_cities(m: Milestone) -> bool:
    return any(isinstance(x, MeetingSeries) and not x.cities for x in m.meetings)


def _meetings_out_of_order(milestones: list[Milestone]) -> list[Finding]:
    """A later milestone whose meetings come before an earlier milestone's: dates run backwards."""
    out = []
    dated = [(m, sorted(x.month for x in m.all_meetings() if x.month)) for m in milestones]
    for (earlier, e_months), (later, l_months) in combinations(dated, 2):
        if e_months and l_months and e_months[-1] > l_months[0]:
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where=f"{earlier.id}/{later.id}",
                    message=(
                        f"meeting dates run backwards: {earlier.id}'s meetings run to {e_months[-1]} but "
                        f"{later.id}'s start in {l_months[0]}"
                    ),
                    source=earlier.source,
                )
            )
    return out


def _meetings_in_two_milestones(milestones: list[Milestone]) -> list[Finding]:
    out = []
    seen: dict[tuple[str, str], str] = {}
    for m in milestones:
        for x in m.all_meetings():
            if x.city and x.month:
                key = (x.city, x.month)
                if key in seen and seen[key] != m.id:
                    out.append(
                        Finding(
                            severity="warning",
                            kind="contradiction",
                            where=f"{seen[key]}/{m.id}",
                            message=f"a meeting in {x.city} ({x.month}) belongs to both {seen[key]} and {m.id}",
                            source=x.source,
                        )
                    )
                seen.setdefault(key, m.id)
    return out


def _assumptions(project: Project) -> list[Finding]:
    out = []
    for p in project.participants:
        if p.assumed:
            out.append(
                Finding(
                    severity="info",
                    kind="assumption",
                    where=p.id,
                    message=f"{p.organisation}: {p.note or 'not named in the sources'}",
                )
            )
    for wp in project.work_packages:
        if wp.coordinator_assumed:
            out.append(
                Finding(
                    severity="info",
                    kind="assumption",
                    where=wp.id,
                    message=f"coordinator {wp.coordinator} is not named in the sources",
                )
            )
        for m in wp.milestones:
            if m.assumed:
                out.append(
                    Finding(
                        severity="info", kind="assumption", where=m.id, message=m.note or "period or due date derived"
                    )
                )
            for x in m.all_meetings():
                if x.assumed:
                    out.append(
                        Finding(
                            severity="info",
                            kind="assumption",
                            where=m.id,
                            message=f"'{x.topic}' in {x.city or '?'} ({x.month}): {x.note or 'derived'}",
                        )
                    )
    return out


def _month(d) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def project_as_dict(project: Project) -> dict[str, Any]:
    """The documented JSON shape of `wpflow project show --format json`."""
    return {
        "name": project.name,
        "title": project.title,
        "programme": project.programme.name,
        "start": project.start.isoformat(),
        "end": project.end.isoformat(),
        "lead": project.lead,
        "participants": [
            {"id": p.id, "city": p.city, "country": p.country, "organisation": p.organisation, "role": p.role}
            for p in project.participants
        ],
        "work_packages": [
            {
                "id": wp.id,
                "title": wp.title,
                "coordinator": wp.coordinator,
                "milestones": [
                    {
                        "id": m.id,
                        "title": m.title,
                        "start": m.start.isoformat(),
                        "end": m.end.isoformat(),
                        "due": m.due.isoformat(),
                        "meetings": [_meeting_dict(x) for x in m.all_meetings()],
                        "inputs": [{"kind": r.kind, "from": [p.id for p in project.deliverers(r)]} for r in m.inputs],
                    }
                    for m in wp.milestones
                ],
            }
            for wp in project.work_packages
        ],
        "reports": project.reports.model_dump(),
    }


def _meeting_dict(x: Meeting) -> dict[str, Any]:
    return {"city": x.city, "month": x.month, "topic": x.topic, "assumed": x.assumed}
