"""Render a milestone's `WPSummary` into a Word report from the editable docxtpl template.

The wording and layout live in `templates/report.docx`, which a secretariat edits in Word; this
module supplies the template variables and never the report's prose. docxtpl renders the
skeleton (title page, contents, headings, small tables, charts); `wpflow.report.docx_tables` fills the
data-shaped tables and lays every table out from its content, `wpflow.report.docx_fields` writes the
contents list, and `wpflow.report.pdf` puts a PDF beside the DOCX when LibreOffice is installed.
"""

from __future__ import annotations

import html
import io
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from docx.shared import Mm

import wpflow
from schemas.records import ComparativeTable, ReportRef, WPSummary
from wpflow.files import file_sha256, replacing
from wpflow.report.charts import chart_measure, chart_png
from wpflow.report.deliverable import deliverable_context
from wpflow.report.docx_fields import ensure_update_fields, fill_contents
from wpflow.report.docx_tables import (
    FORBIDDEN,
    ROWS_PER_CHUNK,
    Column,
    TableFill,
    fill_marked_tables,
    marker,
    write_spliced,
)
from wpflow.report.pdf import docx_to_pdf
from wpflow.report.plain_words import (
    expects_narratives,
    format_value,
    kind_title,
    long_date,
    long_datetime,
    month_words,
    no_inputs_reason,
    organisation,
    prose_dates,
    sentence,
)
from wpflow.report.table_layout import ColumnNeed, column_need

CHART_WIDTH = Mm(150)
_RENDERED_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")  # as docxtpl


# -- text ---------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry, so a stray control character never breaks a report."""
    return text.translate(FORBIDDEN)


def sanitize(value: Any) -> Any:
    """`clean_text` applied to every string of a context tree (docxtpl escapes, but cannot drop)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    return value


# -- columns ------------------------------------------------------------------------------
def field_units(table: ComparativeTable) -> dict[str, str]:
    """Units of a table's measures and detail columns, as merge took them from its kind."""
    return {**table.measure_units, **table.field_units}


def field_label(name: str, unit: str) -> str:
    """`budget_eur` → `Budget (EUR)`, `floor_area_m2` → `Floor area (m²)`: a data-driven header."""
    words = name.split("_")
    if unit and len(words) > 1 and words[-1].lower() in {unit.lower(), unit.lower().replace("²", "2")}:
        return " ".join(words[:-1]).capitalize() + f" ({unit})"
    return " ".join(words).capitalize()


def measure_columns(table: ComparativeTable) -> list[Column]:
    units = field_units(table)
    return [Column(c, c, units.get(c, "")) for c in table.columns]


def detail_columns(table: ComparativeTable, values: dict[str, list[Any]] | None = None) -> list[Column]:
    """Detail columns, numeric when every value given is a number (booleans are words). Columns
    the kind marks as personal are never shown, even if a caller forgot to drop them. `values`
    (from `column_values`) saves a pass over the rows when the caller has them already."""
    units = field_units(table)
    values = values if values is not None else column_values(table)

    def numeric(key: str) -> bool:
        given = [v for v in values[key] if v is not None]
        return bool(given) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given)

    return [Column(c, field_label(c, units.get(c, "")), units.get(c, ""), numeric(c)) for c in values]


def column_values(table: ComparativeTable) -> dict[str, list[Any]]:
    """Each shown detail column's values, one pass per column (personal columns left out)."""
    personal = set(table.personal)
    return {c: [d.get(c) for d in table.details] for c in table.detail_columns if c not in personal}


# -- fast tables --------------------------------------------------------------------------
def table_fills(tables: list[ComparativeTable]) -> dict[str, TableFill]:
    """The comparative and detail tables, keyed by the marker their template row renders to,
    with what their column widths need measured from the same texts the cells will hold."""
    fills: dict[str, TableFill] = {}
    for i, table in enumerate(tables):
        measures = measure_columns(table)
        rows = [[str(r["city"]), *(format_value(r.get(c.key), c.unit) for c in measures)] for r in table.rows]
        total = [format_value(table.totals.get(c.key), c.unit) for c in measures]
        needs = [
            column_need(c.label, [r[n] for r in rows] + [total[n - 1]], numeric=True)
            for n, c in enumerate(measures, start=1)
        ]
        fills[marker(i, "cities")] = TableFill(
            measures, rows, total, labels={r[0] for r in rows}, needs=needs, landscape_ok=True
        )
        if table.details:
            values = column_values(table)
            cols = detail_columns(table, values)
            fills[marker(i, "details")] = TableFill(
                cols,
                detail_texts(table.details, cols),
                labels={str(d.get("city", "")) for d in table.details},
                needs=[detail_need(values[c.key], c) for c in cols],
                landscape_ok=True,
            )
    return fills


def detail_need(values: list[Any], column: Column) -> ColumnNeed:
    """Measured on distinct values; numbers on their extremes only (formatted with decimals too,
    an upper bound for any smaller fraction), so 10 000 rows are not formatted twice."""
    if column.numeric:
        numbers = [v for v in values if v is not None]
        extremes = [max(numbers), min(numbers)]
        texts = [format_value(v, column.unit) for v in extremes]
        if column.unit not in ("EUR", "year"):
            texts += [format_value(v + 0.5, column.unit) for v in extremes]  # a fraction: ".50"
        return column_need(column.label, texts, numeric=True)
    distinct: set[Any]
    try:
        distinct = set(values)
    except TypeError:  # a list or dict cell: rare, format them all
        distinct = {format_value(v) for v in values}
    shown = {v if v.__class__ is str else format_value(v, column.unit) for v in distinct}
    return column_need(column.label, shown, numeric=False)


def detail_texts(details: list[dict[str, Any]], cols: list[Column]) -> Iterator[Sequence[str]]:
    """Formatted lazily, a chunk of rows at a time as they are written (250 000 rows never exist
    as text at once), column by column within a chunk: a text cell, most of them, is taken as
    it is without a call, which halves the time of formatting cell by cell."""
    for start in range(0, len(details), ROWS_PER_CHUNK):
        part = details[start : start + ROWS_PER_CHUNK]
        columns = [[str(d.get("city", "")) for d in part]]
        for c in cols:
            unit = c.unit
            values = [d.get(c.key) for d in part]
            columns.append([v if v.__class__ is str else format_value(v, unit) for v in values])
        yield from zip(*columns, strict=True)


# -- context ------------------------------------------------------------------------------
def table_context(index: int, table: ComparativeTable, summary: WPSummary, tpl: Any | None) -> dict[str, Any]:
    from docxtpl import InlineImage

    measure = chart_measure(table)
    chart = None
    if tpl is not None and measure is not None and table.rows:
        chart = InlineImage(tpl, io.BytesIO(chart_png(table, measure)), width=CHART_WIDTH)
    text = {
        "label": table.label,
        "kind": table.kind,
        "city_rows": marker(index, "cities"),
        "detail_rows": marker(index, "details"),
        "has_rows": bool(table.rows),
        "empty_reason": f"No city had delivered a valid file of this kind by {long_date(summary.as_of)}.",
        "has_details": bool(table.details),
        "chart_measure": measure or "",
    }
    return {**sanitize(text), "chart": chart}


def report_context(
    summary: WPSummary,
    *,
    template_sha256: str = "",
    generated_at: datetime | None = None,
    tpl: Any | None = None,
) -> dict[str, Any]:
    """Every variable the template uses (the contract test checks it), in people's words:
    dates as dates, partners by organisation, input kinds by title. Charts need the
    DocxTemplate being rendered (`tpl`); without it they are left out."""
    when = generated_at or default_generated_at(summary)
    context = {
        **summary.model_dump(
            include={
                "project",
                "project_title",
                "programme",
                "wp_id",
                "wp_title",
                "milestone_id",
                "milestone_title",
                "status",
                "activities",
                "missing",
            }
        ),
        "start": long_date(summary.start),
        "end": long_date(summary.end),
        "due": long_date(summary.due),
        "as_of": long_date(summary.as_of),
        "meetings": [{**m.model_dump(), "month": month_words(m.month)} for m in summary.meetings],
        "partners": [
            {
                **s.model_dump(),
                "organisation": organisation(summary, s.partner),
                "kind_label": kind_title(s.kind, summary.kind_titles),
            }
            for s in summary.partners
        ],
        "requires_inputs": bool(summary.partners),
        "expects_narratives": expects_narratives(summary),
        "narratives": [n.model_dump() for n in summary.narratives],
        "inputs": [
            {
                **i.model_dump(include={"file_name", "version", "sha256"}),
                "partner": organisation(summary, i.partner),
                "kind": kind_title(i.kind, summary.kind_titles),
            }
            for i in summary.inputs
        ],
        "no_inputs_reason": no_inputs_reason(summary),
        "source_notes": [sentence(n) for n in summary.source_notes],
        "wpflow_version": wpflow.__version__,
        "generated_at": long_datetime(when),
        "template_sha256": template_sha256,
        "version": summary.version,
        "changes_since": prose_dates(summary.changes_since or ""),  # "v1 of 3 July 2006", as every date
        "changes": [prose_dates(c) for c in summary.changes],
    }
    context = sanitize(context)
    context["tables"] = [table_context(i, t, summary, tpl) for i, t in enumerate(summary.tables)]
    context.update(sanitize(deliverable_context(summary, context, tpl, template_sha256, when.date())))
    return context


def template_variables(path: Path) -> set[str]:
    """Top-level variables a template uses, body, headers and footers (docxtpl's own parse)."""
    from docxtpl import DocxTemplate

    return set(DocxTemplate(str(path)).get_undeclared_template_variables())


# -- render -------------------------------------------------------------------------------
def default_generated_at(summary: WPSummary) -> datetime:
    """Midnight UTC of the as-of day: re-running a milestone on the same inputs then yields the
    same bytes. (Whether a report is new is its content fingerprint's business: wpflow.issue.content.)"""
    return datetime.combine(summary.as_of, datetime.min.time(), tzinfo=UTC)


def stamp_properties(document: Any, when: datetime) -> None:
    """Date the document `when` (not now), so re-rendering gives the same bytes; and undo the
    autoescape docxtpl applies to the properties' text, which python-docx escapes again itself."""
    props = document.core_properties
    for name in _RENDERED_PROPERTIES:
        setattr(props, name, html.unescape(getattr(props, name)))
    naive = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    props.created = props.modified = naive
    props.last_modified_by = props.author  # the template names the author (a milestone report: the coordinator)
    props.last_printed = naive
    props.revision = 1


def stable_zip(data: bytes, when: datetime, splices: dict[bytes, Iterator[str]], out: IO[bytes]) -> None:
    """Rewrite the DOCX zip into `out` with every entry dated `when`, so equal content gives
    equal bytes, streaming the big tables' rows into `word/document.xml` on the way."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if item.filename == "word/document.xml" and splices:
                # level 1: a third of the time of level 6 for a few per cent more bytes
                info._compresslevel = 1  # type: ignore[attr-defined]  # what writestr(compresslevel=) sets; open() reads it
                with dst.open(info, "w") as entry:  # > 2 GB fails loudly (no zip64)
                    write_spliced(entry, content, splices)
            else:
                dst.writestr(info, content, compresslevel=1 if len(content) > 1 << 20 else 6)


def render_report(
    summary: WPSummary,
    out_dir: Path,
    *,
    templates_dir: Path,
    template: str = "report.docx",
    generated_at: datetime | None = None,
    pdf: bool = False,
) -> ReportRef:
    """Write `<out_dir>/<milestone_id>.docx` atomically and say what it was made from; with
    `pdf`, also a PDF beside it when LibreOffice is installed (`wpflow.report.pdf`).
    `generated_at` defaults to the as-of day (see `default_generated_at`)."""
    from docxtpl import DocxTemplate

    template_path = templates_dir / template
    template_sha = file_sha256(template_path)
    when = generated_at or default_generated_at(summary)
    tpl = DocxTemplate(str(template_path))
    context = report_context(summary, template_sha256=template_sha, generated_at=when, tpl=tpl)
    return write_docx(
        tpl,
        context,
        table_fills(summary.tables),
        out_dir / f"{summary.milestone_id}.docx",
        report_id=summary.milestone_id,
        template_sha256=template_sha,
        when=when,
        pdf=pdf,
    )


def write_docx(
    tpl: Any,
    context: dict[str, Any],
    fills: dict[str, TableFill],
    path: Path,
    *,
    report_id: str,
    template_sha256: str,
    when: datetime,
    pdf: bool,
) -> ReportRef:
    """Render `context` into the docxtpl template `tpl`, fill its marked tables and contents
    list, and write `path` atomically, dated `when` so equal content gives equal bytes; with
    `pdf`, a PDF beside it when LibreOffice is installed. Every report's DOCX is written here."""
    from jinja2 import Environment, StrictUndefined

    # StrictUndefined: a typo in the template fails the render instead of printing nothing.
    tpl.render(context, jinja_env=Environment(undefined=StrictUndefined), autoescape=True)
    splices = fill_marked_tables(tpl.docx.element.body, fills)
    fill_contents(tpl.docx.element.body)
    ensure_update_fields(tpl.docx)
    stamp_properties(tpl.docx, when)
    buffer = io.BytesIO()
    tpl.save(buffer)
    with replacing(path) as tmp, tmp.open("wb") as out:
        stable_zip(buffer.getvalue(), when, splices, out)
    pdf_path = docx_to_pdf(path) if pdf else None
    return ReportRef(
        milestone_id=report_id,
        path=str(path),
        sha256=file_sha256(path),
        template_sha256=template_sha256,
        generated_at=when,
        pdf_path=str(pdf_path) if pdf_path else None,
    )
