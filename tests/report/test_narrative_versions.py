"""Editing the coordinator's narrative is a content change: the milestone's pipeline issues
the next version, sends it once to each recipient, and the report carries the new text
without the DRAFT stamp. A skeleton left untouched prints nothing, so it makes no version."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path

from docx import Document

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT, parse_eml
from wpflow.milestone.direct_run import run_direct
from wpflow.report.key_figures import key_figures
from wpflow.report.narrative import skeleton, write_skeleton
from wpflow.workspace import Workspace

DAY = date(2006, 7, 3)
NARRATIVE = """## Summary
Public seed funding in the Baltic metropolises is mostly national money.

## Conclusions
- Compare schemes by level before comparing cities.

## Next steps
- Malmö and St. Petersburg deliver their schemes by September 2006.
"""


def report_mails(outbox: Path, version: int) -> Counter[str]:
    """Recipients of the WP4-M3 report e-mails of one version, counted."""
    seen: Counter[str] = Counter()
    for path in outbox.rglob("*.eml"):
        message = parse_eml(path)
        if f"WP4-M3 report v{version}" in str(message["Subject"]):
            seen[str(message["To"])] += 1
    return seen


def report_text(ws: Workspace) -> str:
    path = ws.settings.outputs / "reports" / ws.slug / "WP4-M3.docx"
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def test_the_coordinators_narrative_makes_v2_sent_once(tmp_path):
    folder = tmp_path / "baltmet-inno"
    shutil.copytree(BUNDLED_PROJECT, folder, ignore=shutil.ignore_patterns("narratives"))
    ws = Workspace(Settings(project=folder, outputs=tmp_path / "outputs", _env_file=None))
    outbox = ws.settings.outputs / "outbox"

    first = run_direct(ws, "WP4-M3", DAY)
    assert first.version is not None and first.version.version == 1
    assert "Document status: DRAFT" in report_text(ws)
    recipients = report_mails(outbox, 1)
    assert recipients and set(recipients.values()) == {1}

    # the skeleton: guidance and key figures inside comments print nothing, so no new version
    figures = key_figures(ws.store.kept_summaries(ws.project.name, ["WP4-M3"])[("WP4-M3", 1)])
    path = folder / "narratives" / "WP4-M3.md"
    write_skeleton(path, skeleton("WP4-M3", "Public seed funding", figures))
    assert run_direct(ws, "WP4-M3", DAY).new_version is False

    path.write_text(NARRATIVE, encoding="utf-8")
    second = run_direct(ws, "WP4-M3", DAY)
    assert second.new_version and second.version is not None and second.version.version == 2
    text = report_text(ws)
    assert "Public seed funding in the Baltic metropolises is mostly national money." in text
    assert "Malmö and St. Petersburg deliver their schemes by September 2006." in text
    assert "Document status: FINAL" in text and "DRAFT" not in text
    assert report_mails(outbox, 2) == recipients  # each recipient once

    third = run_direct(ws, "WP4-M3", DAY)  # the same narrative again: nothing new, nothing sent
    assert third.new_version is False
    assert report_mails(outbox, 2) == recipients and not report_mails(outbox, 3)
