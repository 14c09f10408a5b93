"""Input kinds declared as data: the YAML a project (or a shared library of kinds) declares, and
the `InputKind` built from it at load time.

A declaration says what partners deliver — a table of rows with typed fields, a narrative with
named sections, or a meeting report — and how the report summarises it. `build_kind` turns it
into a pydantic row model (`create_model` on `InputRow`: unknown columns refused, text trimmed,
numbers finite) with the same field metadata the hand-written models had, so templates,
validation, merge tables, charts and key figures need nothing else. Years and dates may be
bounded relative to the project's period (`max: period_end`, `min: period_start - 50`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, field_validator, model_validator

from schemas.inputs import PERSONAL, UNIT, InputKind, InputRow, Measure, MeetingReport, Narrative

FieldType = Literal["text", "integer", "number", "boolean", "date", "choice"]
NAME_RE = r"^[a-z][a-z0-9_]*$"
# `period_start`, `period_end`, optionally ± a number of years: `period_start - 50`
PERIOD_RE = re.compile(r"^(period_start|period_end)\s*(?:([+-])\s*(\d+))?$")
Bound = int | float | dt.date | str
Scalar = str | int | float | bool


class KindModel(BaseModel):
    """Base of the declaration models: unknown keys are errors (a typo is not ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_bound(value: Any) -> Any:
    if isinstance(value, str) and not PERIOD_RE.match(value.strip()):
        raise ValueError(
            f"{value!r} is not a bound; write a number, a date, or period_start / period_end "
            "with an optional number of years added or taken away (period_start - 50)"
        )
    return value


class FieldDecl(KindModel):
    """One column of a row kind (one field of its row model)."""

    name: str = Field(pattern=NAME_RE, description="Column name partners see and data keeps: lower case, digits, _")
    type: FieldType = Field(
        description="text, integer, number (decimals allowed), boolean (yes/no), date, or choice (one of `values`)"
    )
    description: str = Field(min_length=1, description="What to enter; shown in the template and in receipts")
    required: bool = Field(False, description="True: a row without a value is an error")
    unit: str | None = Field(None, description="Unit shown beside the column name, e.g. EUR, persons, kW, year")
    values: list[Scalar] | None = Field(None, description="Allowed values of a choice field (a dropdown)")
    min: Bound | None = Field(
        None, description="Smallest value (integer, number, date): a number, a date, or period_start/period_end ± N"
    )
    max: Bound | None = Field(
        None, description="Largest value (integer, number, date): a number, a date, or period_start/period_end ± N"
    )
    min_length: int | None = Field(None, ge=1, description="Fewest characters a text must have")
    format: Literal["email"] | None = Field(None, description="email: the text must look like an e-mail address")
    personal: bool = Field(False, description="Personal data: kept out of reports that go to all partners")

    _bounds_are_valid = field_validator("min", "max")(_check_bound)

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> FieldDecl:
        if self.type == "choice" and not self.values:
            raise ValueError(f"field {self.name!r}: a choice needs its allowed `values`")
        if self.type != "choice" and self.values is not None:
            raise ValueError(f"field {self.name!r}: `values` are for a choice field only")
        if self.type not in ("integer", "number", "date") and (self.min is not None or self.max is not None):
            raise ValueError(f"field {self.name!r}: min and max are for integer, number and date fields")
        if self.type != "text" and (self.min_length is not None or self.format is not None):
            raise ValueError(f"field {self.name!r}: min_length and format are for text fields")
        return self


class MeasureDecl(KindModel):
    """A number the comparative table shows per partner: rows counted, rows with a value
    counted, or a column summed."""

    label: str = Field(min_length=1, description="Column heading in the report, e.g. 'Annual budget (EUR)'")
    where: dict[str, Scalar] | None = Field(
        None, description="Count only the rows whose column has this value, e.g. {type: university}"
    )
    sum: str | None = Field(None, description="Sum this integer or number column instead of counting rows")
    unit: str | None = Field(None, description="Unit of the sum; the summed field's unit when not given")

    @model_validator(mode="after")
    def _one_way(self) -> MeasureDecl:
        if self.where is not None and len(self.where) != 1:
            raise ValueError(f"measure {self.label!r}: `where` names exactly one column and its value")
        if self.where is not None and self.sum is not None:
            raise ValueError(f"measure {self.label!r}: either count rows `where` a value or `sum` a column")
        return self


class QuotaDecl(KindModel):
    """How many rows per partner should have a value; fewer or more is a warning."""

    where: dict[str, Scalar] = Field(description="The column and value counted, e.g. {proposed: true}")
    rows: int = Field(ge=0, description="Rows expected with that value")


class RowsPerPartner(KindModel):
    """Rows expected from each partner; outside the range is a warning."""

    min: int | None = Field(1, ge=0, description="Fewest rows expected (none: no lower limit)")
    max: int | None = Field(None, ge=0, description="Most rows expected (none: no upper limit)")


class KindDecl(KindModel):
    """One input kind: what partners deliver at a milestone and how the report summarises it."""

    id: str = Field(pattern=NAME_RE, description="Id used in project.yaml's milestone `inputs:` and file names")
    label: str = Field(min_length=1, description="Title of the kind in templates, receipts and reports")
    description: str = Field(min_length=1, description="One sentence on what is asked for")
    shape: Literal["rows", "narrative", "meeting_report"] = Field(
        "rows",
        description="rows: a table, one row per thing; narrative: a text with headed sections; "
        "meeting_report: date, city, attendance and outcomes of a meeting",
    )
    item: str | None = Field(None, description="What one row is, in a sentence (the template's instructions)")
    sheet: str = Field("Data", min_length=1, max_length=31, description="Sheet name of the Excel template")
    fields: list[FieldDecl] = Field(default_factory=list, description="Columns of a rows kind, in order")
    sections: list[str] = Field(
        default_factory=list, description="Headings a narrative must have (none: any headed sections)"
    )
    rules: list[dict[Literal["not_greater"], list[str]]] = Field(
        default_factory=list,
        description="Cross-field rules: {not_greater: [a, b]}: a row's a may not be larger than its b",
    )
    measures: list[MeasureDecl] = Field(default_factory=list, description="Numbers the report shows per partner")
    chart: str | None = Field(None, description="Label of the measure charted per partner")
    group_by: str | None = Field(None, description="Field whose values get a count column each")
    rows_per_partner: RowsPerPartner = Field(default_factory=RowsPerPartner, description="Rows expected")
    quota: QuotaDecl | None = Field(None, description="Rows expected with a value; a warning otherwise")

    @model_validator(mode="after")
    def _references_resolve(self) -> KindDecl:
        if self.shape != "rows":
            if self.fields or self.measures or self.rules:
                raise ValueError(f"kind {self.id!r}: fields, measures and rules are for shape rows")
            if self.sections and self.shape != "narrative":
                raise ValueError(f"kind {self.id!r}: sections are for shape narrative")
            return self
        if not self.fields:
            raise ValueError(f"kind {self.id!r}: a rows kind needs its fields")
        if self.sections:
            raise ValueError(f"kind {self.id!r}: sections are for shape narrative")
        fields = {f.name: f for f in self.fields}
        if len(fields) != len(self.fields):
            raise ValueError(f"kind {self.id!r}: a field name is repeated")

        def known(name: str, what: str, types: tuple[str, ...] = ()) -> None:
            if name not in fields:
                raise ValueError(f"kind {self.id!r}: {what} names {name!r}, not a field; fields: {', '.join(fields)}")
            if types and fields[name].type not in types:
                raise ValueError(f"kind {self.id!r}: {what} needs a {' or '.join(types)} field, not {name!r}")

        for m in self.measures:
            if m.sum:
                known(m.sum, f"measure {m.label!r}", ("integer", "number"))
            for column in m.where or {}:
                known(column, f"measure {m.label!r}")
        for rule in self.rules:
            for name, pair in rule.items():
                if len(pair) != 2:
                    raise ValueError(f"kind {self.id!r}: {name} compares exactly two fields")
                for column in pair:
                    known(column, name, ("integer", "number", "date"))
        if self.chart and self.chart not in {m.label for m in self.measures}:
            raise ValueError(f"kind {self.id!r}: chart {self.chart!r} is not the label of one of its measures")
        if self.group_by:
            known(self.group_by, "group_by")
        if self.quota:
            if len(self.quota.where) != 1:
                raise ValueError(f"kind {self.id!r}: the quota's `where` names exactly one column and its value")
            known(next(iter(self.quota.where)), "quota")
        return self


class KindsFile(KindModel):
    """A file of kind declarations: a shared library, or a project's own kinds.yaml."""

    kinds: list[KindDecl] = Field(description="The kinds declared, in order")


class KindSources(KindModel):
    """Where a project's input kinds are declared (project.yaml's `kinds:`)."""

    library: list[str] = Field(
        default_factory=lambda: ["baltmet-inno", "common"],
        description="Files of the shared library of kinds (projects/kinds/<name>.yaml), in order",
    )
    file: str = Field(
        "kinds.yaml",
        description="The project's own kinds, a file in the project folder (read when it exists); "
        "a kind there replaces the library's kind of the same id",
    )


class ProjectKinds(BaseModel):
    """The input kinds part of a project: where they are declared (`kinds:`) and, once the
    loader (`wpflow.project.load`) has read and built them, the kinds themselves by id."""

    kinds: KindSources = Field(default_factory=KindSources, description="Where the project's input kinds are declared")
    _input_kinds: dict[str, InputKind] | None = PrivateAttr(None)

    def attach_kinds(self, kinds: dict[str, InputKind]) -> None:
        self._input_kinds = dict(kinds)

    @property
    def input_kinds(self) -> dict[str, InputKind]:
        """Every kind the project declares, by id, in declaration order."""
        if self._input_kinds is None:
            raise RuntimeError("the project's input kinds are not loaded: read it with wpflow.project.load")
        return self._input_kinds

    @property
    def kind_titles(self) -> dict[str, str]:
        """Each kind's title ('Public seed-funding schemes') by id."""
        return {kind_id: kind.label for kind_id, kind in self.input_kinds.items()}

    def input_kind(self, kind_id: str) -> InputKind:
        """A kind of the project, with the declared ids in the error."""
        try:
            return self.input_kinds[kind_id]
        except KeyError:
            raise KeyError(f"unknown input kind {kind_id!r}; declared: {', '.join(self.input_kinds)}") from None


# -- building ----------------------------------------------------------------------------
def resolve_bound(value: Bound | None, kind: str, period: tuple[dt.date, dt.date]) -> Any:
    """A declared bound as the field's type: `period_end - 2` is a year for an integer field and
    a date two years before the project's end for a date field."""
    if not isinstance(value, str):
        return value
    match = PERIOD_RE.match(value.strip())
    if match is None:  # refused by the declaration's validator already
        raise ValueError(f"{value!r} is not a bound")
    day = period[0] if match[1] == "period_start" else period[1]
    years = int(match[3] or 0) * (-1 if match[2] == "-" else 1)
    if kind == "date":
        try:
            return day.replace(year=day.year + years)
        except ValueError:  # 29 February
            return day.replace(year=day.year + years, day=28)
    return day.year + years


def _email(value: str | None) -> str | None:
    if value is not None and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


_TYPES: dict[str, Any] = {"text": str, "integer": int, "number": float, "boolean": bool, "date": dt.date}


def field_definition(decl: FieldDecl, period: tuple[dt.date, dt.date]) -> tuple[Any, Any]:
    """(annotation, FieldInfo) for `create_model`."""
    annotation: Any = Literal[tuple(decl.values or ())] if decl.type == "choice" else _TYPES[decl.type]
    extra: dict[str, Any] = {}
    if decl.unit:
        extra[UNIT] = decl.unit
    if decl.personal:
        extra[PERSONAL] = True
    options: dict[str, Any] = {"description": decl.description}
    if extra:
        options["json_schema_extra"] = extra
    if decl.min is not None:
        options["ge"] = resolve_bound(decl.min, decl.type, period)
    if decl.max is not None:
        options["le"] = resolve_bound(decl.max, decl.type, period)
    if decl.min_length is not None:
        options["min_length"] = decl.min_length
    if decl.required:
        return annotation, Field(**options)
    return annotation | None, Field(None, **options)


def _rules_validator(rules: list[tuple[str, str]]) -> Any:
    def check(row: BaseModel) -> BaseModel:
        for low, high in rules:
            a, b = getattr(row, low), getattr(row, high)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{low} is larger than {high}")
        return row

    return model_validator(mode="after")(check)


def row_model(decl: KindDecl, period: tuple[dt.date, dt.date]) -> type[InputRow]:
    """The pydantic row model of a rows kind, built with `InputRow`'s config."""
    validators: dict[str, Any] = {}
    emails = [f.name for f in decl.fields if f.format == "email"]
    if emails:
        validators["_email_is_an_address"] = field_validator(*emails)(_email)
    pairs = [(pair[0], pair[1]) for rule in decl.rules for pair in rule.values()]
    if pairs:
        validators["_rules"] = _rules_validator(pairs)
    definitions: dict[str, Any] = {f.name: field_definition(f, period) for f in decl.fields}
    model: type[InputRow] = create_model(
        _class_name(decl.id),
        __base__=InputRow,
        __doc__=decl.item or decl.description,
        __validators__=validators,
        **definitions,
    )
    return model


def _class_name(kind_id: str) -> str:
    return "".join(part.capitalize() for part in kind_id.split("_")) + "Row"


def _narrative_model(sections: list[str]) -> type[BaseModel]:
    if not sections:
        return Narrative
    wanted = list(sections)

    def has_sections(text: Narrative) -> Narrative:
        headings = {s.heading.strip().casefold() for s in text.sections}
        missing = [s for s in wanted if s.casefold() not in headings]
        if missing:
            raise ValueError(f"has no section headed {', '.join(missing)}")
        return text

    validators: dict[str, Any] = {"_sections_present": model_validator(mode="after")(has_sections)}
    return create_model(
        "NarrativeWithSections", __base__=Narrative, __doc__=Narrative.__doc__, __validators__=validators
    )


def _where(where: dict[str, Scalar] | None) -> tuple[str, Any] | None:
    return next(iter(where.items())) if where else None


def build_kind(decl: KindDecl, period: tuple[dt.date, dt.date]) -> InputKind:
    """The `InputKind` consumers use, its model built for the project's period (start, end)."""
    if decl.shape == "meeting_report":
        return InputKind(decl.id, decl.label, decl.description, "document", MeetingReport, decl.sheet)
    if decl.shape == "narrative":
        model = _narrative_model(decl.sections)
        return InputKind(
            decl.id, decl.label, decl.description, "document", model, decl.sheet, extra={"sections": decl.sections}
        )
    units = {f.name: f.unit or "" for f in decl.fields}
    measures = tuple(
        Measure(m.label, column=m.sum, where=_where(m.where), unit=m.unit or (units[m.sum] if m.sum else ""))
        for m in decl.measures
    )
    quota = None
    if decl.quota is not None:
        column, value = next(iter(decl.quota.where.items()))
        quota = (column, value, decl.quota.rows)
    return InputKind(
        id=decl.id,
        label=decl.label,
        description=decl.description,
        shape="rows",
        model=row_model(decl, period),
        sheet=decl.sheet,
        measures=measures,
        chart=decl.chart,
        group_by=decl.group_by,
        rows_per_partner=(decl.rows_per_partner.min, decl.rows_per_partner.max),
        quota=quota,
    )
