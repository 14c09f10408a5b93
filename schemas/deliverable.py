"""What turns a data summary into a deliverable: the programme's publicity, who signs, how
numbers were made comparable, and the coordinator's own words.

The first four are project data (`deliverable:` in `project.yaml`, the `Deliverable` model);
the last is a Markdown file per report in the project folder
(`narratives/<report-id>.md`, parsed by `wpflow.report.narrative` into a `CoordinatorNarrative`).
A fact the seeds do not state carries `assumed: true` and a note, as everywhere in a project.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.policies import Strict


class Publicity(Strict):
    """The programme's publicity block every deliverable carries on its title page."""

    emblem: str = Field(description="Image file of the EU emblem, relative to the project folder")
    line: str = Field(description="The funding statement printed under the emblem")
    programme: str | None = Field(None, description="The programme as the block names it; None: the project's")
    assumed: bool = Field(False, description="True when the wording is not taken from the seeds")
    note: str | None = Field(None, description="Where the wording comes from")


class Authorship(Strict):
    """Who writes and who answers for a report; the names shown are the participants' organisations."""

    author: str = Field(
        "wp-coordinator",
        description="Participant id of the milestone reports' author, or 'wp-coordinator' (each WP's coordinator)",
    )
    coordinator: str = Field(
        "lead", description="Participant id of the project coordinator, or 'lead' (the lead partner)"
    )
    assumed: bool = Field(False, description="True when the seeds do not say who writes the reports")
    note: str | None = Field(None, description="Why, or other remarks")


class CurrencyRate(Strict):
    """How one national currency was converted to euro for the comparative tables."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. 'LVL'")
    name: str = Field(description="The currency's name, e.g. 'Latvian lats'")
    per_eur: float = Field(gt=0, description="Units of the currency per 1 EUR")
    source: str = Field(description="Where the rate is from, e.g. 'ECB reference rate, 2006 annual average'")
    as_of: date = Field(description="The date (or end of the period) the rate refers to")
    countries: list[str] = Field(default_factory=list, description="Countries of the consortium that use it")
    assumed: bool = Field(False, description="True when the seeds do not give the rate")
    note: str | None = Field(None, description="Remarks, e.g. a fixed peg")


class Definition(Strict):
    """What a measure or field means, so that partners count the same thing."""

    term: str = Field(description="The word or column defined, as a reader sees it")
    kind: str | None = Field(None, description="Input kind the definition belongs to; None: every kind")
    text: str = Field(description="The definition, one or two sentences")
    assumed: bool = Field(False, description="True when the seeds do not define it")
    note: str | None = Field(None, description="Why this definition was chosen")


class Deliverable(Strict):
    """Everything about a project's reports as deliverables (`deliverable:` in project.yaml)."""

    publicity: Publicity | None = Field(None, description="The programme's publicity block; None: none shown")
    authorship: Authorship = Field(default_factory=Authorship, description="Who writes and who answers")
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="The currency of every amount in the reports")
    conversion: str | None = Field(
        None, description="How amounts in other currencies were converted, in one sentence for the method section"
    )
    rates: list[CurrencyRate] = Field(default_factory=list, description="Conversion rates to the reports' currency")
    definitions: list[Definition] = Field(default_factory=list, description="Definitions of measures and fields")
    narratives: str = Field("narratives", description="Folder, in the project folder, of the coordinator's Markdown")


# -- the coordinator's words --------------------------------------------------------------------
class TextBlock(BaseModel):
    """One block of a person's Markdown: a heading, a list item or a paragraph."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["heading", "bullet", "numbered", "paragraph"] = Field(description="How the block is shown")
    text: str = Field(description="Its text, inline Markdown marks removed")


NARRATIVE_SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "conclusions": "Conclusions",
    "next_steps": "Next steps",
}


class CoordinatorNarrative(BaseModel):
    """The coordinator's Markdown for one report, by section; a section left empty is awaited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str = Field(description="The report it belongs to, e.g. 'WP4-M3'")
    summary: list[TextBlock] = Field(default_factory=list, description="The coordinator's summary")
    conclusions: list[TextBlock] = Field(default_factory=list, description="The coordinator's conclusions")
    next_steps: list[TextBlock] = Field(default_factory=list, description="Next steps")
    sha256: str = Field("", description="SHA-256 of the file's text: editing it is a content change")

    def awaiting(self) -> list[str]:
        """The sections still empty, by their headings."""
        return [title for key, title in NARRATIVE_SECTIONS.items() if not getattr(self, key)]


class ReportFrame(BaseModel):
    """What a report shows around its data, resolved from the project for one report: names
    instead of ids, the definitions of its own kinds, and the coordinator's narrative."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_id: str = Field(description="The report, e.g. 'WP4-M3' or 'WP4'")
    author: str = Field(description="The author's organisation (the WP coordinator's, by default)")
    author_assumed: bool = Field(False, description="True when the seeds do not name the author's organisation")
    coordinator: str = Field(description="The project coordinator's organisation (the lead partner's)")
    coordinator_assumed: bool = Field(False, description="True when the seeds do not name that organisation")
    publicity: Publicity | None = Field(None, description="The programme's publicity block")
    emblem_path: str | None = Field(None, description="The emblem's file on this machine (not content: see sha256)")
    emblem_sha256: str | None = Field(None, description="The emblem's SHA-256: a new emblem is new content")
    currency: str = Field("EUR", description="The currency of every amount")
    conversion: str | None = Field(None, description="How other currencies were converted")
    rates: list[CurrencyRate] = Field(default_factory=list, description="Conversion rates")
    definitions: list[Definition] = Field(default_factory=list, description="Definitions of this report's measures")
    assumed_organisations: list[str] = Field(
        default_factory=list, description="Participant ids whose organisation the seeds do not name"
    )
    narrative: CoordinatorNarrative | None = Field(None, description="The coordinator's words; None: not written yet")

    def content(self) -> dict[str, object]:
        """What of the frame is content for the fingerprint: everything but this machine's path."""
        return self.model_dump(mode="json", exclude={"emblem_path"})
