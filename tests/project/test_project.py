"""The project definition: the BaltMet Inno data against the seeds, check's findings, and
located errors for broken project.yaml files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT
from wpflow.cli.app import app
from wpflow.project.check import check_project
from wpflow.project.load import ProjectErrors, load_project, load_project_once, parse_project, project_as_dict

runner = CliRunner()

PARTNER_CITIES = {"Berlin", "Copenhagen", "Helsinki", "Malmö", "Riga", "Stockholm", "St. Petersburg", "Tallinn"}
OBSERVER_CITIES = {"Oslo", "Warsaw", "Vilnius"}


def test_participants_match_the_overview_and_annex(project):
    partners = [p for p in project.participants if p.role in ("lead", "partner")]
    observers = [p for p in project.participants if p.role == "observer"]
    assert len(partners) == 13  # "thirteen partner organisations" (overview)
    assert {p.city for p in partners} == PARTNER_CITIES
    assert {p.city for p in observers} == OBSERVER_CITIES
    assert project.participant(project.lead).city == "Helsinki"  # "Helsinki (lead)" (annex)
    assert project.programme.name.startswith("Interreg IIIB")
    assert (project.start.isoformat(), project.end.year) == ("2005-01-02", 2007)
    # one local coordinator per city delivers the city's inputs
    coordinators = [p.city for p in project.participants if p.local_coordinator]
    assert sorted(coordinators) == sorted(PARTNER_CITIES | OBSERVER_CITIES)
    # invented contact addresses use reserved domains only
    assert all(e.endswith(".example.org") for p in project.participants for e in p.emails)


@pytest.mark.parametrize(("wp", "count"), [("WP1", 5), ("WP2", 6), ("WP3", 5), ("WP4", 5), ("WP5", 4)])
def test_milestones_per_work_package(project, wp, count):
    ids = [m.id for m in project.work_package(wp).milestones]
    assert ids == [f"{wp}-M{i}" for i in range(1, count + 1)]


# Periods the WP2 and WP3 descriptions state ("Milestone 2 (July - December 2005)").
@pytest.mark.parametrize(
    ("milestone", "start", "end"),
    [
        ("WP2-M1", "2005-01-02", "2005-06-30"),
        ("WP2-M2", "2005-07-01", "2005-12-31"),
        ("WP2-M3", "2006-01-01", "2006-06-30"),
        ("WP2-M4", "2006-07-01", "2006-12-31"),
        ("WP2-M5", "2007-01-01", "2007-06-30"),
        ("WP2-M6", "2007-07-01", "2007-12-31"),
        ("WP3-M1", "2005-01-02", "2005-06-30"),
        ("WP3-M2", "2005-07-01", "2005-12-31"),
        ("WP3-M3", "2006-01-01", "2006-06-30"),
        ("WP3-M4", "2006-07-01", "2006-12-31"),
        ("WP3-M5", "2007-01-01", "2007-06-30"),
    ],
)
def test_stated_periods(project, milestone, start, end):
    m = project.milestone(milestone)
    assert (m.start.isoformat(), m.end.isoformat()) == (start, end)
    assert m.start <= m.due <= m.end


# Meetings with the cities and months the seeds give, in their order (None: not stated).
SEED_MEETINGS = {
    "WP2-M5": [("Warsaw", "2007-01"), ("Copenhagen", "2007-06")],
    "WP2-M6": [("Vilnius", "2007-09")],
    "WP3-M1": [(None, "2005-06")],
    "WP3-M3": [("Oslo", "2006-02"), ("Stockholm", "2006-06")],
    "WP3-M4": [("Malmö", "2006-08"), ("Berlin", "2006-10"), ("Helsinki", "2006-12")],
    "WP3-M5": [("Warsaw", "2007-03"), ("Copenhagen", "2007-06"), ("Berlin", "2007-11")],
    "WP4-M2": [(None, "2005-08"), (None, "2005-09"), (None, "2005-10"), (None, "2005-11")],
    "WP4-M3": [("Malmö", "2007-01"), ("Stockholm", "2007-03"), ("Riga", "2007-04"), ("Copenhagen", "2007-06")],
    "WP4-M4": [
        ("St. Petersburg", "2006-08"),
        ("Oslo", "2006-09"),
        ("Vilnius", "2006-10"),
        ("Riga", "2006-11"),
        ("Stockholm", "2006-12"),
    ],
    "WP4-M5": [("Tallinn", "2007-02"), ("Stockholm", "2007-05"), ("Copenhagen", "2007-06")],
    "WP5-M1": [("Copenhagen", "2006-03"), ("Malmö", "2006-04"), (None, "2006-06")],
    "WP5-M2": [("Riga", "2006-08"), ("Tallinn", "2006-09"), ("Helsinki", "2006-10")],
    "WP5-M3": [("Stockholm", "2007-02"), ("St. Petersburg", "2007-06")],
    "WP5-M4": [("Copenhagen", "2007-08"), ("Tallinn", "2007-11")],
}


@pytest.mark.parametrize(("milestone", "expected"), SEED_MEETINGS.items(), ids=list(SEED_MEETINGS))
def test_meetings_follow_the_seeds(project, milestone, expected):
    meetings = project.milestone(milestone).all_meetings()
    assert [(m.city, m.month) for m in meetings] == expected


def test_unstated_facts_are_marked_as_assumptions(project):
    wp4m4 = project.milestone("WP4-M4").all_meetings()
    assert [m.assumed for m in wp4m4] == [False, False, False, False, True]  # Stockholm has no date
    assert all(m.assumed for m in project.work_package("WP1").milestones)  # no WP1 description
    assert project.work_package("WP3").coordinator_assumed


@pytest.mark.parametrize(
    ("milestone", "kinds"),
    [
        ("WP2-M1", ["marketing_contacts", "progress_narrative"]),
        ("WP3-M1", ["pre_phase_clusters"]),
        ("WP3-M2", ["cluster_swot"]),
        ("WP4-M1", ["education_institutions"]),
        ("WP4-M2", ["innovation_infrastructure"]),
        ("WP4-M3", ["seed_funding"]),
        ("WP4-M4", ["policy_recommendations"]),
    ],
)
def test_required_inputs_from_every_partner_city(project, milestone, kinds):
    m = project.milestone(milestone)
    assert [r.kind for r in m.inputs] == kinds
    for req in m.inputs:
        assert {p.city for p in project.deliverers(req)} == PARTNER_CITIES


# -- check ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("st-petersburg", "listed as observer and partner"),
        ("WP4-M4", "names 5 cities (St. Petersburg, Oslo, Vilnius, Riga, Stockholm) but 4 dates"),
        ("WP4-M3/WP4-M4", "meeting dates run backwards"),
        ("WP4-M3", "falls outside the milestone period"),
        ("WP4-M2", "4 dates but no host cities"),
        ("participants", "overview states 14 participants; the definition lists 16"),
        ("WP3-M5", "Berlin (2007-11) falls outside the milestone period"),
        ("WP4", "during milestone 6"),
    ],
)
def test_check_reports_the_seed_contradictions(project, where, fragment):
    warnings = [f for f in check_project(project) if f.severity == "warning"]
    assert any(f.where == where and fragment in f.message for f in warnings), [(f.where, f.message) for f in warnings]


def test_check_strict_exits_1_and_json_lists_findings():
    result = runner.invoke(app, ["project", "check", "--strict", "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    kinds = {f["kind"] for f in findings}
    assert {"contradiction", "gap", "assumption"} <= kinds


def test_show_json_has_the_documented_shape():
    result = runner.invoke(app, ["project", "show", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "BaltMet Inno"
    assert set(data["participants"][0]) == {"id", "city", "country", "organisation", "role"}
    wp4 = next(wp for wp in data["work_packages"] if wp["id"] == "WP4")
    m4 = next(m for m in wp4["milestones"] if m["id"] == "WP4-M4")
    assert {"id", "title", "start", "end", "due", "meetings", "inputs"} <= set(m4)
    assert m4["meetings"][0] == {
        "city": "St. Petersburg",
        "month": "2006-08",
        "topic": "Third ARG meeting (policy recommendations)",
        "assumed": False,
    }
    assert m4["inputs"][0]["kind"] == "policy_recommendations"


def test_show_json_equals_the_library_view_and_the_inbox_the_runs_read(project, configure, tmp_path):
    configure(inboxes=tmp_path / "share")  # a shared drive: <inboxes>/<slug>/
    result = runner.invoke(app, ["project", "show", "--format", "json"])
    inbox = str(tmp_path / "share" / "baltmet-inno")
    assert json.loads(result.stdout) == json.loads(json.dumps({**project_as_dict(project), "inbox": inbox}))
    text = runner.invoke(app, ["project", "show"], env={"COLUMNS": "200"}).stdout
    assert f"inbox: {inbox} (missing: nothing can be collected until it exists)" in text


# -- broken definitions -----------------------------------------------------------------
def _mutate(data: dict, path: str, value) -> None:
    """Set data at a dotted path like 'work_packages.0.milestones.1.end'; '+key' adds a key."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if last.startswith("+"):
        node[last[1:]] = value
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


BROKEN = [
    # (case, path, new value, expected field path, expected message fragment)
    ("typo'd key", "work_packages.2.milestones.1.+titel", "x", "work_packages[2].milestones[1].titel", "unknown key"),
    (
        "end before start",
        "work_packages.2.milestones.1.end",
        "2005-01-01",
        "work_packages[2].milestones[1]",
        "before start",
    ),
    (
        "duplicate participant id",
        "participants.1.id",
        "helsinki",
        "participants[1].id",
        "duplicate participant id 'helsinki'",
    ),
    (
        "duplicate milestone id",
        "work_packages.2.milestones.1.id",
        "WP3-M1",
        "work_packages[2].milestones[1].id",
        "duplicate milestone id",
    ),
    (
        "unknown city in a meeting",
        "work_packages.3.milestones.3.meetings.0.cities.1",
        "Gdańsk",
        "work_packages[3].milestones[3].meetings[0].cities",
        "'Gdańsk' is not a participant's city",
    ),
    (
        "unknown partner in an input",
        "work_packages.1.milestones.1.inputs.0.from",
        ["riga", "atlantis"],
        "work_packages[1].milestones[1].inputs[0].from",
        "unknown partner 'atlantis'",
    ),
    (
        "unknown coordinator",
        "work_packages.0.coordinator",
        "nobody",
        "work_packages[0].coordinator",
        "not a participant",
    ),
    (
        "bad month",
        "work_packages.3.milestones.4.meetings.0.month",
        "2007-13",
        "work_packages[3].milestones[4].meetings[0].month",
        "'2007-13' is not a month as YYYY-MM",
    ),
    ("bad e-mail", "participants.0.emails", ["not-an-address"], "participants[0].emails", "not an e-mail address"),
    ("bad role", "participants.2.role", "sponsor", "participants[2].role", "'lead', 'partner' or 'observer'"),
    ("missing title", "work_packages.0.+title", None, "work_packages[0].title", "valid string"),
    (
        "bad milestone id",
        "work_packages.0.milestones.0.id",
        "WP1/M1",
        "work_packages[0].milestones[0].id",
        "not a milestone id like WP3-M2",
    ),
]


@pytest.mark.parametrize(("case", "path", "value", "field", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_definition_names_file_line_and_field(tmp_path, case, path, value, field, fragment):
    data = yaml.safe_load((BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8"))
    _mutate(data, path, value)
    file = tmp_path / "project.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProjectErrors) as exc:
        load_project(file)
    errors = exc.value.errors
    match = [e for e in errors if e.field and e.field.startswith(field) and fragment in e.message]
    assert match, [str(e) for e in errors]
    err = match[0]
    assert err.file == file and err.line is not None
    # the line points into the offending element: its text is on or just below that line
    lines = file.read_text(encoding="utf-8").splitlines()
    assert 1 <= err.line <= len(lines)
    assert str(file) in str(err) and f"line {err.line}" in str(err)


def test_line_numbers_point_at_the_offending_key(tmp_path):
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "    theme: Cluster development\n", "    theme: Cluster development\n    coordinater: berlin-tsb\n"
    )
    with pytest.raises(ProjectErrors) as exc:
        parse_project(broken, tmp_path / "project.yaml")
    err = exc.value.errors[0]
    assert broken.splitlines()[err.line - 1].strip() == "coordinater: berlin-tsb"
    assert err.field == "work_packages[2].coordinater"


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [("name: [unclosed\n", 1, "not valid YAML"), ("- just\n- a list\n", 1, "expected a mapping")],
)
def test_cli_reports_broken_yaml(tmp_path, text, code, fragment):
    (tmp_path / "project.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["project", "check", "--project", str(tmp_path)])
    assert result.exit_code == code
    assert fragment in result.stderr and "project.yaml" in result.stderr


def test_a_project_is_parsed_once_until_its_file_changes(tmp_path):
    file = tmp_path / "project.yaml"
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    file.write_text(text, encoding="utf-8")
    first = load_project_once(tmp_path)
    assert load_project_once(file) is first  # the folder and the file name the same project
    file.write_text(text.replace("\nname: BaltMet Inno\n", "\nname: BaltMet Inno II\n"), encoding="utf-8")
    edited = load_project_once(tmp_path)
    assert edited is not first and edited.name.startswith("BaltMet Inno II")
    file.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProjectErrors, match="not valid YAML"):  # errors are never cached
        load_project_once(tmp_path)


def test_cli_missing_project_is_exit_2(tmp_path: Path):
    result = runner.invoke(app, ["project", "show", "--project", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
