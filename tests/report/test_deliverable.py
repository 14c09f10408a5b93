"""The milestone report as a deliverable: title page with author, coordinator, DRAFT/FINAL and
the publicity block; key figures that agree with the tables; method and sources; planned
meetings and assumed organisations marked; the coordinator's sections or the words saying
they are awaited; nothing of the tool or of the coordinator's notes."""

from __future__ import annotations

import pytest

from schemas.records import MeetingRow, ReportRef, WPSummary
from schemas.settings import ROOT
from tests.report.documents import all_text, document, render, table_with
from wpflow.project.load import load_project
from wpflow.report.frame import report_frame
from wpflow.report.key_figures import amount, key_figures
from wpflow.report.narrative import parse_narrative
from wpflow.report.plain_words import format_value

FOLDER = ROOT / "projects" / "baltmet-inno"
NARRATIVE = """## Summary
Seed funding is **national** money in most cities.

## Conclusions
### Where the money is
- Two cities hold most of the budgets.
1. Compare like with like.
2. Count national schemes once.

## Next steps
- Oslo delivers its schemes by September.
"""


@pytest.fixture
def framed(summary: WPSummary) -> WPSummary:
    """The fixture's summary with the bundled project's frame, and a meeting after its date."""
    project = load_project(FOLDER)
    frame = report_frame(project, FOLDER, "WP4-M3", wp_id="WP4", kinds=["seed_funding"], asked={"seed_funding": ""})
    meetings = [*summary.meetings, MeetingRow(city="Riga", month="2007-04", topic="ARG meeting", assumed=False)]
    partners = [
        s.model_copy(update={"partner": "helsinki-culminatum"}) if s.city == "Helsinki" else s for s in summary.partners
    ]
    return summary.model_copy(update={"frame": frame, "meetings": meetings, "partners": partners})


def paragraphs(ref: ReportRef) -> list[str]:
    return [p.text for p in document(ref).paragraphs]


def test_title_page_names_author_coordinator_status_and_publicity(framed, tmp_path):
    ref = render(framed, tmp_path)
    texts = paragraphs(ref)
    project = load_project(FOLDER)
    wp4 = project.participant(project.work_package("WP4").coordinator).organisation
    assert f"Author: {wp4}†" in texts  # the WP4 coordinator is assumed
    assert f"Project coordinator: {project.participant('helsinki').organisation}†" in texts
    assert "Document status: DRAFT" in texts
    assert "DRAFT: awaiting the coordinator's summary, conclusions and next steps." in texts
    assert "Part-financed by the European Union (European Regional Development Fund)" in texts
    assert "Interreg IIIB Baltic Sea Region Programme 2000-2006" in texts
    assert len(document(ref).inline_shapes) == 2  # the EU emblem and the chart
    props = document(ref).core_properties
    assert props.author == props.last_modified_by == project.participant("helsinki").organisation


def test_key_figures_equal_the_tables_totals(framed, tmp_path):
    ref = render(framed, tmp_path)
    d = document(ref)
    table = framed.tables[0]
    total_row = table_with(d, "City", "Annual budget (EUR)").rows[-1]
    assert [c.text for c in total_row.cells] == [
        "Total",
        format_value(table.totals["Schemes"]),
        format_value(table.totals["Annual budget (EUR)"], "EUR"),
    ]
    texts = paragraphs(ref)
    figures = key_figures(framed)
    assert all(f in texts for f in figures)
    assert f"{format_value(table.totals['Schemes'])} public seed-funding schemes in 7 of 8 cities asked." in figures
    assert any(amount(table.totals["Annual budget (EUR)"], "EUR") + " in total" in f for f in figures)


def test_no_tool_no_store_no_notes_on_the_sources(framed, tmp_path):
    noted = framed.model_copy(update={"source_notes": ["The sources disagree on the month."]})
    text = all_text(document(render(noted, tmp_path)))
    for word in ("wpflow", "the store", "Notes on the sources", "The sources disagree"):
        assert word not in text


def test_method_says_what_was_asked_definitions_and_rates(framed, tmp_path):
    d = document(render(framed, tmp_path))
    texts = [p.text for p in d.paragraphs]
    assert any(t.startswith("Public seed-funding schemes: from the local co-ordinators of 8 cities") for t in texts)
    assert any(t.startswith("Annual budget (EUR)†: The scheme's whole budget for one year") for t in texts)
    rates = table_with(d, "Currency", "Per euro")
    assert [r.cells[0].text for r in rates.rows[1:]] == ["DKK†", "SEK†", "LVL†", "EEK†", "RUB†"]
    assert "The work plan" in texts and any(t.startswith("What the work plan foresees") for t in texts)
    assert "Activities" not in texts


def test_meetings_after_the_reports_date_are_planned(framed, tmp_path):
    d = document(render(framed, tmp_path))
    rows = {r.cells[2].text: r.cells[3].text for r in table_with(d, "City", "Topic").rows[1:]}
    assert rows == {"Seed funding workshop": "", "Steering group": "assumed†", "ARG meeting": "planned"}


def test_assumed_organisations_are_marked(framed, tmp_path):
    ref = render(framed, tmp_path)
    status = table_with(document(ref), "Partner", "Status")
    marked = [r.cells[0].text for r in status.rows[1:] if r.cells[0].text.endswith("†")]
    assert marked == ["helsinki-culminatum†"]  # the fixture names no organisations; the id stands in
    assert any(p.startswith("† Assumed:") for p in paragraphs(ref))


def test_tables_and_figures_are_numbered_with_captions(framed, tmp_path):
    texts = paragraphs(render(framed, tmp_path))
    captions = [t for t in texts if t.startswith(("Table ", "Figure "))]
    assert captions == [
        "Table 1: meetings of the milestone.",
        "Table 2: conversion rates to the euro.",
        "Figure 1: Annual budget (EUR) per city.",
        "Table 3: Public seed-funding schemes per city, with the totals across cities.",
        "Table 4: the status of every required input per partner.",
    ]


def test_the_coordinators_narrative_makes_it_final(framed, tmp_path):
    frame = framed.frame.model_copy(update={"narrative": parse_narrative(NARRATIVE, "WP4-M3")})
    d = document(render(framed.model_copy(update={"frame": frame}), tmp_path))
    styled = [(p.style.name, p.text) for p in d.paragraphs]
    texts = [t for _, t in styled]
    assert "Document status: FINAL" in texts and not any(t.startswith("DRAFT") for t in texts)
    assert "Seed funding is national money in most cities." in texts
    assert ("Heading 3", "Where the money is") in styled
    assert ("List Bullet", "Two cities hold most of the budgets.") in styled
    assert "1. Compare like with like." in texts and "2. Count national schemes once." in texts
    assert ("List Bullet", "Oslo delivers its schemes by September.") in styled
    assert not any("awaited" in t for t in texts)


def test_partners_markdown_shows_as_headings_and_lists(framed, tmp_path):
    narratives = [
        framed.narratives[0].model_copy(
            update={"paragraphs": ["### Approach", "- first point\n- second point", "Text."]}
        )
    ]
    d = document(render(framed.model_copy(update={"narratives": narratives}), tmp_path))
    styled = [(p.style.name, p.text) for p in d.paragraphs]
    assert ("Heading 4", "Approach") in styled
    assert ("List Bullet", "first point") in styled and ("List Bullet", "second point") in styled


def test_currencies_only_where_the_report_shows_money(framed, tmp_path):
    no_money = framed.model_copy(update={"tables": [], "meetings": framed.meetings[:1]})
    texts = paragraphs(render(no_money, tmp_path))
    assert "Currencies" not in texts and "Table 2: conversion rates to the euro." not in texts
    assert not any(t.startswith("Meetings marked planned") for t in texts)  # none is planned or assumed
