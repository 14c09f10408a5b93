"""Validate a partner file as an input kind: every problem becomes a located `Issue`.

Prefect-free and quick to import: `wpflow validate` must answer in well under a second.
`validate_file` is the entry point: the safety checks, the kind (`kinds`), then the file read
as a table (`readers`, cells typed by `coerce`) and checked here row by row against the kind's
model, or read as a document (`documents`). Errors block a submission; warnings (a copied row,
a place outside the partner's region, a quota missed, an ambiguous date) are shown but do not.

The partner's file name is only ever shown and used for its suffix; the bytes are read from
`path`, which wpflow chose (archived copies are named by their hash).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.inputs import InputKind
from schemas.records import Issue, ValidationResult
from wpflow.inputs.coerce import base_types, converter, format_cell, is_blank
from wpflow.inputs.detect_kind import detect_kind, kind_of
from wpflow.inputs.documents import validate_document_file
from wpflow.inputs.field_messages import ambiguous_date, plain_message
from wpflow.inputs.headers import column_letter, resolve_header
from wpflow.inputs.readers import Rows, read_table
from wpflow.inputs.safety import InputLimits, Unreadable, check_container


def validate_file(
    path: Path,
    kind: str | None = None,
    *,
    kinds: Mapping[str, InputKind],
    expected: Sequence[str] = (),
    display_name: str | None = None,
    city: str | None = None,
    region: Sequence[str] = (),
    max_bytes: int | None = None,
    gated: bool = False,
    limits: InputLimits | None = None,
) -> ValidationResult:
    """Never raises for bad input: every problem is an Issue in the result. `kinds` are the
    project's input kinds (`Project.input_kinds`); `display_name` is
    the partner's file name (for messages and its suffix; never opened). `city` and `region`
    (the partner's metropolitan region) let a location elsewhere be flagged as a warning.
    `gated`: `wpflow.inputs.gate.gate_file` accepted the file already, so its checks are not repeated.
    `limits`: how much the file may hold (default: the settings' defaults); no table is read past them."""
    path = Path(path)
    name = display_name or path.name
    suffix = Path(name).suffix.lower()
    detected = kind is None
    try:
        if not gated:
            check_container(path, suffix, max_bytes, limits)  # before any parser, kind detection included
        kind = kind or kind_of(path, name, kinds, expected)
        if kind is None:
            return _failed(name, None, unknown_kind_message(kinds, expected))
        spec = kinds[kind]
        if detected and expected and kind not in expected:
            return _failed(
                name,
                kind,
                f"is the template for {spec.label} ({kind}), which this milestone does not "
                f"ask for; it expects: {', '.join(expected)}",
            )
        if spec.shape == "document":
            return validate_document_file(path, name, spec, suffix)
        sheet, header, rows = read_table(path, suffix, spec.sheet, max_rows=(limits or InputLimits()).max_rows)
    except Unreadable as exc:
        return _failed(name, kind or detect_kind(Path(name), kinds, expected), str(exc), exc.sheet)
    except (OSError, ValueError, RecursionError) as exc:
        return _failed(name, kind, f"cannot be read ({exc.__class__.__name__}: {exc})")
    result = validate_rows(name, spec, sheet, header, rows, city=city, region=region)
    if suffix == ".json":
        for issue in result.issues:
            issue.column = None  # JSON has no columns; the field says where
    return result


def unknown_kind_message(kinds: Mapping[str, InputKind], expected: Sequence[str]) -> str:
    wanted = list(expected or kinds)
    return (
        f"cannot tell which input this is: no template sheet, file name or column names say so; "
        f"the milestone expects: {', '.join(wanted)}. Put one of these in the file name, "
        f"e.g. {wanted[0]}_yourcity"
    )


def _failed(name: str, kind: str | None, message: str, sheet: str | None = None) -> ValidationResult:
    return ValidationResult(file=name, kind=kind, issues=[Issue(file=name, sheet=sheet, message=message)])


def validate_rows(
    name: str,
    spec: InputKind,
    sheet: str | None,
    header: list[str],
    rows: Rows,
    *,
    city: str | None = None,
    region: Sequence[str] = (),
) -> ValidationResult:
    """Rows checked against the kind's model: header errors first (nothing else is reliable
    without them), then every cell, then the warnings."""
    header = resolve_header(header, spec.model)
    issues = header_issues(name, spec, sheet, header)
    if issues:
        return ValidationResult(file=name, kind=spec.id, issues=issues)
    fields = spec.model.model_fields
    position = {h: i for i, h in enumerate(header) if h}
    names = list(position)
    converters = [converter(fields[h].annotation) for h in names]
    width = len(header)
    table = [cells if len(cells) >= width else [*cells, *[None] * (width - len(cells))] for _, cells in rows]
    # column by column through C-level map/zip, then a tuple per row: a third faster than per cell
    columns = [list(map(convert, [cells[position[h]] for cells in table])) for h, convert in zip(names, converters)]
    valid: list[dict[str, Any]] = []
    read = 0
    first_seen: dict[tuple[Any, ...], int] = {}
    for (number, _), values in zip(rows, zip(*columns) if columns else ()):
        if values.count(None) == len(values):
            continue
        read += 1
        try:
            seen = first_seen.setdefault(values, number)
        except TypeError:  # a JSON row holding a list or an object: the model refuses it anyway
            seen = number
        if seen != number:
            issues.append(
                Issue(
                    file=name,
                    sheet=sheet,
                    row=number,
                    severity="warning",
                    message=f"is the same as row {seen}; delete one if it is a copy",
                )
            )
        record = dict(zip(names, values))
        try:
            valid.append(spec.model.model_validate(record).model_dump(mode="json"))
        except ValidationError as exc:
            for err in exc.errors():
                field_name = str(err["loc"][0]) if err["loc"] else None
                col = column_letter(position[field_name]) if field_name in position else None
                value = record.get(field_name) if field_name else None
                issues.append(
                    Issue(
                        file=name,
                        sheet=sheet,
                        row=number,
                        column=col,
                        field=field_name,
                        value=None if value is None else format_cell(value),
                        message=plain_message(err),
                    )
                )
    if read == 0:
        issues.append(Issue(file=name, sheet=sheet, message="contains no data rows"))
    issues += unnamed_column_warnings(name, sheet, header, rows)
    issues += date_warnings(name, spec, sheet, position, rows)
    issues += count_warnings(name, spec, sheet, valid, read)
    if city:
        issues += location_warnings(name, sheet, position, rows, city, region)
    issues.sort(key=lambda i: (i.row or 0, i.severity))  # in the order the partner reads the file
    return ValidationResult(file=name, kind=spec.id, rows=valid, issues=issues, rows_read=read)


def header_issues(name: str, spec: InputKind, sheet: str | None, header: list[str]) -> list[Issue]:
    """Errors in the header row: none at all, unknown or repeated columns, required ones missing."""
    import difflib

    fields = spec.model.model_fields
    expected = ", ".join(fields)
    if not any(header):
        return [
            Issue(
                file=name,
                sheet=sheet,
                row=1,
                message=f"has no column names in its first row; name the columns: {expected}",
            )
        ]
    issues: list[Issue] = []
    seen: dict[str, str] = {}  # field → the column it was first seen in
    for i, h in enumerate(header):
        where = {"file": name, "sheet": sheet, "row": 1, "column": column_letter(i), "field": h}
        if not h:
            continue
        if h not in fields:
            close = difflib.get_close_matches(h, fields, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            issues.append(Issue(**where, message=f"unknown column; {hint}expected: {expected}"))
        elif h in seen:
            issues.append(Issue(**where, message=f"repeats column {seen[h]}; delete one of them"))
        else:
            seen[h] = column_letter(i)
    issues += [
        Issue(file=name, sheet=sheet, row=1, field=f, message="required column is missing")
        for f, info in fields.items()
        if info.is_required() and f not in seen
    ]
    return issues


def unnamed_column_warnings(name: str, sheet: str | None, header: list[str], rows: Rows) -> list[Issue]:
    """Values in a column without a name are not read: say so rather than drop them quietly
    (often a partner's side notes, sometimes data whose header was deleted)."""
    width = len(header)
    unnamed = [i for i, h in enumerate(header) if not h]
    beyond = {i for _, cells in rows if len(cells) > width for i in range(width, len(cells))}
    warnings = []
    for i in sorted({*unnamed, *beyond}):
        first = next((n for n, cells in rows if i < len(cells) and not is_blank(cells[i])), None)
        if first is not None:
            warnings.append(
                Issue(
                    file=name,
                    sheet=sheet,
                    row=1,
                    column=column_letter(i),
                    severity="warning",
                    message=f"has no column name, so its values (from row {first}) were not read; "
                    "name the column or delete it",
                )
            )
    return warnings


def date_warnings(name: str, spec: InputKind, sheet: str | None, position: dict[str, int], rows: Rows) -> list[Issue]:
    """A warning for each date cell whose day and month could be read either way."""
    fields = spec.model.model_fields
    warnings = []
    for field_name, at in position.items():
        if dt.date not in base_types(fields[field_name].annotation):
            continue
        for number, cells in rows:
            value = cells[at] if at < len(cells) else None
            if isinstance(value, str) and (warning := ambiguous_date(name, field_name, value)):
                warnings.append(warning.model_copy(update={"sheet": sheet, "row": number, "column": column_letter(at)}))
    return warnings


def count_warnings(
    name: str, spec: InputKind, sheet: str | None, valid: list[dict[str, Any]], read: int
) -> list[Issue]:
    """The numbers a milestone asks for: rows per partner (`rows_per_partner`), and rows with a
    value (three clusters proposed per region)."""
    warnings = []
    low, high = spec.rows_per_partner
    if high is not None and read > high:
        warnings.append(
            Issue(
                file=name,
                sheet=sheet,
                severity="warning",
                message=f"has {read} rows; the milestone asks for at most {high}",
            )
        )
    if low is not None and 0 < read < low:
        warnings.append(
            Issue(
                file=name,
                sheet=sheet,
                severity="warning",
                message=f"has {read} rows; the milestone asks for at least {low}",
            )
        )
    if spec.quota is not None and valid:
        column, value, expected = spec.quota
        count = sum(1 for row in valid if row.get(column) == value)
        if count != expected:
            rows_have = "row has" if count == 1 else "rows have"
            warnings.append(
                Issue(
                    file=name,
                    sheet=sheet,
                    field=column,
                    severity="warning",
                    message=f"{count} {rows_have} {column} = {format_cell(value)}; the milestone asks for {expected}",
                )
            )
    return warnings


def _plain(text: str) -> str:
    """'Malmö', 'malmo' and 'MALMÖ ' alike: partners type place names with and without diacritics."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.strip().casefold()) if not unicodedata.combining(c))


def location_warnings(
    name: str, sheet: str | None, position: dict[str, int], rows: Rows, city: str, region: Sequence[str]
) -> list[Issue]:
    """A `location` outside the partner's city and region: perhaps a neighbour's institution,
    or a file dropped in the wrong partner's folder. A warning, since metropolitan regions are
    wider than the project knows."""
    at = position.get("location")
    if at is None:
        return []
    places = [city, *region]
    known = {_plain(p) for p in places}
    warnings = []
    for number, cells in rows:
        value = cells[at] if at < len(cells) else None
        if isinstance(value, str) and value.strip() and _plain(value) not in known:
            warnings.append(
                Issue(
                    file=name,
                    sheet=sheet,
                    row=number,
                    column=column_letter(at),
                    field="location",
                    value=value.strip(),
                    severity="warning",
                    message=f"is outside {city}'s metropolitan region ({', '.join(places)}); "
                    "is this row for another partner?",
                )
            )
    return warnings
