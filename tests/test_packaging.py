"""A non-editable install works away from the checkout: the bundled project and the templates
ship as package data, and nothing is looked up beside the source tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.settings import ROOT

# what a wheel is not built from: caches, outputs, other builds, the tests and benchmarks
NOT_BUILT_FROM = shutil.ignore_patterns(
    ".git", ".venv", "outputs", "build", "*.egg-info", "__pycache__", ".*_cache", "tests", "bench", ".env"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wpflow installed with `pip install --no-deps --target` from a copy of the checkout (so the
    build leaves nothing in it and two sessions never share a build folder)."""
    base = tmp_path_factory.mktemp("packaging")
    source, target = base / "source", base / "site"
    shutil.copytree(ROOT, source, ignore=NOT_BUILT_FROM)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    shutil.rmtree(source)  # the installed copy must stand alone
    return target


def run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPFLOW_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.system
def test_the_installed_package_finds_its_project_and_templates(installed: Path, tmp_path: Path) -> None:
    where = run_installed(
        installed,
        tmp_path,
        sys.executable,
        "-c",
        "import wpflow; from schemas.settings import Settings; s = Settings();"
        "print(wpflow.__file__, s.project, s.templates, s.outputs, sep='\\n')",
    )
    assert where.returncode == 0, where.stderr
    module, project, templates, outputs = where.stdout.splitlines()
    assert Path(module).is_relative_to(installed)  # not the checkout's (editable) copy
    assert Path(project) == installed / "projects" / "baltmet-inno"
    assert (Path(project) / "project.yaml").is_file() and (Path(project) / "inbox" / "arrivals.yaml").is_file()
    assert {p.name for p in (Path(templates) / "email").iterdir()} >= {"receipt.txt.j2", "layout.html.j2"}
    assert (Path(templates) / "report.docx").is_file()
    assert outputs == "outputs"  # the working folder's, never site-packages

    shown = run_installed(installed, tmp_path, sys.executable, "-m", "wpflow", "project", "show")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("BaltMet Inno — Baltic Metropolises Innovation Strategy")

    entry = run_installed(installed, tmp_path, str(installed / "bin" / "wpflow"), "project", "show", "-f", "json")
    assert entry.returncode == 0, entry.stderr
    assert json.loads(entry.stdout)["name"] == "BaltMet Inno"
    assert not (installed / "outputs").exists() and not (tmp_path / "outputs").exists()  # show writes nothing
