"""The code's structure as rules a test can hold: the layers of pyproject's import-linter contracts
(orchestration -> flows -> tasks -> wpflow -> schemas, no Prefect below tasks), no import cycle
between the project's modules, `wpflow validate` without Prefect, no module over 400 lines
(docs/architecture.md), the tests' own modules (conftest and helpers) included."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.settings import ROOT

PACKAGES = ("wpflow", "orchestration", "flows", "tasks", "schemas")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def project_imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports anywhere — module level or inside a function (a lazy
    import that closes a circle is still a circle); TYPE_CHECKING blocks are for mypy only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    out: set[str] = set()
    for child in ast.walk(tree):
        if id(child) in skipped:
            continue
        if isinstance(child, ast.Import):
            out |= {a.name for a in child.names if a.name in known}
        elif isinstance(child, ast.ImportFrom) and child.module:
            out |= {m for m in (child.module, *(f"{child.module}.{a.name}" for a in child.names)) if m in known}
    return out


def test_no_import_cycle_between_the_projects_modules():
    found = modules()
    graph = {name: project_imports(path, set(found)) - {name} for name, path in found.items()}
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_the_layering_contracts_hold():
    """import-linter's own verdict on pyproject's contracts, with every broken import it names."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_wpflow_validate_runs_without_importing_prefect():
    code = (
        "import sys; from typer.testing import CliRunner; from wpflow.cli.app import app; "
        "r = CliRunner().invoke(app, ['validate', 'projects/baltmet-inno/inbox/riga/WP4-M3/seed_funding_riga_v1.csv',"
        " '--milestone', 'WP4-M3']); print(r.exit_code, sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "1 []", done.stdout + done.stderr[-2000:]


def line_counted() -> dict[str, Path]:
    """The project's modules and the tests': test modules, conftest files and their helpers."""
    tests = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in (ROOT / "tests").rglob("*.py")}
    return {**modules(), **tests}


@pytest.mark.parametrize("name", sorted(line_counted()))
def test_no_module_passes_400_lines(name):
    lines = len(line_counted()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it along its seams"


# Spelled in parts so that this file does not match itself.
OUTSIDE_REFERENCES = re.compile(r"\b" + "issue" + r"s?[\s-]+#?\d+|" + "DESIGN" + r"\s*§", re.IGNORECASE)
SOURCES = [p for folder in (*PACKAGES, "tests", "bench", "scripts") for p in sorted((ROOT / folder).rglob("*.py"))]


def test_the_code_cites_no_issue_numbers_nor_outside_documents():
    """Comments say why in words a reader of this repository can follow: an issue number or a
    design card outside the repository is a pointer the reader cannot open."""
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in SOURCES
        if path.name != "test_docs.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_REFERENCES.search(line)
    ]
    assert not found, "\n".join(found)
