"""The documents hold what they say: every repository path a document names in backticks
exists, every relative link points at a file, the README stays short enough to read, and the
documents cite nothing a reader cannot open (no tracker numbers, no design card outside the
repository)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from schemas.settings import ROOT

DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
README_MAX_LINES = 200

# Made by running wpflow (`make demo`, `make install`, `make bench`): gitignored, never committed.
GENERATED = ("outputs/", ".venv/", "bench/results/", "bench/.cache/")
# A placeholder or a pattern, not one file: `tests/<package>/`, `history/*.docx`, `WP1.docx … WP5`.
NOT_ONE_PATH = re.compile(r"[*<>{}…]|\.\.\.|://")
FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
CITATIONS = {
    "a design card outside the repository": re.compile(r"DESIGN\s*§"),
    "an issue number": re.compile(r"\bissues?[\s-]+#?\d+", re.IGNORECASE),
}


def top_level() -> set[str]:
    """What a path must start with to be a path into the repository (`wpflow/…`, `Makefile`)."""
    return {p.name for p in ROOT.iterdir() if not p.name.startswith(".") or p.name == ".ci"}


def prose(document: Path) -> str:
    """The document without its fenced blocks: those hold commands and their output, whose paths
    are examples (`wpflow init projects/my-project`), not references to the repository."""
    return FENCED.sub("", document.read_text(encoding="utf-8"))


def named_paths(document: Path) -> list[str]:
    """Every repository path the document writes in backticks, as written (an anchor aside)."""
    roots = top_level()
    found = []
    for code in INLINE_CODE.findall(prose(document)):
        token = code.strip().split("#")[0].rstrip(".,:;")
        if not token or any(c.isspace() for c in token) or NOT_ONE_PATH.search(token):
            continue
        if token.startswith(GENERATED) or token.split("/")[0] not in roots:
            continue
        found.append(token)
    return found


def linked_paths(document: Path) -> list[str]:
    """Every relative link of the document (`[deploy.md](deploy.md)`), resolved from its folder."""
    found = []
    for target in LINK.findall(prose(document)):
        target = target.split("#")[0]
        if target and "://" not in target and not target.startswith("mailto:"):
            found.append(os.path.relpath(os.path.normpath(document.parent / target), ROOT))
    return found


def anchor_of(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def broken_anchors(document: Path) -> list[str]:
    """Links to a heading of another document (`operations.md#every-setting`) that it lacks."""
    broken = []
    for target in LINK.findall(prose(document)):
        path, _, anchor = target.partition("#")
        linked = Path(os.path.normpath(document.parent / path)) if path else document
        if not anchor or "://" in path or linked.suffix != ".md" or not linked.is_file():
            continue
        headings = re.findall(r"^#+\s+(.+)$", prose(linked), re.MULTILINE)
        if anchor not in {anchor_of(h) for h in headings}:
            broken.append(target)
    return broken


def ids(documents: list[Path]) -> list[str]:
    return [d.relative_to(ROOT).as_posix() for d in documents]


def test_every_document_is_found():
    assert (ROOT / "README.md").is_file() and (ROOT / "CONTRIBUTING.md").is_file()
    assert len(DOCUMENTS) > 2, "docs/*.md"


@pytest.mark.parametrize("document", DOCUMENTS, ids=ids(DOCUMENTS))
def test_every_path_named_exists(document: Path):
    missing = sorted({p for p in named_paths(document) if not (ROOT / p).exists()})
    assert not missing, f"{document.name} names paths that do not exist: {', '.join(missing)}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=ids(DOCUMENTS))
def test_every_relative_link_resolves(document: Path):
    broken = sorted({p for p in linked_paths(document) if not (ROOT / p).exists()})
    assert not broken, f"{document.name} links to files that do not exist: {', '.join(broken)}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=ids(DOCUMENTS))
def test_every_link_to_a_heading_finds_it(document: Path):
    broken = sorted(set(broken_anchors(document)))
    assert not broken, f"{document.name} links to headings that do not exist: {', '.join(broken)}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=ids(DOCUMENTS))
def test_no_reference_a_reader_cannot_follow(document: Path):
    text = document.read_text(encoding="utf-8")
    found = [
        f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r} ({what})"
        for what, pattern in CITATIONS.items()
        for m in pattern.finditer(text)
    ]
    assert not found, f"{document.name} cites what is not in the repository: " + "; ".join(found)


def test_the_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; at most {README_MAX_LINES}: move detail to docs/"


def test_the_path_finder_finds_paths_and_skips_the_rest(tmp_path: Path):
    sample = tmp_path / "sample.md"
    sample.write_text(
        "See `wpflow/inbox/watch.py`, `Makefile` and `docs/deploy.md#several-machines`.\n"
        "Not paths: `outputs/reports/x.docx`, `tests/<package>/`, `history/*.docx`, `make demo`,\n"
        "`https://example.org/a/b`, `WP4-M3`, `inbox/riga/WP4-M3/seed_funding.csv`.\n"
        "```\nwpflow/not/checked.py\n```\n",
        encoding="utf-8",
    )
    assert named_paths(sample) == ["wpflow/inbox/watch.py", "Makefile", "docs/deploy.md"]
    assert anchor_of("The store and its schema: who migrates") == "the-store-and-its-schema-who-migrates"
