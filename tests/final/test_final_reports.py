"""The WP final reports and the joint final report, read back from what `make demo` leaves.

The demo's steps run here as they do there (every milestone as of 2008-01-31, then `wpflow
report project`), `--direct` for speed; a test at the end runs the flows through Prefect. The
assertions come from the bundled inputs and project.yaml: the seed-funding totals of WP4-M3's
own report, the seeds' meetings, `wpflow status`, the outbox.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT, DEMO_AS_OF, parse_eml
from wpflow.cli.app import app
from wpflow.report.plain_words import month_words

WPS = ["WP1", "WP2", "WP3", "WP4", "WP5"]


def invoke(outputs: Path, *args: str):
    result = CliRunner().invoke(app, list(args), env={"WPFLOW_OUTPUTS": str(outputs), "WPFLOW_STABLE_SECONDS": "0"})
    assert result.exit_code == 0, result.output
    return result


def outbox(outputs: Path) -> dict[str, object]:
    return {p.name: parse_eml(p) for p in sorted((outputs / "outbox" / "baltmet-inno").glob("*.eml"))}


@pytest.fixture
def demo(demo_outputs: tuple[Path, object]) -> Path:
    """outputs/ after the demo's two commands (conftest's `demo_outputs`)."""
    return demo_outputs[0]


def tables_of(path: Path) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in Document(str(path)).tables]


def table_headed(path: Path, *header: str) -> list[list[str]]:
    found = [t for t in tables_of(path) if tuple(t[0][: len(header)]) == header]
    assert found, f"no table headed {header} in {path.name}"
    return found[0]


def text_of(path: Path) -> str:
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


# -- what the demo leaves ------------------------------------------------------------------------
def test_the_demo_leaves_a_final_report_per_wp_and_the_joint_one_beside_the_milestones(demo):
    reports = demo / "reports" / "baltmet-inno"
    for name in [*WPS, "final"]:
        assert (reports / f"{name}.docx").is_file()
        assert (reports / "history" / f"{name}.v1.docx").read_bytes() == (reports / f"{name}.docx").read_bytes()
    assert (reports / "WP4-M3.docx").is_file()
    assert "Final report of the work package" in text_of(reports / "WP4.docx")
    assert "Final report of the project" in text_of(reports / "final.docx")


def test_wp4_report_holds_the_seed_funding_table_with_wp4_m3s_totals(demo):
    header = ("City", "Schemes", "Annual budget (EUR)")
    milestone = table_headed(demo / "reports" / "baltmet-inno" / "WP4-M3.docx", *header)
    wp = table_headed(demo / "reports" / "baltmet-inno" / "WP4.docx", *header)
    assert wp[-1][0] == "Total" and wp[-1] == milestone[-1]
    assert wp == milestone  # a kind one milestone asks for: that report's rows as they were
    assert int(milestone[-1][1]) == sum(int(r[1]) for r in milestone[1:-1])  # the totals add up the cities


def test_wp4_timeline_holds_every_meeting_the_seeds_give_the_wp(demo, project):
    rows = [r[1:] for r in table_headed(demo / "reports" / "baltmet-inno" / "WP4.docx", "No.", "Month", "City")[1:]]
    rows = [[r[0].removesuffix(" *"), *r[1:]] for r in rows]  # an assumed month or city is marked
    expected = [
        (month_words(x.month or "not stated"), x.city or "not stated", x.topic, m.id)
        for m in project.work_package("WP4").milestones
        for x in m.all_meetings()
    ]
    assert sorted((r[0], r[1], r[2], r[3]) for r in rows) == sorted(expected)
    # the second ARG meetings of the WP4 description: Malmö, Stockholm, Riga, Copenhagen, 1/2007 – 6/2007
    second = [(r[0], r[1]) for r in rows if r[2] == "Second ARG meeting"]
    assert second == [
        ("January 2007", "Malmö"),
        ("March 2007", "Stockholm"),
        ("April 2007", "Riga"),
        ("June 2007", "Copenhagen"),
    ]
    months = [r[0] for r in rows if r[0] != "not stated"]
    assert months == sorted(months, key=lambda m: (m.split()[1], month_index(m)))  # a timeline: month order


def month_index(words: str) -> int:
    return [month_words(f"2000-{n:02d}").split()[0] for n in range(1, 13)].index(words.split()[0])


def test_wp4_report_says_who_delivered_when_and_the_files_used(demo):
    text = text_of(demo / "reports" / "baltmet-inno" / "WP4.docx")
    assert "WP4-M3: Public seed funding in the BSR metropolitan areas" in text
    tables = tables_of(demo / "reports" / "baltmet-inno" / "WP4.docx")
    assert "WP4-M3: who was asked for Public seed-funding schemes (6 on time, 1 late, 1 missing)." in text
    malmo = [r for t in tables for r in t if r[1:3] == ["Malmö", "late"]]
    assert malmo and malmo[0][3] == "5 July 2006" and malmo[0][4] == "seed_funding_malmo.csv (v1)"
    provenance = table_headed(demo / "reports" / "baltmet-inno" / "WP4.docx", "Milestone", "Partner", "File")
    riga = [r for r in provenance if r[2] == "seed_funding_riga.csv"]
    assert riga and riga[0][0] == "WP4-M3" and len(riga[0][4]) == 16  # the corrected file, by its SHA-256
    assert not [r for r in provenance if r[2] == "seed_funding_riga_v1.csv"]  # the invalid one was not used
    assert "the WP4 final report is completed" not in text  # the sources' contradictions stay with project check


def test_final_city_by_wp_matrix_matches_wpflow_status(demo, project):
    status = json.loads(invoke(demo, "status", "--as-of", DEMO_AS_OF, "--format", "json").output)
    counts: dict[tuple[str, str], Counter[str]] = {}
    for row in status["milestones"]:
        wp = row["milestone"].split("-")[0]
        for partner, cell in row["partners"].items():
            counts.setdefault((project.participant(partner).city, wp), Counter())[cell] += 1
    matrix = table_headed(demo / "reports" / "baltmet-inno" / "final.docx", "City", *WPS, "All")
    cities = [p.city for p in project.participants if p.local_coordinator and p.role != "observer"]
    assert [r[0] for r in matrix[1:-1]] == cities and matrix[-1][0] == "Total"
    for row in matrix[1:-1]:
        for wp, cell in zip(WPS, row[1:-1], strict=True):
            shown = (
                Counter()
                if cell == "—"
                else Counter({s: int(n) for n, s in (p.split(" ", 1) for p in cell.split(", "))})
            )
            assert shown == counts.get((row[0], wp), Counter()), (row[0], wp)


def test_final_report_follows_the_seeds_structure(demo, project):
    text = text_of(demo / "reports" / "baltmet-inno" / "final.docx")
    chapters = [line for line in text.splitlines() if line.startswith("WP") and ": " in line and "-M" not in line]
    assert [c.split(":")[0] for c in chapters][:5] == WPS  # WP5 compiles the others: its chapter closes the row
    assert "It compiles the work of the other work packages, so its chapter comes last." in text
    members = table_headed(demo / "reports" / "baltmet-inno" / "final.docx", "City", "Organisation", "Country", "Role")
    spb = next(r for r in members if r[0] == "St. Petersburg")
    assert spb[3] == "partner" and spb[1].endswith(" *")  # the definition's role; an assumed organisation
    assert len(members) - 1 == len(project.participants)
    annex = table_headed(demo / "reports" / "baltmet-inno" / "final.docx", "Report", "Version", "As of")
    assert {r[0] for r in annex[1:]} >= {"WP4-M3", "WP4", "WP5"}


def test_each_report_is_emailed_once_and_a_rerun_sends_nothing(demo, project):
    mails = outbox(demo)
    subjects = Counter(str(m["Subject"]).split(" v1")[0] for m in mails.values())
    wp4_recipients = {p.id for m in project.work_package("WP4").milestones for p in project.recipients(m)}
    assert subjects["[BaltMet Inno] WP4 final report"] == len(wp4_recipients)
    assert subjects["[BaltMet Inno] Joint final report"] == len(project.participants)  # partners and observers
    final = [m for m in mails.values() if str(m["Subject"]).startswith("[BaltMet Inno] Joint final report")]
    assert {m.get_filename() for f in final for m in f.iter_attachments()} == {"final.v1.docx"}
    again = invoke(demo, "report", "project", "--as-of", DEMO_AS_OF, "--direct").output
    assert "joint final report unchanged since v1 of 2008-01-31, nothing sent" in again
    assert outbox(demo).keys() == mails.keys()


def test_the_same_store_renders_the_same_bytes(demo, tmp_path):
    from wpflow.final.render import Issue, render_story
    from wpflow.final.wp_story import build_wp_story, snapshot
    from wpflow.workspace import workspace

    ws = workspace(settings=Settings(project=BUNDLED_PROJECT, outputs=demo, _env_file=None))
    story = build_wp_story(ws.project, "WP4", snapshot(ws.project, ws.store, date(2008, 1, 31)), BUNDLED_PROJECT)
    first = render_story(story, Issue("1"), tmp_path / "a" / "WP4.docx", templates_dir=ws.settings.templates)
    second = render_story(story, Issue("1"), tmp_path / "b" / "WP4.docx", templates_dir=ws.settings.templates)
    issued = hashlib.sha256((demo / "reports" / "baltmet-inno" / "WP4.docx").read_bytes()).hexdigest()
    assert first.sha256 == second.sha256 == issued


# -- as of a day ------------------------------------------------------------------------------
def test_a_wp_report_rehearsed_mid_2006_shows_what_existed_then(tmp_path):
    outputs = tmp_path / "outputs"
    invoke(outputs, "run", "WP4-M1", "--as-of", "2005-07-15", "--direct")
    invoke(outputs, "run", "WP4-M3", "--as-of", "2006-06-30", "--direct")  # v1: Malmö missing
    invoke(outputs, "run", "WP4-M3", "--as-of", "2006-07-10", "--direct")  # v2: Malmö's late file
    before = len(list((outputs / "outbox" / "baltmet-inno").glob("*.eml")))
    said = invoke(outputs, "report", "wp", "WP4", "--as-of", "2006-07-01", "--direct").output
    assert "not final until 30 June 2007; draft in drafts/, nothing sent" in said
    draft = outputs / "reports" / "baltmet-inno" / "drafts" / "WP4.docx"
    assert "Draft of the work package's final report" in text_of(draft)
    overview = table_headed(draft, "Milestone", "Expected output", "Delivered")
    assert next(r for r in overview if r[0] == "WP4-M3")[2] == "Report v1 of 30 June 2006 (incomplete)"
    assert "(6 on time, 2 missing)" in text_of(draft)
    assert next(r for r in overview if r[0] == "WP4-M5")[2] == "Not yet due (30 June 2007)"
    assert len(list((outputs / "outbox" / "baltmet-inno").glob("*.eml"))) == before  # a draft goes to nobody
    assert not (outputs / "reports" / "baltmet-inno" / "WP4.docx").exists()

    said = invoke(outputs, "report", "wp", "WP4", "--as-of", "2007-07-01", "--direct").output
    assert "WP4 final report v1 issued" in said
    final = outputs / "reports" / "baltmet-inno" / "WP4.docx"
    m3 = next(r for r in table_headed(final, "Milestone", "Expected output", "Delivered") if r[0] == "WP4-M3")
    assert m3[2] == "Report v2 of 10 July 2006 (incomplete)" and "1 late" in text_of(final)


def test_a_changed_store_is_the_next_version_saying_what_changed(tmp_path):
    outputs = tmp_path / "outputs"
    invoke(outputs, "run", "WP4-M3", "--as-of", "2006-06-30", "--direct")
    invoke(outputs, "report", "wp", "WP4", "--as-of", "2007-07-01", "--direct")
    invoke(outputs, "run", "WP4-M3", "--as-of", "2007-07-02", "--direct")  # Malmö's late file: WP4-M3 v2
    said = invoke(outputs, "report", "wp", "WP4", "--as-of", "2007-07-03", "--direct").output
    assert "WP4 final report v2 issued" in said
    text = text_of(outputs / "reports" / "baltmet-inno" / "WP4.docx")
    assert "Changes since v1 of 1 July 2007" in text
    assert "WP4-M3, Malmö (Public seed-funding schemes): missing → late." in text
    update = [m for m in outbox(outputs).values() if str(m["Subject"]).startswith("[BaltMet Inno] WP4 final report v2")]
    assert update and "(updated)" in str(update[0]["Subject"])


# -- contracts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("template", ["wp_report.docx", "final_report.docx"])
def test_every_template_variable_is_provided(demo, template):
    from datetime import UTC, datetime

    from wpflow.final.project_story import build_project_story
    from wpflow.final.render import Issue, project_context, wp_context
    from wpflow.final.wp_story import build_wp_story, snapshot
    from wpflow.report.render import template_variables
    from wpflow.workspace import workspace

    ws = workspace(settings=Settings(project=BUNDLED_PROJECT, outputs=demo, _env_file=None))
    snap = snapshot(ws.project, ws.store, date(2008, 1, 31))
    when = datetime(2008, 1, 31, tzinfo=UTC)
    if template == "wp_report.docx":
        context, _ = wp_context(
            build_wp_story(ws.project, "WP4", snap), Issue("1"), tpl=None, when=when, template_sha=""
        )
    else:
        story = build_project_story(ws.project, ws.store, snap)
        context, _ = project_context(story, Issue("1"), tpl=None, when=when, template_sha="")
    assert template_variables(ws.settings.templates / template) <= set(context)


def test_final_report_deployments_run_at_each_wp_end_and_the_project_end(project):
    from orchestration.deployments import deployment_specs

    specs = {s.name.removeprefix("baltmet-inno-"): s for s in deployment_specs(project, "projects/baltmet-inno")}
    wp4 = specs["wp4-final-report"]
    assert wp4.entrypoint == "flows/final_report.py:wp_final_report"
    assert wp4.parameters == {"wp_id": "WP4", "project": "projects/baltmet-inno"}
    assert specs["final-report"].parameters == {"project": "projects/baltmet-inno"}
    assert wp4.rrule is not None and wp4.rrule.startswith("DTSTART:20070630T080000")
    assert specs["final-report"].rrule is not None and specs["final-report"].rrule.startswith("DTSTART:20071231")


# -- through Prefect ----------------------------------------------------------------------------
def test_the_flows_tell_the_story_with_artifacts_in_the_ui(configure, prefect_api):
    """`final-report` through Prefect: a subflow per WP, then the joint report; each run ends
    with the report's link among its artifacts; a draft ends "Draft" and sends nothing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.final_report import final_report, wp_final_report

    outputs = configure().outputs
    invoke(outputs, "run", "WP4-M3", "--as-of", "2006-07-10", "--direct")
    draft = wp_final_report("WP4", date(2006, 7, 15), return_state=True)
    assert draft.is_completed() and draft.name == "Draft"
    assert draft.message == "WP4 final report: not final until 30 June 2007; draft in drafts/, nothing sent"
    state = final_report(date(2008, 1, 31), return_state=True)
    assert state.is_completed(), state.message
    issued = state.result()
    assert [i.report for i in issued] == [*WPS, "final"]
    assert state.message.startswith("joint final report v1 issued; 16 e-mail(s) sent")
    with get_client(sync_client=True) as client:
        links = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"baltmet-inno-{k}" for k in ("wp4-final-report", "final-final-report")])
            )
        )
    assert {a.key for a in links} == {"baltmet-inno-wp4-final-report", "baltmet-inno-final-final-report"}
    assert any("WP4.docx" in str(a.data) for a in links)
