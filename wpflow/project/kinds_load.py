"""A project's input kinds, read from YAML: the shared library files project.yaml names
(`kinds: library:`) and the project's own `kinds.yaml`, each declaration checked
(`schemas.kinds.KindsFile`) and built into an `InputKind` for the project's period.

Every problem is (file, line, field, message), for `wpflow project check` and every command
that loads a project; the loader raises them together with project.yaml's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.inputs import InputKind
from schemas.kinds import KindDecl, KindsFile, KindSources, build_kind
from schemas.project import Project
from schemas.settings import ROOT
from wpflow.project.yaml_lines import YamlProblems, compose, error_message, field_path, line_of

LIBRARY = ROOT / "projects" / "kinds"
Problem = tuple[Path, int | None, str | None, str]


def library_names() -> list[str]:
    """The shared library's files, by the name project.yaml gives them."""
    return sorted(p.stem for p in LIBRARY.glob("*.yaml"))


def library_declarations(names: list[str] | None = None) -> dict[str, KindDecl]:
    """The declarations of library files (by default those a project without `kinds:` gets),
    by id: what `wpflow init` recognises in a work plan before the project exists."""
    found: dict[str, KindDecl] = {}
    for name in KindSources().library if names is None else names:
        declarations, _ = read_kinds_file(LIBRARY / f"{name}.yaml")
        found.update((decl.id, decl) for decl, _ in declarations)
    return found


def read_kinds_file(file: Path) -> tuple[list[tuple[KindDecl, int | None]], list[Problem]]:
    """The declarations of one file, each with its line, or the file's problems."""
    try:
        node, data = compose(file.read_text(encoding="utf-8"))
    except OSError as exc:
        return [], [(file, None, None, f"cannot read: {exc.strerror or exc}")]
    except YamlProblems as exc:
        return [], [(file, p.line, p.path, p.message) for p in exc.problems]
    try:
        declared = KindsFile.model_validate(data)
    except ValidationError as exc:
        problems: dict[tuple[int | None, str | None], Problem] = {}
        for err in exc.errors():
            loc = tuple(err["loc"])
            line, path = line_of(node, loc), field_path(loc, data)
            problems.setdefault((line, path), (file, line, path, error_message(err, "required key is missing")))
        return [], list(problems.values())
    return [(decl, line_of(node, ("kinds", i))) for i, decl in enumerate(declared.kinds)], []


def load_kinds(folder: Path, project: Project, project_node: Any = None) -> tuple[dict[str, InputKind], list[Problem]]:
    """The kinds a project declares, built for its period, and every problem found: files that
    are missing or malformed, a kind declared twice, a milestone asking for an unknown kind."""
    yaml_file = folder / "project.yaml"
    kinds: dict[str, InputKind] = {}
    declared_at: dict[str, str] = {}
    problems: list[Problem] = []
    period = (project.start, project.end)
    sources: list[tuple[Path, bool]] = []
    for i, name in enumerate(project.kinds.library):
        file = LIBRARY / f"{name}.yaml"
        if not file.is_file():
            problems.append(
                (
                    yaml_file,
                    line_of(project_node, ("kinds", "library", i)),
                    f"kinds.library[{i}]",
                    f"no library of kinds named {name!r}; known: {', '.join(library_names())}",
                )
            )
        else:
            sources.append((file, False))
    own = folder / project.kinds.file
    if own.is_file():
        sources.append((own, True))
    elif "file" in project.kinds.model_fields_set:
        problems.append((yaml_file, line_of(project_node, ("kinds", "file")), "kinds.file", f"{own} does not exist"))
    for file, replaces in sources:
        declarations, found = read_kinds_file(file)
        problems += found
        in_this_file: set[str] = set()
        for decl, line in declarations:
            if decl.id in in_this_file or (decl.id in kinds and not replaces):
                problems.append(
                    (file, line, None, f"kind {decl.id!r} is declared twice (also in {declared_at[decl.id]})")
                )
                continue
            in_this_file.add(decl.id)
            declared_at[decl.id] = f"{file.name}, line {line}"
            kinds[decl.id] = build_kind(decl, period)
    if not problems:
        problems += _unknown_kinds(yaml_file, project, kinds, project_node)
    return kinds, problems


def _unknown_kinds(file: Path, project: Project, kinds: dict[str, InputKind], node: Any) -> list[Problem]:
    problems: list[Problem] = []
    for w, wp in enumerate(project.work_packages):
        for k, m in enumerate(wp.milestones):
            for j, req in enumerate(m.inputs):
                if req.kind not in kinds:
                    loc = ("work_packages", w, "milestones", k, "inputs", j, "kind")
                    problems.append(
                        (
                            file,
                            line_of(node, loc),
                            f"{m.id}.inputs[{j}].kind",
                            f"unknown input kind {req.kind!r}; declared: {', '.join(kinds)}",
                        )
                    )
    return problems
