"""Input kinds: what partners deliver at a milestone, as every consumer sees it (`InputKind`).

Kinds are declared as data (`schemas.kinds`: YAML in projects/kinds/ or a project's own
kinds.yaml) and built when a project is loaded. A kind is either a table (`shape="rows"`: a
pydantic model per row built on `InputRow`, one sheet in the Excel template) or a document
(`shape="document"`: a narrative with sections, or a meeting report, whose models are here).
Field metadata drives everything downstream:
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

from pydantic import BaseModel, ConfigDict, Field

UNIT = "unit"
PERSONAL = "personal"


class InputRow(BaseModel):
    """Base of row models: unknown columns are errors, text is trimmed, and numbers are finite
    ('1e400' or 'inf' in a budget cell is an error, not an infinite total)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _unit(unit: str) -> dict[str, Any]:
    return {UNIT: unit}


PERSONAL_DATA: dict[str, Any] = {PERSONAL: True}


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

    @property
    def is_meeting_report(self) -> bool:
        """A meeting report: its fields are front matter, its outcomes a list."""
        return issubclass(self.model, MeetingReport)

    def columns(self) -> list[str]:
        return list(self.model.model_fields)

    def personal_columns(self) -> set[str]:
        return {
            name
            for name, f in self.model.model_fields.items()
            if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get(PERSONAL)
        }
