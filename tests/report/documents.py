"""A WP summary to render and ways to read the Word report back: its text, its parts' XML, its
tables and headings."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
from docx.oxml.ns import qn

from schemas.records import (
    ComparativeTable,
    ReportRef,
    Submission,
    WPSummary,
)
from schemas.settings import ROOT
from tests.kinds import KINDS
from wpflow.milestone.merge import kind_notes
from wpflow.report.render import render_report

TEMPLATES = ROOT / "templates"
GENERATED_AT = datetime(2006, 7, 3, 9, 30, tzinfo=UTC)
NNBSP = "\u202f"
CITIES = ["Helsinki", "Stockholm", "Malmö", "Rīga", "Tallinn", "Vilnius", "Berlin", "Oslo"]
BUDGETS = [1_250_000, 3_400_000, 980_000, 410_000, 725_500, 300_000, 2_100_000]  # Oslo is missing
HASHES = ["a" * 64, "0123456789abcdef" * 4, "f" * 63 + "0"]


def seed_funding_table(detail_rows: int = 0) -> ComparativeTable:
    delivered = CITIES[:-1]
    rows = [{"city": c, "Schemes": 2.0, "Annual budget (EUR)": float(b)} for c, b in zip(delivered, BUDGETS)]
    details = [
        {
            "city": delivered[i % len(delivered)],
            "name": f"Seed scheme {i}",
            "provider": "Agency",
            "level": "national",
            "instrument": "grant",
            "budget_eur": 10_000 * (i + 1),
            "ticket_min_eur": 5_000,
            "ticket_max_eur": 50_000,
            "since": 1999,
        }
        for i in range(detail_rows)
    ]
    return ComparativeTable(
        kind="seed_funding",
        label="Public seed-funding schemes",
        columns=["Schemes", "Annual budget (EUR)"],
        rows=rows,
        totals={"Schemes": 14.0, "Annual budget (EUR)": float(sum(BUDGETS))},
        detail_columns=[
            "name",
            "provider",
            "level",
            "instrument",
            "budget_eur",
            "ticket_min_eur",
            "ticket_max_eur",
            "since",
        ],
        details=details,
        **kind_notes(KINDS["seed_funding"], KINDS["seed_funding"].measures),
    )


def submission(partner: str, file_name: str, sha: str, version: int = 1) -> Submission:
    when = datetime(2006, 6, 20, 12, tzinfo=UTC)
    return Submission(
        project="BaltMet Inno",
        partner=partner,
        milestone="WP4-M3",
        kind="seed_funding",
        file_name=file_name,
        sha256=sha,
        size=20_480,
        received_at=when,
        modified_at=when,
        version=version,
        status="accepted",
        archive_path=f"outputs/archive/{sha}",
    )


def render(summary: WPSummary, out: Path) -> ReportRef:
    return render_report(summary, out, templates_dir=TEMPLATES, generated_at=GENERATED_AT)


def document(ref: ReportRef) -> docx.document.Document:
    return docx.Document(ref.path)


def all_text(d: docx.document.Document) -> str:
    """Body text in document order, tables included."""
    return "\n".join(t.text or "" for t in d.element.body.iter(qn("w:t")))


def part_xml(ref: ReportRef, name: str) -> str:
    with zipfile.ZipFile(ref.path) as z:
        return z.read(name).decode("utf-8")


def table_with(d: docx.document.Document, first_header: str, header_cell: str):
    return next(
        t
        for t in d.tables
        if t.rows[0].cells[0].text == first_header and header_cell in [c.text for c in t.rows[0].cells]
    )


def headings_of(d: docx.document.Document) -> list[str]:
    return [p.text for p in d.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
