"""Narrative inputs and meeting reports: a document validated as one record of its kind.

DOCX (sections by heading, tables as rows; sections headed by a field fill that field),
Markdown with YAML front matter, or JSON `{"title": ..., "sections": [...]}`.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.inputs import InputKind
from schemas.records import Issue, ValidationResult
from wpflow.inputs.coerce import base_types, to_date
from wpflow.inputs.field_messages import ambiguous_date, plain_message
from wpflow.inputs.headers import normalise_header, resolve_header
from wpflow.inputs.readers import decode_text, load_json, open_docx, table_cells
from wpflow.inputs.safety import Unreadable

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
SECTIONS_HINT = "; give each part a heading (Heading 1 in Word, # in Markdown)"


def validate_document_file(path: Path, name: str, spec: InputKind, suffix: str) -> ValidationResult:
    """The document at `path` (its format from the partner's file name's `suffix`) checked as `spec`."""
    if suffix == ".json":
        data = load_json(path)
        if not isinstance(data, dict):
            raise Unreadable('is not a document; send {"title": ..., "sections": [...]}')
    elif suffix in MARKDOWN_SUFFIXES:
        data = markdown_document(decode_text(path.read_bytes()))
    elif suffix == ".docx":
        data = lift_fields(_docx_document(path), spec.model)
    else:
        raise Unreadable(f"files of type {suffix or '(none)'} are not read as documents; send DOCX, Markdown or JSON")
    data.pop("kind", None)
    return validate_document(name, spec.model, spec.id, data)


def validate_document(name: str, model: type[BaseModel], kind: str, data: dict) -> ValidationResult:
    warnings = read_dates(name, model, data)
    try:
        doc = model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        issues = [
            Issue(
                file=name,
                field=".".join(str(p) for p in err["loc"]) or None,
                value=None if isinstance(err.get("input"), (dict, list)) else str(err.get("input")),
                message=plain_message(err) + (SECTIONS_HINT if err["loc"] == ("sections",) else ""),
            )
            for err in exc.errors()
        ]
        return ValidationResult(file=name, kind=kind, issues=issues + warnings)
    return ValidationResult(file=name, kind=kind, document=doc, rows_read=1, issues=warnings)


def read_dates(name: str, model: type[BaseModel], data: dict) -> list[Issue]:
    """Turn the document's date fields given as text (or as a date with a time) into dates, in
    place; a warning for each date whose day and month could be read either way."""
    warnings = []
    for field_name, info in model.model_fields.items():
        value = data.get(field_name)
        if dt.date not in base_types(info.annotation) or value is None:
            continue
        data[field_name] = to_date(value)
        if isinstance(value, str) and (warning := ambiguous_date(name, field_name, value)):
            warnings.append(warning)
    return warnings


def lift_fields(data: dict, model: type[BaseModel]) -> dict:
    """Sections headed by a model field ("Date", "City", "Outcomes", "Attendance") fill that
    field: a Word file has no front matter, so its headings carry the typed values. Other
    sections stay narrative, a table in them as one line per row."""
    fields, kept = model.model_fields, []
    for section in data.get("sections", []):
        name = resolve_header([normalise_header(section["heading"])], model)[0]
        if name in fields and name not in ("title", "sections"):
            data[name] = _field_value(section, fields[name].annotation)
        else:
            lines = [section["text"], *(" | ".join(row) for row in section["rows"])]
            kept.append({"heading": section["heading"], "text": "\n\n".join(x for x in lines if x)})
    data["sections"] = kept
    return data


def _field_value(section: dict, annotation: Any) -> Any:
    """One paragraph per list item; a list of two-field rows (attendance) from a table with
    named columns, or from paragraphs like 'Riga: 3'."""
    text = section["text"]
    if typing.get_origin(annotation) is not list:
        return text
    items = [p.strip() for p in text.split("\n\n") if p.strip()]
    (item,) = typing.get_args(annotation)
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        return items + [" | ".join(row) for row in section["rows"]]
    if section["rows"]:
        header = resolve_header([normalise_header(h) for h in section["rows"][0]], item)
        return [dict(zip(header, row)) for row in section["rows"][1:]]
    first, second = list(item.model_fields)[:2]
    return [dict(zip((first, second), (part.strip() for part in p.rsplit(":", 1)))) for p in items]


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE)


def markdown_document(text: str) -> dict:
    """Front matter (YAML between `---` lines) holds the typed fields; `#` headings split the
    body into sections; a first `#` heading is the title if the front matter gives none."""
    meta: dict = {}
    body = text
    if text.startswith("---"):
        match = _FRONT_MATTER.match(text)
        if match is None:
            raise Unreadable("has front matter (--- on line 1) that no --- line closes")
        meta, body = front_matter(match[1]), text[match.end() :]
    sections: list[dict[str, str]] = []
    heading: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        if line.startswith("#"):
            if heading is not None:
                sections.append({"heading": heading, "text": "\n".join(lines).strip()})
            level = len(line) - len(line.lstrip("#"))
            if level == 1 and not sections and heading is None and "title" not in meta:
                meta["title"] = line.lstrip("# ").strip()
                continue
            heading, lines = line.lstrip("# ").strip(), []
        else:
            lines.append(line)
    if heading is not None:
        sections.append({"heading": heading, "text": "\n".join(lines).strip()})
    if sections:
        meta.setdefault("sections", sections)
    return meta


def front_matter(text: str) -> dict:
    """YAML (safe: no Python objects) as a dict; its errors with the file's line number."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""  # +1: 0-based, +1: the --- line
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise Unreadable(f"front matter is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Unreadable("front matter must be 'field: value' lines")
    return data


def _docx_document(path: Path) -> dict:
    """Title (the Title style), then sections: each Heading with the paragraphs and tables under
    it. Text before the first heading is the template's instructions and is not read."""
    from docx.table import Table

    data: dict = {}
    sections: list[dict] = []
    for block in open_docx(path).iter_inner_content():
        if isinstance(block, Table):
            if sections:
                sections[-1]["rows"] += table_cells(block)
            continue
        style = (block.style.name or "") if block.style is not None else ""
        words = block.text.strip()
        if style == "Title":
            data["title"] = words
        elif style.startswith("Heading"):
            sections.append({"heading": words, "paragraphs": [], "rows": []})
        elif words and sections:
            sections[-1]["paragraphs"].append(words)
    data["sections"] = [
        {"heading": s["heading"], "text": "\n\n".join(s["paragraphs"]), "rows": s["rows"]} for s in sections
    ]
    return data
