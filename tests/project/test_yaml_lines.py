"""project.yaml as people type it: a repeated key is refused, syntax errors are on their line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT
from wpflow.cli.app import app
from wpflow.project.load import ProjectErrors, parse_project

runner = CliRunner()


def test_a_second_lead_is_refused_with_both_lines(tmp_path):
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    broken = text.replace("lead: helsinki\n", "lead: helsinki\nlead: riga\n", 1)
    with pytest.raises(ProjectErrors) as exc:
        parse_project(broken, tmp_path / "project.yaml")
    (err,) = exc.value.errors
    assert broken.splitlines()[err.line - 1] == "lead: riga"
    assert err.field == "lead"
    assert "'lead' is given twice (first on line 17)" in err.message


def test_a_repeated_key_deep_inside_is_named_by_its_path(tmp_path):
    text = "name: X\nwork_packages:\n  - id: WP1\n    title: A\n    title: B\n"
    with pytest.raises(ProjectErrors) as exc:
        parse_project(text, tmp_path / "project.yaml")
    (err,) = exc.value.errors
    assert (err.line, err.field) == (5, "work_packages[0].title")
    assert str(err).startswith(f"{tmp_path / 'project.yaml'}, line 5, field work_packages[0].title: key 'title'")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("name: x\nlead riga\ntitle: y\n", 2, "could not find expected ':'"),
        ('name: "BaltMet\nlead: riga\ntitle: y\n', 1, "while scanning a quoted scalar"),
        ("name: x\n\tlead: riga\n", 2, "tab character"),
        ("name: x\n- riga\ntitle: y\n", 2, "did not find expected key"),
        ("name: x\nlead: a: b\n", 2, "mapping values are not allowed"),
    ],
    ids=["missing-colon", "unclosed-quote", "tab", "list-in-mapping", "colon-in-value"],
)
def test_syntax_errors_are_on_the_line_of_the_fault(tmp_path, text, line, fragment):
    with pytest.raises(ProjectErrors) as exc:
        parse_project(text, tmp_path / "project.yaml")
    (err,) = exc.value.errors
    assert err.line == line, str(err)
    assert fragment in err.message and err.message.startswith("not valid YAML")


def test_project_check_refuses_a_duplicate_key(tmp_path):
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    (tmp_path / "project.yaml").write_text(text.replace("lead: helsinki\n", "lead: helsinki\nlead: riga\n", 1))
    result = runner.invoke(app, ["project", "check", "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert "line 18, field lead: key 'lead' is given twice" in result.stderr
