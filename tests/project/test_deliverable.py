"""The project's deliverable block: publicity with its emblem, who writes and who answers,
rates for every national currency of the partner cities, definitions; and each report's frame."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from schemas.settings import ROOT
from wpflow.project.load import load_project
from wpflow.report.frame import author_of, coordinator_of, report_frame

FOLDER = ROOT / "projects" / "baltmet-inno"


def test_publicity_names_the_erdf_and_its_emblem_exists() -> None:
    project = load_project(FOLDER)
    publicity = project.deliverable.publicity
    assert publicity is not None
    assert publicity.line == "Part-financed by the European Union (European Regional Development Fund)"
    with Image.open(FOLDER / publicity.emblem) as emblem:
        assert emblem.size[0] / emblem.size[1] == 1.5  # the flag's 3:2


def test_every_partner_currency_has_a_rate_with_its_source() -> None:
    project = load_project(FOLDER)
    rates = {r.currency: r for r in project.deliverable.rates}
    assert set(rates) == {"LVL", "SEK", "DKK", "EEK", "RUB"}
    assert all(r.source and r.as_of and r.assumed for r in rates.values())  # the seeds give none


def test_the_frame_names_organisations_and_reads_the_narrative(tmp_path: Path) -> None:
    project = load_project(FOLDER)
    assert author_of(project, "WP4").id == project.work_package("WP4").coordinator
    assert coordinator_of(project).id == project.lead
    frame = report_frame(project, FOLDER, "WP4-M3", wp_id="WP4", kinds=["seed_funding"])
    assert frame.author == project.participant(project.work_package("WP4").coordinator).organisation
    assert frame.author_assumed  # the WP4 coordinator is assumed
    assert frame.emblem_sha256 and frame.emblem_path
    assert {d.term for d in frame.definitions} >= {"City", "Annual budget (EUR)"}
    assert "helsinki-culminatum" in frame.assumed_organisations
    assert "emblem_path" not in frame.content()  # this machine's path is not content
