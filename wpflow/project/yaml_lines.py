"""YAML read with its line numbers: the data and the node tree it was built from, so that a
problem found later (by pydantic, or by a check across files) can be pointed at its line.

People who edit these files are secretariat staff: "kinds.yaml, line 14" is what they need.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

# libyaml's parser when PyYAML was built with it (its wheels are): ~10x faster than pure Python
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSyntaxError(Exception):
    """Text that is not YAML, with the 1-based line of the problem when known."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        super().__init__(message)


def read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (its marks give lines) and the data built from that same tree, in one
    parse; a key given twice in one mapping is an error, not a silent overwrite."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(mark.line + 1 if mark else None, f"not valid YAML: {exc.problem}") from exc
    finally:
        loader.dispose()
    for line, key in _repeated_keys(node):
        raise YamlSyntaxError(line, f"key {key!r} is given twice")
    return node, data


def _repeated_keys(node: yaml.Node | None) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    yield key.start_mark.line + 1, key.value
                seen.add(key.value)
            yield from _repeated_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _repeated_keys(item)


def line_of(node: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the deepest node a location (a pydantic error's `loc`) reaches; steps
    that name no node (a union member's tag, a missing key) stay on the parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    node = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line
