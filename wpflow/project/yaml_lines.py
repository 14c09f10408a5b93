"""YAML read for people who edit it by hand: every problem on the line where it is.

PyYAML's safe loader lets a repeated key silently replace the first (a second `lead:` changed
the lead in every report e-mail) and places some syntax errors on the line after the fault
(a key without its colon is reported where the next key starts). `compose` keeps the node
tree, so every later problem can be put on its line too (`line_of`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (its wheels are): ~10x faster than pure Python
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STARTS_AT_THE_FAULT = {"while scanning a simple key", "while scanning a quoted scalar"}


@dataclass(frozen=True)
class YamlProblem:
    """A problem of the YAML text itself, before any field is read."""

    line: int | None
    path: str | None
    message: str


class YamlProblems(Exception):
    """Every problem of one YAML text (syntax stops at the first; duplicate keys are all listed)."""

    def __init__(self, problems: list[YamlProblem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (its marks locate problems) and the data built from that same tree, in one
    parse; YamlProblems for a syntax error or a key given twice in one mapping."""
    loader = _LOADER(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise YamlProblems([syntax_problem(exc)]) from exc
        duplicates = list(duplicate_keys(node)) if node is not None else []
        if duplicates:
            raise YamlProblems(duplicates)
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def syntax_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    """The line where the fault is: for a key missing its ':' or a quote never closed the
    context starts at the fault and the problem mark is where the scanner gave up, further down;
    otherwise the context is only the enclosing block or value, and the problem mark the place."""
    context, problem = exc.context_mark, exc.problem_mark
    scanning = exc.context in _STARTS_AT_THE_FAULT
    mark = context if scanning and context is not None else (problem or context)
    line = mark.line + 1 if mark is not None else None
    message = f"not valid YAML: {exc.problem}"
    if exc.context and context is not None and context.line + 1 != line:
        message += f" ({exc.context} that starts on line {context.line + 1})"
    elif scanning:
        message += f" ({exc.context})"
    return YamlProblem(line, None, message)


def duplicate_keys(node: yaml.Node, path: str = "") -> Iterator[YamlProblem]:
    """Each key given twice in one mapping, on the line of its second appearance."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                name = str(key.value)
                here = f"{path}.{name}" if path else name
                if name in seen:
                    yield YamlProblem(
                        key.start_mark.line + 1,
                        here,
                        f"key {name!r} is given twice (first on line {seen[name]}); "
                        "remove one: the second would silently replace the first",
                    )
                else:
                    seen[name] = key.start_mark.line + 1
                yield from duplicate_keys(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from duplicate_keys(item, f"{path}[{i}]")


def line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest YAML node a pydantic error location reaches."""
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


def error_message(err: Any, missing: str = "required field is missing") -> str:
    """A pydantic error (its ErrorDetails) in the words of a person editing the file."""
    if err["type"] == "extra_forbidden":
        return "unknown key (typo?)"
    if err["type"] == "missing":
        return missing
    if err["type"] == "literal_error":
        return f"{err['input']!r} is not allowed; expected {err['ctx']['expected']}"
    return str(err["msg"]).removeprefix("Value error, ")


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


def field_path(loc: tuple, data: Any) -> str | None:
    """The location as the file spells it (`work_packages[2].milestones[0].due`), without
    pydantic's union-member tags."""
    out = ""
    for part in _walk(loc, data):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or None
