"""The coordinator's Markdown: parsed by section into headings, lists and paragraphs; comments
and the skeleton's guidance are never printed, so an untouched skeleton awaits every section."""

from __future__ import annotations

from pathlib import Path

import pytest

from wpflow.project.load import load_project
from wpflow.report.narrative import (
    load_narrative,
    narrative_path,
    parse_narrative,
    skeleton,
    write_skeleton,
)

TEXT = """# WP4-M3

Text before any section is not printed.

## Summary

Seven of eight cities reported **public** seed funding.
The picture is *uneven*.

### Where the money is
- Berlin and Stockholm hold half of it
- see [the tables](#tables)

## Conclusions
1. National schemes dominate.
2. Municipal schemes are small
   but many.

## Next steps
<!-- not printed -->
- Oslo delivers by September.
"""


def test_sections_parse_into_blocks() -> None:
    n = parse_narrative(TEXT, "WP4-M3")
    assert [(b.kind, b.text) for b in n.summary] == [
        ("paragraph", "Seven of eight cities reported public seed funding. The picture is uneven."),
        ("heading", "Where the money is"),
        ("bullet", "Berlin and Stockholm hold half of it"),
        ("bullet", "see the tables (#tables)"),
    ]
    assert [(b.kind, b.text) for b in n.conclusions] == [
        ("numbered", "National schemes dominate."),
        ("numbered", "Municipal schemes are small but many."),
    ]
    assert [b.text for b in n.next_steps] == ["Oslo delivers by September."]
    assert n.awaiting() == []
    assert len(n.sha256) == 64


def test_an_untouched_skeleton_awaits_every_section(tmp_path: Path) -> None:
    text = skeleton("WP4-M3", "Public seed funding", ["14 public seed-funding schemes in 7 of 8 cities asked."])
    assert "14 public seed-funding schemes" in text
    n = parse_narrative(text, "WP4-M3")
    assert n.awaiting() == ["Summary", "Conclusions", "Next steps"]


def test_write_skeleton_keeps_the_coordinators_file(tmp_path: Path) -> None:
    path = tmp_path / "narratives" / "WP4-M3.md"
    write_skeleton(path, "first")
    with pytest.raises(FileExistsError):
        write_skeleton(path, "second")
    assert path.read_text() == "first"
    write_skeleton(path, "third", force=True)
    assert path.read_text() == "third"


def test_load_reads_the_projects_narratives_folder(tmp_path: Path) -> None:
    project = load_project(Path("projects/baltmet-inno"))
    assert load_narrative(tmp_path, project, "WP4-M3") is None
    path = narrative_path(tmp_path, project, "WP4-M3")
    assert path == tmp_path / "narratives" / "WP4-M3.md"
    write_skeleton(path, TEXT)
    loaded = load_narrative(tmp_path, project, "WP4-M3")
    assert loaded is not None and loaded.conclusions
