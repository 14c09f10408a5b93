"""The report tests' fixtures: a WP summary (seven cities of eight, meetings, provenance) and
its rendered report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from schemas.records import (
    MeetingRow,
    NarrativeBlock,
    PartnerState,
    ReportRef,
    WPSummary,
)
from tests.report.documents import (
    CITIES,
    HASHES,
    render,
    seed_funding_table,
    submission,
)


@pytest.fixture
def summary() -> WPSummary:
    """WP4-M3 (public seed funding) as the merge step would hand it over, Oslo missing."""
    partners = [
        PartnerState(
            partner=f"p{i}",
            city=c,
            kind="seed_funding",
            status="missing" if c == "Oslo" else ("late" if c == "Rīga" else "on time"),
            file_name=None if c == "Oslo" else f"seed_{c}.xlsx",
            version=None if c == "Oslo" else 1,
        )
        for i, c in enumerate(CITIES)
    ]
    return WPSummary(
        project="BaltMet Inno",
        project_title="Baltic Metropoles Innovation Strategy",
        programme="Interreg IIIB Baltic Sea Region",
        wp_id="WP4",
        wp_title="Innovation environment benchmarking",
        milestone_id="WP4-M3",
        milestone_title="Public seed funding schemes",
        start=date(2006, 1, 1),
        end=date(2006, 6, 30),
        due=date(2006, 6, 30),
        as_of=date(2006, 7, 3),
        activities=["Collect the public seed-funding schemes of each metropolis", "Compare budgets and tickets"],
        meetings=[
            MeetingRow(city="Malmö", month="2006-03", topic="Seed funding workshop", assumed=False),
            MeetingRow(city="Rīga", month="2006-05", topic="Steering group", assumed=True),
        ],
        tables=[seed_funding_table()],
        narratives=[
            NarrativeBlock(
                city="Malmö",
                kind="progress_narrative",
                title="Malmö: Progress",
                paragraphs=["Schemes mapped with the regional agency.", "Two new schemes since 2005."],
            ),
            NarrativeBlock(
                city="Rīga",
                kind="progress_narrative",
                title="Rīga: Progress",
                paragraphs=["Latvian Guarantee Agency data included."],
            ),
        ],
        partners=partners,
        missing=["Oslo"],
        inputs=[
            submission("p2", "seed_Malmö.xlsx", HASHES[0]),
            submission("p3", "seed_Rīga.xlsx", HASHES[1], 2),
            submission("p0", "seed_Helsinki.xlsx", HASHES[2]),
        ],
        status="incomplete",
        kind_titles={"seed_funding": "Public seed-funding schemes", "progress_narrative": "Narrative progress text"},
        document_kinds=["progress_narrative"],
    )


@pytest.fixture
def report(summary: WPSummary, tmp_path: Path) -> ReportRef:
    return render(summary, tmp_path)
