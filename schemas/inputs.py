"""Input kinds: what partners deliver at a milestone.

A kind is either a table (`shape="rows"`: one pydantic model per row, one sheet in the
Excel template) or a document (`shape="document"`: a narrative with sections, or a meeting
report). Field metadata drives everything downstream, so it lives here once:
- `description` becomes the column comment in generated templates and the receipt text;
- `Literal[...]` values become dropdowns in templates;
- `json_schema_extra={"unit": ...}` is shown in headers and reports;
- `json_schema_extra={"personal": True}` marks personal data, kept out of reports that go
  to all partners.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

UNIT = "unit"
PERSONAL = "personal"

ARG_THEMES = Literal[
    "entrepreneurship and education",
    "innovation infrastructure",
    "entrepreneurship finance organisations",
    "promotion of entrepreneurship of minority groups",
]


class InputRow(BaseModel):
    """Base of row models: unknown columns are errors, text is trimmed, and numbers are finite
    ('1e400' or 'inf' in a budget cell is an error, not an infinite total)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _unit(unit: str) -> dict[str, Any]:
    return {UNIT: unit}


PERSONAL_DATA: dict[str, Any] = {PERSONAL: True}


# -- WP4-M1 -----------------------------------------------------------------------------
class EducationInstitution(InputRow):
    """A main educational or science institution of the metropolitan area."""

    name: str = Field(min_length=2, description="Official name of the institution")
    type: Literal["university", "polytechnic", "faculty", "research institute"] = Field(
        description="Kind of institution"
    )
    students: int | None = Field(
        None, ge=0, description="Students enrolled (latest year)", json_schema_extra=_unit("persons")
    )
    researchers: int | None = Field(
        None, ge=0, description="Research staff (full-time equivalents)", json_schema_extra=_unit("FTE")
    )
    entrepreneurship_programme: bool = Field(
        description="Offers a programme supporting knowledge-based innovation and entrepreneurship"
    )
    programme_name: str | None = Field(None, description="Name of that programme, if any")
    location: str | None = Field(None, description="Municipality where it is located, if not the partner city itself")


# -- WP4-M2 -----------------------------------------------------------------------------
class InfrastructureUnit(InputRow):
    """An incubator, science park, business lab, holding company or agency."""

    name: str = Field(min_length=2, description="Name of the unit")
    type: Literal["incubator", "science park", "business lab", "holding company", "agency"] = Field(
        description="Kind of innovation infrastructure"
    )
    operator: str | None = Field(None, description="Organisation that runs it")
    founded: int | None = Field(
        None, ge=1800, le=2007, description="Year it was founded", json_schema_extra=_unit("year")
    )
    companies: int | None = Field(
        None, ge=0, description="Companies hosted or held", json_schema_extra=_unit("companies")
    )
    floor_area_m2: float | None = Field(None, ge=0, description="Rentable floor area", json_schema_extra=_unit("m²"))
    focus: str | None = Field(None, description="Sectors or technologies it focuses on")
    location: str | None = Field(None, description="Municipality where it is located, if not the partner city itself")


# -- WP4-M3 -----------------------------------------------------------------------------
class SeedFundingScheme(InputRow):
    """A public seed or early-stage funding scheme available in the metropolitan area."""

    name: str = Field(min_length=2, description="Name of the scheme")
    provider: str = Field(min_length=2, description="Organisation that provides the funding")
    level: Literal["municipal", "regional", "national", "EU"] = Field(
        description="Level of government behind the scheme"
    )
    instrument: Literal["grant", "loan", "equity", "guarantee", "convertible loan"] = Field(
        description="Financial instrument"
    )
    budget_eur: float = Field(ge=0, description="Annual budget of the scheme", json_schema_extra=_unit("EUR"))
    ticket_min_eur: float | None = Field(
        None, ge=0, description="Smallest amount per company", json_schema_extra=_unit("EUR")
    )
    ticket_max_eur: float | None = Field(
        None, ge=0, description="Largest amount per company", json_schema_extra=_unit("EUR")
    )
    since: int | None = Field(None, ge=1950, le=2007, description="Year the scheme started")

    @model_validator(mode="after")
    def _tickets_are_ordered(self) -> SeedFundingScheme:
        if (
            self.ticket_min_eur is not None
            and self.ticket_max_eur is not None
            and self.ticket_min_eur > self.ticket_max_eur
        ):
            raise ValueError("ticket_min_eur is larger than ticket_max_eur")
        return self


# -- WP4-M4 / WP5 -----------------------------------------------------------------------
class PolicyRecommendation(InputRow):
    """A policy recommendation of a thematic action-learning group (ARG)."""

    thematic_group: ARG_THEMES = Field(description="ARG the recommendation comes from")
    recommendation: str = Field(min_length=10, description="The recommendation, one or two sentences")
    level: Literal["local", "regional", "national", "transnational"] = Field(
        description="Level of government it addresses"
    )
    priority: Literal["high", "medium", "low"] = Field(description="Priority the city gives it")


# -- WP3-M1 -----------------------------------------------------------------------------
class PrePhaseCluster(InputRow):
    """An existing pre-phase cluster of the metropolitan area (three per region selected)."""

    name: str = Field(min_length=2, description="Name of the cluster")
    sector: str = Field(min_length=2, description="Sector or technology field")
    maturity: Literal["emerging", "pre-phase", "developing", "mature"] = Field(description="Status of maturity")
    companies: int = Field(ge=0, description="Companies in the cluster", json_schema_extra=_unit("companies"))
    employees: int | None = Field(
        None, ge=0, description="Employees in the cluster", json_schema_extra=_unit("persons")
    )
    research_institutions: int | None = Field(
        None, ge=0, description="Research institutions involved", json_schema_extra=_unit("institutions")
    )
    proposed_for_transnational_analysis: bool = Field(
        description="Proposed as one of the region's three clusters for deeper transnational analysis"
    )


# -- WP3-M2 -----------------------------------------------------------------------------
class SwotStatement(InputRow):
    """One statement of a cluster's SWOT analysis."""

    cluster: str = Field(min_length=2, description="Cluster the statement is about")
    category: Literal["strength", "weakness", "opportunity", "threat"] = Field(description="SWOT quadrant")
    statement: str = Field(min_length=5, description="The statement")


# -- WP2-M1 -----------------------------------------------------------------------------
class MarketingContact(InputRow):
    """A marketing organisation of the metropolitan area and its contact person."""

    organisation: str = Field(min_length=2, description="Name of the organisation")
    type: Literal[
        "city marketing agency",
        "tourism board",
        "investment promotion agency",
        "chamber of commerce",
        "university",
        "other",
    ] = Field(description="Kind of organisation")
    website: str | None = Field(None, description="Web address of the organisation")
    contact_name: str = Field(min_length=2, description="Contact person", json_schema_extra=PERSONAL_DATA)
    contact_role: str | None = Field(None, description="Contact person's position")
    email: str = Field(description="Contact person's e-mail", json_schema_extra=PERSONAL_DATA)
    phone: str | None = Field(None, description="Contact person's phone", json_schema_extra=PERSONAL_DATA)

    @field_validator("email")
    @classmethod
    def _email_has_at(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@") or " " in value:
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


# -- documents --------------------------------------------------------------------------
class NarrativeSection(BaseModel):
    """A headed section of a narrative text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    heading: str = Field(min_length=1, description="Section heading")
    text: str = Field(min_length=1, description="Section text; paragraphs separated by blank lines")


class Narrative(BaseModel):
    """A narrative progress text: a few headed sections."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, description="Title of the text")
    sections: list[NarrativeSection] = Field(min_length=1, description="Sections in order")


class AttendanceRow(InputRow):
    """How many people from one city attended a meeting."""

    city: str = Field(min_length=2, description="City the participants came from")
    participants: int = Field(ge=0, description="Number of participants", json_schema_extra=_unit("persons"))


class MeetingReport(BaseModel):
    """Report of a meeting or workshop: when, where, who came, what came out of it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, description="Name of the meeting")
    date: dt.date = Field(description="Date of the meeting")
    city: str = Field(min_length=2, description="Host city")
    attendance: list[AttendanceRow] = Field(default_factory=list, description="Participants per city")
    outcomes: list[str] = Field(min_length=1, description="Outcomes and decisions, one per item")
    sections: list[NarrativeSection] = Field(default_factory=list, description="Further narrative")


# -- registry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A number the comparative table shows per city: a row count or a column's sum."""

    label: str
    column: str | None = None  # None: count rows
    where: tuple[str, Any] | None = None  # count only rows with column == value
    unit: str = ""


@dataclass(frozen=True)
class InputKind:
    """Metadata of an input kind: its model, label and how it is summarised."""

    id: str
    label: str
    description: str
    shape: Literal["rows", "document"]
    model: type[BaseModel]
    sheet: str = "Data"
    measures: tuple[Measure, ...] = ()
    chart: str | None = None  # label of the measure charted per city
    group_by: str | None = None  # column whose values get their own count column
    rows_per_partner: tuple[int | None, int | None] = (1, None)  # (min, max) rows expected
    quota: tuple[str, Any, int] | None = None  # (column, value, rows expected with it): a warning otherwise
    extra: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> list[str]:
        return list(self.model.model_fields)

    def personal_columns(self) -> set[str]:
        return {
            name
            for name, f in self.model.model_fields.items()
            if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get(PERSONAL)
        }


INPUT_KINDS: dict[str, InputKind] = {
    k.id: k
    for k in [
        InputKind(
            id="education_institutions",
            label="Educational and science institutions",
            description="Main universities, polytechnics, faculties and research institutes.",
            shape="rows",
            model=EducationInstitution,
            sheet="Institutions",
            measures=(
                Measure("Institutions"),
                Measure("Universities", where=("type", "university")),
                Measure("Students", column="students", unit="persons"),
                Measure("With entrepreneurship programme", where=("entrepreneurship_programme", True)),
            ),
            chart="Institutions",
        ),
        InputKind(
            id="innovation_infrastructure",
            label="Innovation infrastructure",
            description="Incubators, business labs, science parks, holding companies and agencies.",
            shape="rows",
            model=InfrastructureUnit,
            sheet="Infrastructure",
            measures=(
                Measure("Units"),
                Measure("Incubators", where=("type", "incubator")),
                Measure("Science parks", where=("type", "science park")),
                Measure("Companies hosted", column="companies", unit="companies"),
            ),
            chart="Units",
        ),
        InputKind(
            id="seed_funding",
            label="Public seed-funding schemes",
            description="Public seed and early-stage funding schemes, with annual budget and ticket sizes.",
            shape="rows",
            model=SeedFundingScheme,
            sheet="Schemes",
            measures=(
                Measure("Schemes"),
                Measure("Annual budget (EUR)", column="budget_eur", unit="EUR"),
            ),
            chart="Annual budget (EUR)",
        ),
        InputKind(
            id="policy_recommendations",
            label="Policy recommendations",
            description="Policy recommendations per thematic group.",
            shape="rows",
            model=PolicyRecommendation,
            sheet="Recommendations",
            measures=(Measure("Recommendations"), Measure("High priority", where=("priority", "high"))),
            chart="Recommendations",
        ),
        InputKind(
            id="pre_phase_clusters",
            label="Pre-phase clusters",
            description="Existing pre-phase clusters; three per region are proposed for deeper analysis.",
            shape="rows",
            model=PrePhaseCluster,
            sheet="Clusters",
            measures=(
                Measure("Clusters described"),
                Measure("Proposed for analysis", where=("proposed_for_transnational_analysis", True)),
                Measure("Companies", column="companies", unit="companies"),
            ),
            chart="Companies",
            quota=("proposed_for_transnational_analysis", True, 3),  # WP3-M1: three per region
        ),
        InputKind(
            id="cluster_swot",
            label="Cluster SWOT analyses",
            description="SWOT statements for each selected cluster.",
            shape="rows",
            model=SwotStatement,
            sheet="SWOT",
            measures=(
                Measure("Strengths", where=("category", "strength")),
                Measure("Weaknesses", where=("category", "weakness")),
                Measure("Opportunities", where=("category", "opportunity")),
                Measure("Threats", where=("category", "threat")),
            ),
            chart="Strengths",
        ),
        InputKind(
            id="marketing_contacts",
            label="Marketing organisations and contact persons",
            description="Organisations and persons of marketing agencies (personal data: kept out of shared reports).",
            shape="rows",
            model=MarketingContact,
            sheet="Contacts",
            measures=(Measure("Organisations"),),
            chart="Organisations",
        ),
        InputKind(
            id="meeting_report",
            label="Meeting and workshop reports",
            description="Date, city, participants per city and outcomes of a meeting.",
            shape="document",
            model=MeetingReport,
        ),
        InputKind(
            id="progress_narrative",
            label="Narrative progress text",
            description="A few headed sections of narrative text.",
            shape="document",
            model=Narrative,
        ),
    ]
}


def input_kind(kind_id: str) -> InputKind:
    """Look up a kind, with the known ids in the error."""
    try:
        return INPUT_KINDS[kind_id]
    except KeyError:
        raise KeyError(f"unknown input kind {kind_id!r}; known: {', '.join(INPUT_KINDS)}") from None
