"""Loading a project definition and checking it against itself.

`load_project` turns YAML into a `Project` and reports every problem with the file, the line
and the field, because the people editing `project.yaml` are secretariat staff, not Python
programmers. `check_project` lists what a careful reader of the seeds would flag: sources that
contradict each other, facts that are missing, and what the definition had to assume.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.project import Meeting, Project
from wpflow.project.kinds_load import load_kinds
from wpflow.project.yaml_lines import YamlProblems, compose, error_message, field_path, line_of

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


def load_project_once(path: Path) -> Project:
    """`load_project`, parsed once per process while the file stays as it is: the CLI checks the
    project before a run and the run's workspace reads it again (0.2 s each on a 772-line
    project.yaml). A file edited since (other size or modification time) is read afresh."""
    file = project_file(path)
    try:
        stat = file.stat()
    except OSError:
        return load_project(path)  # the located "cannot read" error
    return _parsed(file.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _parsed(file: Path, mtime_ns: int, size: int) -> Project:
    return load_project(file)


def parse_project(text: str, file: Path) -> Project:
    try:
        node, data = compose(text)
    except YamlProblems as exc:
        raise ProjectErrors([ProjectError(file, p.line, p.path, p.message) for p in exc.problems]) from exc
    if not isinstance(data, dict):
        raise ProjectErrors([ProjectError(file, 1, None, "expected a mapping of project fields")])
    try:
        project = Project.model_validate(data)
    except ValidationError as exc:
        errors = [
            ProjectError(file, line_of(node, err["loc"]), field_path(err["loc"], data), error_message(err))
            for err in exc.errors()
        ]
        raise ProjectErrors(errors) from None
    problems = project.reference_problems()
    if problems:
        raise ProjectErrors(
            [ProjectError(file, line_of(node, loc), field_path(loc, data), msg) for loc, msg in problems]
        )
    kinds, wrong = load_kinds(file.parent, project, node)
    if wrong:
        raise ProjectErrors([ProjectError(*problem) for problem in wrong])
    project.attach_kinds(kinds)
    return project


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
