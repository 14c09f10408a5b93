"""Kind declarations as the people who write them get them wrong: `wpflow project check` names
the file and the line of every mistake, and the shared library of kinds is what BaltMet Inno's
seven kinds are."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT
from wpflow.cli.app import app
from wpflow.project.kinds_load import LIBRARY, library_names, read_kinds_file
from wpflow.project.load import ProjectErrors, load_project

GOOD = """\
kinds:
  - id: trainees
    label: Trainees
    description: People trained by the partner.
    fields:
      - {name: trainee, type: text, required: true, description: Name, personal: true}
      - {name: hours, type: integer, min: 0, unit: hours, description: Hours of training}
    measures:
      - label: Trainees
      - {label: Hours, sum: hours}
"""


LIBRARY_LINE = "kinds:\n  library: [baltmet-inno, common]\n"


def project_with(tmp_path: Path, kinds_yaml: str, sources: str = LIBRARY_LINE) -> Path:
    folder = tmp_path / "trainee-inno"
    folder.mkdir(parents=True)
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    assert LIBRARY_LINE in text
    text = text.replace(LIBRARY_LINE, sources)
    (folder / "project.yaml").write_text(text, encoding="utf-8")
    (folder / "kinds.yaml").write_text(kinds_yaml, encoding="utf-8")
    return folder


def test_a_project_adds_its_own_kinds_to_the_library(tmp_path):
    project = load_project(project_with(tmp_path, GOOD))
    assert "trainees" in project.input_kinds and "seed_funding" in project.input_kinds
    trainees = project.input_kind("trainees")
    assert trainees.personal_columns() == {"trainee"}
    assert [(m.label, m.column, m.unit) for m in trainees.measures] == [
        ("Trainees", None, ""),
        ("Hours", "hours", "hours"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("type: integer", "type: whole number", 7, "'whole number' is not allowed"),
        ("unit: hours, description", "units: hours, description", 7, "unknown key (typo?)"),
        ("min: 0, unit", "min: period_begin, unit", 7, "'period_begin' is not a bound"),
        (
            "{label: Hours, sum: hours}",
            "{label: Hours, sum: minutes}",
            2,
            "measure 'Hours' names 'minutes', not a field",
        ),
        ("    label: Trainees\n", "    label: Trainees\n    label: Again\n", 4, "key 'label' is given twice"),
        ("  - id: trainees", "  - id: trainees\n   bad indent: [", None, "not valid YAML"),
    ],
    ids=["unknown type", "unknown key", "bad bound", "measure of no field", "repeated key", "not YAML"],
)
def test_project_check_names_the_file_and_line_of_a_malformed_kind(tmp_path, old, new, line, fragment):
    assert old in GOOD
    folder = project_with(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ProjectErrors) as exc:
        load_project(folder)
    [err] = exc.value.errors
    assert err.file == folder / "kinds.yaml" and fragment in err.message
    if line is not None:
        assert err.line == line
    result = CliRunner().invoke(app, ["project", "check", "--project", str(folder)])
    assert result.exit_code != 0
    assert f"{folder / 'kinds.yaml'}, line {err.line}" in result.stderr and fragment in result.stderr


def test_an_unknown_library_or_kind_is_located_in_project_yaml(tmp_path):
    folder = project_with(tmp_path, GOOD, "kinds:\n  library: [common, nordhydro]\n")
    with pytest.raises(ProjectErrors) as exc:
        load_project(folder)
    [err] = exc.value.errors
    lines = (folder / "project.yaml").read_text(encoding="utf-8").splitlines()
    assert err.file == folder / "project.yaml" and lines[err.line - 1].startswith("  library:")
    assert "no library of kinds named 'nordhydro'" in err.message and "baltmet-inno" in err.message

    folder = project_with(tmp_path / "only-common", GOOD, "kinds:\n  library: [common]\n")
    with pytest.raises(ProjectErrors) as exc:
        load_project(folder)
    first = exc.value.errors[0]
    assert (
        "unknown input kind" in first.message
        and "declared: meeting_report, progress_narrative, trainees" in first.message
    )
    assert "kind:" in (folder / "project.yaml").read_text(encoding="utf-8").splitlines()[first.line - 1]


def test_the_library_holds_baltmet_innos_kinds_and_the_documents():
    assert library_names() == ["baltmet-inno", "common"]
    declared = {name: [d.id for d, _ in read_kinds_file(LIBRARY / f"{name}.yaml")[0]] for name in library_names()}
    assert declared == {
        "baltmet-inno": [
            "education_institutions",
            "innovation_infrastructure",
            "seed_funding",
            "policy_recommendations",
            "pre_phase_clusters",
            "cluster_swot",
            "marketing_contacts",
        ],
        "common": ["meeting_report", "progress_narrative"],
    }


def test_dates_narrative_sections_and_a_count_per_value(tmp_path):
    """A date bounded by the project's period, a narrative that must have its named sections,
    and `group_by`: a count column per value of a field in the comparative table."""
    import datetime as dt

    from pydantic import ValidationError

    from schemas.kinds import KindsFile, build_kind
    from schemas.records import CheckedSubmission, Submission, SubmissionStatus, ValidationResult
    from wpflow.milestone.merge import comparative_table

    declared = KindsFile.model_validate(
        {
            "kinds": [
                {
                    "id": "energy_audits",
                    "label": "Energy audits",
                    "description": "Audits done.",
                    "fields": [
                        {"name": "site", "type": "text", "required": True, "description": "Site"},
                        {"name": "day", "type": "date", "max": "period_end + 1", "description": "Day of the audit"},
                        {"name": "sector", "type": "choice", "values": ["public", "private"], "description": "Sector"},
                    ],
                    "measures": [{"label": "Audits"}],
                    "group_by": "sector",
                },
                {
                    "id": "story",
                    "label": "Story",
                    "description": "A text.",
                    "shape": "narrative",
                    "sections": ["Results"],
                },
            ]
        }
    )
    period = (dt.date(2008, 1, 1), dt.date(2010, 12, 31))
    audits, story = (build_kind(d, period) for d in declared.kinds)
    assert audits.model.model_validate({"site": "Kiel port", "day": "2011-12-31"}).day == dt.date(2011, 12, 31)
    with pytest.raises(ValidationError, match="less than or equal to 2011-12-31"):
        audits.model.model_validate({"site": "Kiel port", "day": "2012-01-01"})
    with pytest.raises(ValidationError, match="has no section headed Results"):
        story.model.model_validate({"sections": [{"heading": "Context", "text": "Why."}]})

    rows = [{"site": "a", "sector": "public"}, {"site": "b", "sector": "private"}, {"site": "c", "sector": "public"}]
    sub = Submission(
        project="p",
        milestone="WP1-M1",
        partner="kiel",
        file_name="a.xlsx",
        archive_path="a.xlsx",
        sha256="0" * 64,
        size=1,
        received_at=dt.datetime(2009, 1, 1, tzinfo=dt.UTC),
        modified_at=dt.datetime(2009, 1, 1, tzinfo=dt.UTC),
        status=SubmissionStatus.valid,
    )
    checked = CheckedSubmission(submission=sub, result=ValidationResult(file="a.xlsx", kind=audits.id, rows=rows))
    table = comparative_table(audits, [checked], {"kiel": "Kiel"}, {"Kiel": 0})
    assert table.columns == ["Audits", "public", "private"]
    assert table.rows == [{"city": "Kiel", "Audits": 3, "public": 2, "private": 1}]
