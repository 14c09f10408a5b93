"""The final reports as deliverables: the joint report in the order of a programme's final
report, its summary's figures equal to its tables, no tool words or source notes, DRAFT and
the awaited sections until the coordinator writes, and the coordinator's words as content (an
edited narrative is the next version, e-mailed once per recipient)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import docx
import pytest
from docx import Document
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT, DEMO_AS_OF, parse_eml
from wpflow.cli.app import app

WPS = ["WP1", "WP2", "WP3", "WP4", "WP5"]
FORBIDDEN = ("wpflow", "the store", "notes on the sources", "the command", "project check", "its own final report")
# the reports' own files (a partner's narrative.docx in the provenance annex is a source, not one of them)
OWN_FILE = re.compile(r"\b(?:WP\d(?:-M\d)?|final)(?:\.v\d+)?\.(?:docx|pdf)\b", re.IGNORECASE)


@pytest.fixture
def demo(demo_outputs: tuple[Path, object]) -> Path:
    return demo_outputs[0] / "reports" / "baltmet-inno"


def headings(path: Path, level: str = "Heading 1") -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.style is not None and p.style.name == level]


def all_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def table_headed(path: Path, *header: str) -> list[list[str]]:
    for t in Document(str(path)).tables:
        rows = [[c.text for c in row.cells] for row in t.rows]
        if tuple(rows[0][: len(header)]) == header:
            return rows
    raise AssertionError(f"no table headed {header} in {path.name}")


def bullets_after(path: Path, heading: str) -> list[str]:
    paragraphs = Document(str(path)).paragraphs
    at = next(n for n, p in enumerate(paragraphs) if p.text == heading and p.style and p.style.name == "Heading 1")
    out = []
    for p in paragraphs[at + 1 :]:
        if p.style is not None and p.style.name.startswith("Heading"):
            break
        if p.style is not None and p.style.name == "List Bullet":
            out.append(p.text)
    return out


def test_the_joint_report_follows_a_programme_final_report(demo):
    found = headings(demo / "final.docx")
    expected = [
        "Executive summary",
        "Objectives",
        "The partnership",
        *[h for h in found if h.split(":")[0] in WPS],
        "Meetings and dissemination",
        "Follow-up",
        "Budget",
        "Conclusions and next steps",
        "Annex A: delivery per city",
        "Annex B: provenance",
    ]
    assert found == expected
    assert [h.split(":")[0] for h in found if h.split(":")[0] in WPS] == WPS
    # each WP chapter: its objective (the opening paragraph), outputs against the work plan, results
    assert headings(demo / "final.docx", "Heading 2").count("Outputs") == len(WPS)
    assert headings(demo / "final.docx", "Heading 2").count("Results") == len(WPS)
    tables = Document(str(demo / "final.docx")).tables
    assert sum(1 for t in tables if t.rows[0].cells[1].text == "Expected output") == len(WPS)
    title = [p.text for p in Document(str(demo / "final.docx")).paragraphs[:20]]
    assert "Joint final report" in title and "Status: DRAFT" in title and "Version: 1" in title
    assert any(t.startswith("Part-financed by the European Union (European Regional Development Fund)") for t in title)
    assert Document(str(demo / "final.docx")).inline_shapes  # the EU emblem and the charts


def test_the_executive_summary_says_what_the_tables_show(demo, project):
    summary = bullets_after(demo / "final.docx", "Executive summary")
    matrix = table_headed(demo / "final.docx", "City", *WPS, "All")
    total = {s: int(n) for n, s in (part.split(" ", 1) for part in matrix[-1][-1].split(", "))}
    delivered = next(line for line in summary if line.startswith("The cities delivered"))
    asked = sum(total.values())
    assert delivered.startswith(f"The cities delivered {total['on time'] + total.get('late', 0)} of {asked} ")
    assert f"{total['on time']} on time and {total.get('late', 0)} late" in delivered
    outputs = [r for t in Document(str(demo / "final.docx")).tables for r in t.rows if r.cells[0].text.startswith("WP")]
    delivered_rows = [r for r in outputs if r.cells[-1].text.startswith("Report v")]
    milestones = sum(len(wp.milestones) for wp in project.work_packages)
    assert f"{len(delivered_rows)} of {milestones} milestones delivered their report to the partners." in summary
    budget = table_headed(demo / "final.docx", "Item", "Amount (EUR)")
    assert re.sub(r"\s", " ", budget[1][1]) == "1 586 945"  # project.yaml's total, rounded to the euro
    assert any("61.1\u00a0%" in line for line in summary)


@pytest.mark.parametrize("name", [*WPS, "final"])
def test_no_tool_words_and_no_source_notes_in_a_deliverable(demo, name):
    text = all_text(demo / f"{name}.docx").lower()
    assert not [w for w in FORBIDDEN if w in text]
    assert not OWN_FILE.search(text)


@pytest.mark.parametrize(("name", "author"), [("WP4", "City of Stockholm"), ("final", "City of Helsinki")])
def test_the_document_properties_name_the_reports_author(demo, name, author):
    """What Word shows as the file's author is the report's author, not the tool that made it."""
    props = docx.Document(str(demo / f"{name}.docx")).core_properties
    assert props.author.startswith(author) and props.last_modified_by == props.author


def test_a_report_without_the_coordinators_words_is_a_draft_naming_what_is_awaited(demo):
    text = all_text(demo / "WP4.docx")
    assert "Status: DRAFT" in text
    assert "Draft: awaiting the coordinator's summary, conclusions and next steps." in text
    for section in ("summary", "conclusions", "next steps"):
        assert f"Awaiting the coordinator's {section}." in text
    found = headings(demo / "WP4.docx")
    assert found == [
        "Summary",
        "Objective and outputs",
        "The milestones",
        "Results in figures",
        "Meetings",
        "Conclusions and next steps",
        "Annex: provenance",
    ]


def test_wp_tables_of_nobody_fold_into_a_sentence_and_captions_are_numbered(demo):
    text = all_text(demo / "WP4.docx")
    assert re.search(r"No partner delivered [^.]+ for WP4-M2; 8 were asked \(Helsinki, ", text)
    partner_tables = [t for t in Document(str(demo / "WP4.docx")).tables if t.rows[0].cells[0].text == "Partner"]
    for t in partner_tables:  # a table only where somebody delivered
        assert any(r.cells[2].text in ("on time", "late") for r in t.rows[1:])
    captions = [
        p.text for p in Document(str(demo / "WP4.docx")).paragraphs if p.style is not None and p.style.name == "Caption"
    ]
    tables = [c for c in captions if c.startswith("Table ")]
    figures = [c for c in captions if c.startswith("Figure ")]
    assert [int(c.split()[1].rstrip(":")) for c in tables] == list(range(1, len(tables) + 1))
    assert [int(c.split()[1].rstrip(":")) for c in figures] == list(range(1, len(figures) + 1))
    assert len(tables) == len(Document(str(demo / "WP4.docx")).tables)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)  # dates as people write them


# -- the coordinator's words are content ---------------------------------------------------------
def copied_project(tmp_path: Path) -> Path:
    folder = tmp_path / "baltmet-inno"
    shutil.copytree(BUNDLED_PROJECT, folder, ignore=shutil.ignore_patterns("inbox"))
    (folder / "inbox").mkdir()
    return folder


def body(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


NARRATIVE = """# final
## Summary
The metropolises built a common innovation policy framework.
## Conclusions
- Cooperation between the cities works best around concrete pilots.
## Next steps
- Continue in BaltMet Procure and BaltMet Promo.
"""


def test_writing_the_narrative_makes_the_next_version_sent_once_per_recipient(tmp_path, configure, project):
    folder = copied_project(tmp_path)
    settings = configure(project=folder, stable_seconds=0)
    args = ["report", "project", "--as-of", DEMO_AS_OF, "--direct"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "joint final report v1 issued" in first.output
    outbox = settings.outputs / "outbox" / "baltmet-inno"
    before = set(outbox.glob("*.eml"))
    joint = [m for m in map(parse_eml, before) if "Joint final report" in str(m["Subject"])]
    assert joint and all("awaiting the coordinator's summary" in body(m) for m in joint)

    (folder / "narratives").mkdir()
    (folder / "narratives" / "final.md").write_text(NARRATIVE, encoding="utf-8")
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "joint final report v2 issued" in second.output
    assert "WP4 final report unchanged since v1" in second.output
    report = settings.outputs / "reports" / "baltmet-inno" / "final.docx"
    text = all_text(report)
    assert "Status: FINAL" in text and "Awaiting the coordinator" not in text
    assert "The metropolises built a common innovation policy framework." in text
    assert "Continue in BaltMet Procure and BaltMet Promo." in text
    new = set(outbox.glob("*.eml")) - before
    assert len(new) == len(project.participants)  # the joint report, once to each partner and observer
    assert all("awaiting" not in body(parse_eml(p)) for p in new)

    third = CliRunner().invoke(app, args)
    assert "joint final report unchanged since v2" in third.output
    assert set(outbox.glob("*.eml")) - before == new
