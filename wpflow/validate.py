"""Validate a partner file as an input kind: every problem becomes a located `Issue`.

Prefect-free and quick to import: `wpflow validate` must answer in well under a second.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.inputs import INPUT_KINDS, InputKind
from schemas.records import Issue, ValidationResult

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
TRUE = {"yes", "true", "ja", "1", "x", "y"}
FALSE = {"no", "false", "nein", "0", "n"}


from wpflow.safety import Unreadable, check_container  # noqa: E402 - Unreadable is re-exported


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how partners name spreadsheet columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def normalise_header(text: Any) -> str:
    text = re.sub(r"\s*\(.*\)\s*$", "", str(text or "").strip())  # "budget_eur (EUR)"
    return re.sub(r"[\s\-]+", "_", text).lower()


def detect_kind(path: Path, expected: Sequence[str] = ()) -> str | None:
    """Kind from the file name (kind id or its label), restricted to the expected kinds."""
    candidates = list(expected) or list(INPUT_KINDS)
    name = normalise_header(Path(path).stem)
    for kind_id in sorted(candidates, key=len, reverse=True):
        label = normalise_header(INPUT_KINDS[kind_id].label)
        if kind_id in name or label in name:
            return kind_id
    return candidates[0] if len(candidates) == 1 else None


def kind_of(path: Path, name: str, expected: Sequence[str] = ()) -> str | None:
    """The kind a file is, in order of trust: the hidden `_wpflow` sheet a generated template
    carries, the file name, then the column headers."""
    from wpflow.metadata import read_metadata

    suffix = Path(name).suffix.lower()
    claimed = read_metadata(path, suffix).get("kind")
    if claimed in INPUT_KINDS and (not expected or claimed in expected):
        return claimed
    return detect_kind(Path(name), expected) or kind_from_headers(path, suffix, expected)


def kind_from_headers(path: Path, suffix: str, expected: Sequence[str] = ()) -> str | None:
    """The row kind whose required columns all appear in the file's header row (the one with
    most columns in common if several do); None for documents or unreadable files."""
    try:
        if suffix in WORKBOOK_SUFFIXES:
            from python_calamine import CalamineWorkbook

            workbook = CalamineWorkbook.from_path(str(path))
            sheet = next((n for n in workbook.sheet_names if not n.startswith("_")), None)
            rows = workbook.get_sheet_by_name(sheet).to_python(nrows=1) if sheet else []
            header = {normalise_header(h) for h in (rows[0] if rows else [])}
        elif suffix in (".csv", ".txt"):
            header = set(_read_csv(path)[0])
        else:
            return None
    except Exception:  # noqa: BLE001 - unreadable: validation says why
        return None
    fits = []
    for kind_id in expected or INPUT_KINDS:
        spec = INPUT_KINDS[kind_id]
        if spec.shape != "rows":
            continue
        fields = spec.model.model_fields
        required = {n for n, f in fields.items() if f.is_required()}
        if required <= header:
            fits.append((len(header & set(fields)), kind_id))
    return max(fits)[1] if fits else None


# -- readers -----------------------------------------------------------------------------
def read_table(path: Path, kind: InputKind, suffix: str) -> tuple[str | None, list[str], list[tuple[int, list[Any]]]]:
    """(sheet, header, [(row number as the partner sees it, cells)]). The format comes from the
    partner's file name (`suffix`): archived copies are named by hash and have none."""
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path, kind)
    if suffix == ".csv" or suffix == ".txt":
        header, rows = _read_csv(path)
        return None, header, rows
    raise Unreadable(f"files of type {suffix or '(none)'} are not read as tables; send XLSX, CSV or JSON")


def _read_workbook(path: Path, kind: InputKind):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise Unreadable(f"not a readable workbook ({exc.__class__.__name__}); is it password-protected or damaged?") from exc
    names = wb.sheet_names
    sheet = kind.sheet if kind.sheet in names else next((n for n in names if not n.startswith("_")), names[0])
    data = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if not data:
        return sheet, [], []
    header = [normalise_header(h) for h in data[0]]
    return sheet, header, [(i + 2, list(r)) for i, r in enumerate(data[1:])]


def _read_csv(path: Path):
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", legacy_encoding(raw)):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable("cannot be decoded as UTF-8, Windows-1252 or Windows-1257; save it as CSV UTF-8")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";"
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return [], []
    return [normalise_header(h) for h in rows[0]], [(i + 2, r) for i, r in enumerate(rows[1:])]


# Bytes that are letters of the Baltic languages in cp1257 (ą ā ē č ė ģ ķ ī ļ š ņ ū ž ł and
# capitals) but rarer accented Latin letters in cp1252; and the Nordic letters æ ø only cp1252
# has at those bytes. Bytes both code pages read alike (ä å é ó õ ö ü) decide nothing.
_BALTIC = frozenset(b"\xe0\xe2\xe7\xe8\xeb\xec\xed\xee\xef\xf0\xf2\xf9\xfb\xfe"
                    b"\xc0\xc2\xc7\xc8\xcb\xcc\xcd\xce\xcf\xd0\xd2\xd9\xdb\xde")
_NORDIC = frozenset(b"\xe6\xf8\xc6\xd8")


def legacy_encoding(raw: bytes) -> str:
    """cp1257 (Baltic) or cp1252 (Western) for a file that is not UTF-8, by which code page's
    distinctive letters it holds more of: 'Rīga' and 'Łódź' from Riga's system, 'Tromsø' and
    'Malmö' from Oslo's or Malmö's."""
    baltic = sum(1 for b in raw if b in _BALTIC)
    nordic = sum(1 for b in raw if b in _NORDIC)
    return "cp1257" if baltic > nordic else "cp1252"


# -- cells -------------------------------------------------------------------------------
def coerce(value: Any, annotation: Any) -> Any:
    """A cell as the model expects it: European numbers, yes/no, empty → None."""
    return coerce_to(value, _base_types(annotation))


def coerce_to(value: Any, kinds: frozenset[type] | set[type]) -> Any:
    """`coerce` with the field's base types worked out once per column, not once per cell
    (1.6 million cells at 500 partners: the lookup alone was 1.5 s)."""
    if value is None or (value.__class__ is str and not value.strip()):
        return None
    text = value.strip() if value.__class__ is str else value
    if isinstance(text, str) and (int in kinds or float in kinds):
        number = parse_number(text)
        if number is not None:
            return int(number) if int in kinds and float not in kinds and number == int(number) else number
    if isinstance(text, str) and bool in kinds:
        low = text.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
    if isinstance(text, float) and int in kinds and text == int(text):
        return int(text)
    return text


def parse_number(text: str) -> float | None:
    """'1 250 000,50', '1.250.000,50', '1,250,000.50', '750000' → float; anything else None."""
    t = text.replace("\u00a0", " ").replace("\u202f", " ").replace(" ", "").replace("'", "")
    t = re.sub(r"(?i)\s*(eur|€)$", "", t)
    if not re.fullmatch(r"[-+]?[\d.,]+", t):
        return None
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif "," in t:
        t = t.replace(",", ".") if re.search(r",\d{1,2}$", t) or t.count(",") == 1 and not re.search(r",\d{3}$", t) else t.replace(",", "")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    try:
        return float(t)
    except ValueError:
        return None


def _base_types(annotation: Any) -> set[type]:
    args = getattr(annotation, "__args__", None)
    if args:
        return {a for a in args if isinstance(a, type)}
    return {annotation} if isinstance(annotation, type) else set()


MESSAGES = {
    "missing": "is required",
    "bool_parsing": "must be yes or no",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "finite_number": "is not a finite number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "is too short",
    "date_from_datetime_parsing": "is not a date",
    "date_parsing": "is not a date",
}


def plain_message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if err.get("input", "") is None and kind.endswith("_type"):  # an empty cell in a required column
        return "is required"
    if kind == "literal_error":
        return "must be one of: " + err["ctx"]["expected"].replace("'", "")
    if kind in MESSAGES:
        return MESSAGES[kind].format(**err.get("ctx", {}))
    text = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    # a model's own message may start with the value, which the receipt already shows
    return text.removeprefix(f"{value!r} ") if isinstance(value, str) else text


# -- validation --------------------------------------------------------------------------
def validate_file(
    path: Path,
    kind: str | None = None,
    *,
    expected: Sequence[str] = (),
    display_name: str | None = None,
    city: str | None = None,
    region: Sequence[str] = (),
    max_bytes: int | None = None,
) -> ValidationResult:
    """Never raises for bad input: every problem is an Issue in the result. `city` and `region`
    (the partner's metropolitan region) let a location elsewhere be flagged as a warning."""
    path = Path(path)
    name = display_name or path.name
    kind = kind or kind_of(path, name, expected)
    if kind is None:
        wanted = ", ".join(expected or INPUT_KINDS)
        return _failed(name, None, f"cannot tell which input this is (no template sheet, file name or column "
                                   f"headers say so); the milestone expects: {wanted}")
    spec = INPUT_KINDS[kind]
    suffix = Path(name).suffix.lower()
    try:
        check_container(path, suffix, max_bytes)
        if spec.shape == "document":
            return _validate_document(path, name, spec, suffix)
        if suffix == ".json":
            return _validate_json_rows(path, name, spec)
        sheet, header, rows = read_table(path, spec, suffix)
    except Unreadable as exc:
        return _failed(name, kind, str(exc))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return _failed(name, kind, f"cannot be read: {exc}")
    result = validate_rows(name, spec, sheet, header, rows)
    if city:
        result.issues += location_warnings(result, header, sheet, rows, city, region)
    return result


def _failed(name: str, kind: str | None, message: str) -> ValidationResult:
    return ValidationResult(file=name, kind=kind, issues=[Issue(file=name, message=message)])


def validate_rows(name: str, spec: InputKind, sheet: str | None, header: list[str], rows) -> ValidationResult:
    fields = spec.model.model_fields
    issues: list[Issue] = []
    unknown = [h for h in header if h and h not in fields]
    for h in unknown:
        issues.append(Issue(file=name, sheet=sheet, row=1, column=column_letter(header.index(h)), field=h,
                            message=f"unknown column; expected: {', '.join(fields)}"))
    for field_name, info in fields.items():
        if info.is_required() and field_name not in header:
            issues.append(Issue(file=name, sheet=sheet, row=1, field=field_name, message="required column is missing"))
    if issues:
        return ValidationResult(file=name, kind=spec.id, issues=issues)
    position = {h: i for i, h in enumerate(header)}
    columns = [(h, i, frozenset(_base_types(fields[h].annotation))) for h, i in position.items() if h]
    valid, read = [], 0
    for number, cells in rows:
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        read += 1
        width = len(cells)
        record = {h: coerce_to(cells[i] if i < width else None, kinds) for h, i, kinds in columns}
        try:
            valid.append(spec.model.model_validate(record).model_dump(mode="json"))
        except ValidationError as exc:
            for err in exc.errors():
                field_name = err["loc"][0] if err["loc"] else None
                col = column_letter(position[field_name]) if field_name in position else None
                value = record.get(field_name) if field_name else None
                issues.append(Issue(file=name, sheet=sheet, row=number, column=col, field=field_name,
                                    value=None if value is None else str(value), message=plain_message(err)))
    if read == 0:
        issues.append(Issue(file=name, sheet=sheet, message="contains no data rows"))
    issues += row_warnings(name, spec, sheet, rows) + quota_warning(name, spec, sheet, valid)
    return ValidationResult(file=name, kind=spec.id, rows=valid, issues=issues, rows_read=read)


def row_warnings(name: str, spec: InputKind, sheet: str | None, rows) -> list[Issue]:
    """What does not block a submission but a person should look at: a row repeated verbatim
    (copy-paste), and a quota the milestone sets (three clusters proposed per region)."""
    warnings: list[Issue] = []
    first_seen: dict[tuple, int] = {}
    for number, cells in rows:
        key = tuple("" if c is None else str(c).strip() for c in cells)
        if not any(key):
            continue
        if key in first_seen:
            warnings.append(Issue(file=name, sheet=sheet, row=number, severity="warning",
                                  message=f"is the same as row {first_seen[key]}; delete one if it is a copy"))
        else:
            first_seen[key] = number
    return warnings


def same_place(a: str, b: str) -> bool:
    """'Malmö' = 'malmo' = 'MALMÖ ': partners type place names with and without diacritics."""
    import unicodedata

    def plain(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", text.strip().casefold()) if not unicodedata.combining(c))

    return plain(a) == plain(b)


def location_warnings(result: ValidationResult, header: list[str], sheet: str | None, rows,
                      city: str, region: Sequence[str]) -> list[Issue]:
    """A `location` outside the partner's city and region: perhaps a neighbour's institution,
    or a file dropped in the wrong partner's folder. A warning, since metropolitan regions are
    wider than the project knows."""
    if "location" not in header:
        return []
    at = header.index("location")
    places = [city, *region]
    warnings = []
    for number, cells in rows:
        value = cells[at] if at < len(cells) else None
        if isinstance(value, str) and value.strip() and not any(same_place(value, p) for p in places):
            warnings.append(Issue(file=result.file, sheet=sheet, row=number, column=column_letter(at), field="location",
                                  value=value.strip(), severity="warning",
                                  message=f"is outside {city}'s metropolitan region ({', '.join(places)}); "
                                          "is this row for another partner?"))
    return warnings


def quota_warning(name: str, spec: InputKind, sheet: str | None, valid: list[dict[str, Any]]) -> list[Issue]:
    if spec.quota is None or not valid:
        return []
    column, value, expected = spec.quota
    count = sum(1 for row in valid if row.get(column) == value)
    if count == expected:
        return []
    return [Issue(file=name, sheet=sheet, field=column, severity="warning",
                  message=f"{count} rows have {column} = {format_cell(value)}; the milestone asks for {expected}")]


def format_cell(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _validate_json_rows(path: Path, name: str, spec: InputKind) -> ValidationResult:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    items = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return _failed(name, spec.id, 'is not a list of rows; send [{"column": value, ...}, ...] '
                                      'or {"rows": [...]}')
    if not items:
        return _failed(name, spec.id, "contains no data rows")
    header = list(dict.fromkeys(k for item in items if isinstance(item, dict) for k in item))
    rows = [(i + 1, [item.get(h) if isinstance(item, dict) else None for h in header]) for i, item in enumerate(items)]
    result = validate_rows(name, spec, None, [normalise_header(h) for h in header], rows)
    for issue in result.issues:
        issue.column = None  # JSON has no columns; the field says where
    return result


def _validate_document(path: Path, name: str, spec: InputKind, suffix: str) -> ValidationResult:
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    elif suffix in (".md", ".markdown", ".txt"):
        data = _markdown_document(path.read_text(encoding="utf-8-sig"))
    elif suffix == ".docx":
        data = lift_fields(_docx_document(path), spec.model)
    else:
        raise Unreadable(f"files of type {suffix} are not read as documents; send DOCX, Markdown or JSON")
    data.pop("kind", None)
    return validate_document(name, spec.model, spec.id, data)


def validate_document(name: str, model: type[BaseModel], kind: str, data: dict) -> ValidationResult:
    warnings = read_dates(name, model, data)
    try:
        doc = model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        issues = [Issue(file=name, field=".".join(str(p) for p in err["loc"]) or None,
                        value=None if isinstance(err.get("input"), (dict, list)) else str(err.get("input")),
                        message=plain_message(err)) for err in exc.errors()]
        return ValidationResult(file=name, kind=kind, issues=issues + warnings)
    return ValidationResult(file=name, kind=kind, document=doc, rows_read=1, issues=warnings)


_DATE = re.compile(r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})")


def parse_date(text: str) -> tuple[dt.date | None, bool]:
    """(date, ambiguous) from `31.12.2005`, `2005-12-31`, `12/31/2005` or `31/12/2005`. Where
    day and month could be swapped (`03/04/2005`) the European reading (day first) wins and
    `ambiguous` is True so the partner is told how it was read."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None, False
    a, b, c = (int(g) for g in match.groups())
    sep = text.strip()[len(match.group(1))]
    try:
        if len(match.group(1)) == 4:  # 2005-12-31
            return dt.date(a, b, c), False
        if sep == "/" and b > 12:  # 12/31/2005: American, month first
            return dt.date(c, a, b), False
        day_first = dt.date(c, b, a)
    except ValueError:
        return None, False
    return day_first, sep == "/" and a <= 12 and a != b


def read_dates(name: str, model: type[BaseModel], data: dict) -> list[Issue]:
    """Turn the document's date fields given as text into dates (in place); a warning for each
    date whose day and month could be read either way."""
    warnings = []
    for field_name, info in model.model_fields.items():
        value = data.get(field_name)
        if info.annotation is dt.date and isinstance(value, str):
            parsed, ambiguous = parse_date(value)
            if parsed is not None:
                data[field_name] = parsed
                if ambiguous:
                    warnings.append(Issue(file=name, field=field_name, value=value, severity="warning",
                                          message=f"could be read either way; read as {parsed:%d %B %Y} "
                                                  "(day first). Write dates as 31.12.2005 or 2005-12-31"))
    return warnings


def lift_fields(data: dict, model: type[BaseModel]) -> dict:
    """Sections headed by a model field ("Date", "City", "Outcomes", "Attendance") fill that
    field: a Word file has no front matter, so its headings carry the typed values."""
    fields, kept = model.model_fields, []
    for section in data.get("sections", []):
        name = normalise_header(section["heading"])
        if name in fields and name not in ("title", "sections"):
            data[name] = _field_value(section["text"], fields[name].annotation)
        else:
            kept.append(section)
    data["sections"] = kept
    return data


def _field_value(text: str, annotation: Any) -> Any:
    """One paragraph per list item; 'Riga: 3' for a list of two-field rows (attendance)."""
    import typing

    if typing.get_origin(annotation) is not list:
        return text
    items = [p.strip() for p in text.split("\n\n") if p.strip()]
    (item,) = typing.get_args(annotation)
    if isinstance(item, type) and issubclass(item, BaseModel):
        first, second = list(item.model_fields)[:2]
        return [dict(zip((first, second), (part.strip() for part in p.rsplit(":", 1)))) for p in items]
    return items


def _markdown_document(text: str) -> dict:
    import yaml

    meta: dict = {}
    body = text
    if text.startswith("---"):
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    sections, heading, lines = [], None, []
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


def _docx_document(path: Path) -> dict:
    from docx import Document

    try:
        doc = Document(str(path))
    except Exception as exc:
        raise Unreadable(f"not a readable Word file ({exc.__class__.__name__})") from exc
    data: dict = {}
    sections, heading, lines = [], None, []
    for p in doc.paragraphs:
        style = (p.style.name or "") if p.style is not None else ""
        if style == "Title":
            data["title"] = p.text.strip()
        elif style.startswith("Heading"):
            if heading is not None:
                sections.append({"heading": heading, "text": "\n\n".join(lines).strip()})
            heading, lines = p.text.strip(), []
        elif p.text.strip():
            lines.append(p.text.strip())
    if heading is not None:
        sections.append({"heading": heading, "text": "\n\n".join(lines).strip()})
    data["sections"] = sections
    return data
