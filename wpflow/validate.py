"""Validate a partner file as an input kind: every problem becomes a located `Issue`.

Prefect-free and quick to import: `wpflow validate` must answer in well under a second.
Workbooks (XLSX, XLSM, XLS, ODS) are read by python-calamine: cell values only, macros never
run. CSV comes in the dialects and code pages of the partner cities' own systems; JSON as a
list of rows; documents as DOCX (sections by heading, tables as rows) or Markdown with front
matter. Errors block a submission; warnings (a copied row, a place outside the partner's
region, a quota missed, an ambiguous date) are shown but do not.

The partner's file name is only ever shown and used for its suffix; the bytes are read from
`path`, which wpflow chose (archived copies are named by their hash).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import itertools
import json
import re
import typing
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from schemas.inputs import INPUT_KINDS, UNIT, InputKind
from schemas.records import Issue, ValidationResult
from wpflow.safety import Unreadable, check_container  # Unreadable is re-exported

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
TRUE = {"yes", "true", "ja", "1", "x", "y"}
FALSE = {"no", "false", "nein", "0", "n"}

Rows = list[tuple[int, list[Any]]]  # (row number as the partner sees it, cells)


# -- names -------------------------------------------------------------------------------
def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how partners name spreadsheet columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_UNIT_IN_BRACKETS = re.compile(r"\s*\([^)]*\)\s*$")
_SEPARATORS = re.compile(r"[\s\-/.]+")


def normalise_header(text: Any) -> str:
    """'Budget_EUR (EUR) *' → 'budget_eur': case, spaces, hyphens, a unit in brackets and a
    required-field star are how people write headers, not what they mean."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text)).strip().rstrip("*:").strip()
    return _SEPARATORS.sub("_", _UNIT_IN_BRACKETS.sub("", text)).strip("_").lower()


def field_title(name: str, info: FieldInfo) -> str:
    """'Budget' for budget_eur (unit EUR): the header a person reads in a template. The field's
    own title when the schema gives one, else its name in words without the unit (a header
    shows the unit in brackets). `header_names` maps it back, so titles stay machine-readable."""
    if info.title:
        return info.title
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = normalise_header(extra.get(UNIT, ""))
    stem = name[: -len(unit) - 1] if unit and name.endswith("_" + unit) else name
    words = stem.replace("_", " ")
    return words[:1].upper() + words[1:]


@functools.cache
def header_names(model: type[BaseModel]) -> dict[str, str]:
    """Header (normalised, underscores dropped) → field. Besides the name itself ('E-mail' is
    email) and its title, a field named after its unit answers to the name without it: 'Budget
    (EUR)' and 'Budget' are budget_eur, 'Floor area (m²)' is floor_area_m2 (unless two fields
    share it)."""
    stems: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        stems.setdefault(normalise_header(field_title(name, info)).replace("_", ""), []).append(name)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unit = normalise_header(extra.get(UNIT, ""))
        if unit and name.endswith("_" + unit):
            stems.setdefault(name[: -len(unit) - 1].replace("_", ""), []).append(name)
    names = {stem: fields[0] for stem, fields in stems.items() if len(set(fields)) == 1}
    return names | {name.replace("_", ""): name for name in model.model_fields}


def resolve_header(header: Sequence[str], model: type[BaseModel]) -> list[str]:
    """Each normalised header as the field it names, or unchanged if it names none."""
    known = header_names(model)
    return [known.get(h.replace("_", ""), h) if h else h for h in header]


# -- kind detection ----------------------------------------------------------------------
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
    carries (even a kind the milestone does not expect: the caller says so), the file name,
    then the column headers."""
    from wpflow.metadata import read_metadata

    suffix = Path(name).suffix.lower()
    claimed = read_metadata(path, suffix).get("kind")
    if claimed in INPUT_KINDS:
        return claimed
    return detect_kind(Path(name), expected) or kind_from_headers(path, suffix, expected)


def kind_from_headers(path: Path, suffix: str, expected: Sequence[str] = ()) -> str | None:
    """The row kind whose required columns all appear in the header row, else the one sharing
    most columns with it (at least two, and no tie); None for documents or unreadable files."""
    try:
        header = read_table(path, suffix)[1]
    except Exception:  # noqa: BLE001 - unreadable: validation says why
        return None
    scores = []
    for kind_id in expected or INPUT_KINDS:
        spec = INPUT_KINDS[kind_id]
        if spec.shape != "rows":
            continue
        fields = spec.model.model_fields
        found = set(resolve_header(header, spec.model)) & set(fields)
        required = {n for n, f in fields.items() if f.is_required()}
        scores.append(((required <= found, len(found)), kind_id))
    scores.sort(reverse=True)
    if not scores or scores[0][0][1] < 2 or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return None
    return scores[0][1]


# -- readers -----------------------------------------------------------------------------
def read_table(path: Path, suffix: str, sheet: str | None = None) -> tuple[str | None, list[str], Rows]:
    """(sheet, normalised header, rows) of a table file. The format comes from the partner's
    file name (`suffix`): archived copies are named by hash and have none. `sheet` is the
    kind's sheet name, read if the workbook has it."""
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path, sheet)
    if suffix in CSV_SUFFIXES:
        return None, *_read_csv(path)
    if suffix == ".json":
        return None, *_read_json_rows(path)
    if suffix == ".docx":
        return None, *_read_docx_table(path)
    raise Unreadable(f"files of type {suffix or '(none)'} are not read as tables; send XLSX, CSV or JSON")


def _read_workbook(path: Path, wanted: str | None) -> tuple[str | None, list[str], Rows]:
    """The kind's sheet, else the first data sheet (not the hidden metadata, not a template's
    instructions). A generated template's headers are read through its own field list."""
    from python_calamine import CalamineWorkbook, PasswordError

    from wpflow.metadata import INSTRUCTIONS_SHEET, METADATA_SHEET, template_headers

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        sheet = next((n for n in names if wanted and n.casefold() == wanted.casefold()), None) or next(
            (n for n in names if not n.startswith("_") and n != INSTRUCTIONS_SHEET), None)
        data = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False) if sheet else []
        fields = (template_headers(workbook.get_sheet_by_name(METADATA_SHEET).to_python())
                  if METADATA_SHEET in names and data else {})
    except PasswordError:
        raise Unreadable("is password-protected; remove the password and send it again") from None
    except Exception as exc:  # noqa: BLE001 - calamine's errors are many; all mean the same to a partner
        raise Unreadable(f"is damaged or not a spreadsheet ({exc.__class__.__name__}); "
                         "save it again from the original program") from None
    if not data:
        return sheet, [], []
    header = [normalise_header(h) for h in data[0]]
    header = [fields.get(h, h) for h in header] if fields else header
    return sheet, header, [(i + 2, r) for i, r in enumerate(data[1:])]


def _read_csv(path: Path) -> tuple[list[str], Rows]:
    """(normalised header, [(row number as a spreadsheet shows it, cells)]); annotated copies
    of CSV files use it too, so their row numbers match the issues'."""
    text = decode_text(path.read_bytes())
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)))
    except csv.Error as exc:
        raise Unreadable(f"is not a readable CSV file ({exc}); save it again as CSV") from None
    if not rows:
        return [], []
    return [normalise_header(h) for h in rows[0]], [(i + 2, r) for i, r in enumerate(rows[1:])]


def _read_json_rows(path: Path) -> tuple[list[str], Rows]:
    data = _load_json(path)
    items = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Unreadable('is not a list of rows; send [{"column": value, ...}, ...] or {"rows": [...]}')
    if not items:
        raise Unreadable("contains no data rows")
    odd = next((i + 1 for i, item in enumerate(items) if not isinstance(item, dict)), None)
    if odd is not None:
        raise Unreadable(f'row {odd} is not a set of columns; every row must look like {{"column": value, ...}}')
    header = list(dict.fromkeys(k for item in items for k in item))
    rows = [(i + 1, [item.get(h) for h in header]) for i, item in enumerate(items)]  # row 1: the first item
    return [normalise_header(h) for h in header], rows


def _read_docx_table(path: Path) -> tuple[list[str], Rows]:
    """The first table of a Word file: its first row names the columns."""
    table = next((t for t in _open_docx(path).tables if t.rows), None)
    if table is None:
        raise Unreadable("has no table; put the rows in a Word table whose first row names the columns, "
                         "or send XLSX or CSV")
    cells = _table_cells(table)
    return [normalise_header(h) for h in cells[0]], [(i + 2, r) for i, r in enumerate(cells[1:])]


def _load_json(path: Path) -> Any:
    try:
        return json.loads(decode_text(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise Unreadable(f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise Unreadable("is nested too deeply to be rows or a document") from None


# -- text: encodings and CSV dialects ----------------------------------------------------
def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's 'Unicode text'), else the Windows
    code page whose letters fit the bytes best (see `legacy_encoding`)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if b"\0" in raw[:4096]:
        raise Unreadable("is not a text file (perhaps a spreadsheet under a text file's name); "
                         "send it under its own name, e.g. .xlsx")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    first = legacy_encoding(raw)
    for encoding in (first, "cp1252" if first == "cp1257" else "cp1257"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable("cannot be decoded as UTF-8, Windows-1252 or Windows-1257; save it as 'CSV UTF-8'")


# Bytes that are Latvian, Lithuanian or Polish letters in cp1257 (ą ā ć ē č ź ė ģ ķ ī ļ š ń ņ ł ś ū
# ż ž and capitals) but accented letters Nordic and German texts do not use in cp1252 (à â ã ç è
# ê …); and bytes that are Nordic letters or Estonian/Finnish š ž in cp1252 (æ ø Æ Ø Š š Ž ž) but
# ę ų or nothing in cp1257. Bytes both code pages read alike (ä å é ó õ ö ü) decide nothing.
_BALTIC = (b"\xe0\xe2\xe3\xe7\xe8\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf9\xfa\xfb\xfd\xfe"
           b"\xc0\xc2\xc3\xc7\xc8\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd9\xda\xdb\xdd\xde")
_WESTERN = b"\xe6\xf8\xc6\xd8\x8a\x9a\x8e\x9e"


def legacy_encoding(raw: bytes) -> str:
    """cp1257 (Baltic) or cp1252 (Western) for a file that is not UTF-8, by which code page's
    distinctive letters it holds more of: 'Rīga' and 'Łódź' from Riga's or Kaunas' system,
    'Tromsø' and 'Malmö' from Oslo's or Malmö's. Counted in C (`bytes.translate`), not per byte."""
    baltic = len(raw) - len(raw.translate(None, _BALTIC))
    western = len(raw) - len(raw.translate(None, _WESTERN))
    return "cp1257" if baltic > western else "cp1252"


def sniff_delimiter(text: str) -> str:
    """`;`, tab or `,`: the one that splits the header into at least two columns and the next
    lines into as many. The header decides where lines differ, since a header holds no decimal
    comma ('1 250,50' in a `;` file); ties go to `;`, the European default."""
    sample = list(itertools.islice(io.StringIO(text), 6))
    best, best_score = ";", (0, 0)
    for delimiter in (";", "\t", ","):
        try:
            counts = [len(r) for r in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = (sum(c == counts[0] for c in counts if c), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


# -- cells -------------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?[\d.,]+")
_CURRENCY = re.compile(r"(?i)\s*(eur|€)$")
_DECIMAL_COMMA = re.compile(r",\d{1,2}$")
_THOUSANDS_COMMA = re.compile(r",\d{3}$")


def parse_number(text: str) -> float | None:
    """'1 250 000,50', '1.250.000,50', '1,250,000.50', '750000' → float; anything else None."""
    if text.isascii() and text.lstrip("+-").replace(".", "", 1).isdigit():  # '750000', '2.5': no regex
        try:
            return float(text)
        except ValueError:
            pass
    t = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    t = _CURRENCY.sub("", t)
    if not _NUMBER.fullmatch(t):
        return None
    if "," in t and "." in t:
        t = t.replace(".", "").replace(",", ".") if t.rfind(",") > t.rfind(".") else t.replace(",", "")
    elif "," in t:
        decimal = _DECIMAL_COMMA.search(t) or t.count(",") == 1 and not _THOUSANDS_COMMA.search(t)
        t = t.replace(",", ".") if decimal else t.replace(",", "")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    try:
        return float(t)
    except ValueError:
        return None


_ISO_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_DAY_MONTH_DATE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")


def parse_date(text: str) -> tuple[dt.date | None, bool]:
    """(date, ambiguous) from `31.12.2005`, `2005-12-31`, `12/31/2005` or `31/12/2005`. Where
    day and month could be swapped (`03/04/2005`) the European reading (day first) wins and
    `ambiguous` is True so the partner is told how it was read. Two-digit years are refused:
    '05' is 1905 to some programs and 2005 to others."""
    text = text.strip()
    try:
        if match := _ISO_DATE.fullmatch(text):
            return dt.date(*(int(g) for g in match.groups())), False
        if match := _DAY_MONTH_DATE.fullmatch(text):
            a, sep, b, year = int(match[1]), match[2], int(match[3]), int(match[4])
            if sep == "/" and b > 12:  # 12/31/2005: American, month first
                return dt.date(year, a, b), False
            return dt.date(year, b, a), sep == "/" and a <= 12 and a != b
    except ValueError:
        pass
    return None, False


def _base_types(annotation: Any) -> set[type]:
    args = getattr(annotation, "__args__", None)
    if args:
        return {a for a in args if isinstance(a, type)}
    return {annotation} if isinstance(annotation, type) else set()


def _to_text(value: Any) -> Any:
    """Text as typed (blank → None); a number Excel made of typed digits (a phone number,
    a year) back to those digits, not '67000000.0'."""
    if value.__class__ is str:
        return value.strip() or None
    if value is None:
        return None
    if value.__class__ is float and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return format_cell(value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _to_float(value: Any) -> Any:
    if value.__class__ is str:
        text = value.strip()
        if not text:
            return None
        number = parse_number(text)
        return text if number is None else number
    return value  # a number already, or something the model will refuse in its own words


def _to_int(value: Any) -> Any:
    value = _to_float(value)
    return int(value) if value.__class__ is float and value.is_integer() else value


def _to_bool(value: Any) -> Any:
    if value.__class__ is str:
        low = value.strip().lower()
        if not low:
            return None
        return True if low in TRUE else False if low in FALSE else value.strip()
    return value


def _to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # calamine gives Excel dates with a time as datetime
        return value.date()
    if value.__class__ is str:
        text = value.strip()
        return (parse_date(text)[0] or text) if text else None
    return value


def converter(annotation: Any) -> Callable[[Any], Any]:
    """How a cell becomes the field's value, chosen once per column rather than once per cell
    (2.5 million cells at 500 partners)."""
    kinds = _base_types(annotation)
    if bool in kinds:
        return _to_bool
    if float in kinds:
        return _to_float
    if int in kinds:
        return _to_int
    if dt.date in kinds:
        return _to_date
    return _to_text


def _is_blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and not value.strip())


# -- messages ----------------------------------------------------------------------------
DATE_HINT = "write dates as 31.12.2005 or 2005-12-31"
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
    "too_short": "needs at least {min_length}",
    "date_from_datetime_parsing": f"is not a date; {DATE_HINT}",
    "date_parsing": f"is not a date; {DATE_HINT}",
    "date_from_datetime_inexact": "has a time of day; give the date only",
    "extra_forbidden": "is not a field of this input",
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_type": "must be a set of fields",
}


def plain_message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if err.get("input", "") is None and kind.endswith("_type"):  # an empty cell in a required column
        return "is required"
    if kind == "literal_error":
        return "must be one of: " + err["ctx"]["expected"].replace("'", "")
    if kind in MESSAGES:
        return MESSAGES[kind].format(**{k: format_cell(v) for k, v in err.get("ctx", {}).items()})
    text = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    # a model's own message may start with the value, which the receipt already shows
    return text.removeprefix(f"{value!r} ") if isinstance(value, str) else text


def format_cell(value: Any) -> str:
    """A value as a partner wrote it: yes/no, and 5 rather than Excel's 5.0."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


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
    gated: bool = False,
) -> ValidationResult:
    """Never raises for bad input: every problem is an Issue in the result. `display_name` is
    the partner's file name (for messages and its suffix; never opened). `city` and `region`
    (the partner's metropolitan region) let a location elsewhere be flagged as a warning.
    `gated`: `wpflow.gate.gate_file` accepted the file already, so its checks are not repeated."""
    path = Path(path)
    name = display_name or path.name
    suffix = Path(name).suffix.lower()
    detected = kind is None
    try:
        if not gated:
            check_container(path, suffix, max_bytes)  # before any parser, kind detection included
        kind = kind or kind_of(path, name, expected)
        if kind is None:
            return _failed(name, None, unknown_kind_message(expected))
        spec = INPUT_KINDS[kind]
        if detected and expected and kind not in expected:
            return _failed(name, kind, f"is the template for {spec.label} ({kind}), which this milestone does not "
                                       f"ask for; it expects: {', '.join(expected)}")
        if spec.shape == "document":
            return _validate_document(path, name, spec, suffix)
        sheet, header, rows = read_table(path, suffix, spec.sheet)
    except Unreadable as exc:
        return _failed(name, kind or detect_kind(Path(name), expected), str(exc))
    except (OSError, ValueError, RecursionError) as exc:
        return _failed(name, kind, f"cannot be read ({exc.__class__.__name__}: {exc})")
    result = validate_rows(name, spec, sheet, header, rows, city=city, region=region)
    if suffix == ".json":
        for issue in result.issues:
            issue.column = None  # JSON has no columns; the field says where
    return result


def unknown_kind_message(expected: Sequence[str]) -> str:
    wanted = list(expected or INPUT_KINDS)
    return (f"cannot tell which input this is: no template sheet, file name or column names say so; "
            f"the milestone expects: {', '.join(wanted)}. Put one of these in the file name, "
            f"e.g. {wanted[0]}_yourcity")


def _failed(name: str, kind: str | None, message: str) -> ValidationResult:
    return ValidationResult(file=name, kind=kind, issues=[Issue(file=name, message=message)])


def validate_rows(name: str, spec: InputKind, sheet: str | None, header: list[str], rows: Rows, *,
                  city: str | None = None, region: Sequence[str] = ()) -> ValidationResult:
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
    valid, read, first_seen = [], 0, {}
    for (number, _), values in zip(rows, zip(*columns) if columns else ()):
        if values.count(None) == len(values):
            continue
        read += 1
        try:
            seen = first_seen.setdefault(values, number)
        except TypeError:  # a JSON row holding a list or an object: the model refuses it anyway
            seen = number
        if seen != number:
            issues.append(Issue(file=name, sheet=sheet, row=number, severity="warning",
                                message=f"is the same as row {seen}; delete one if it is a copy"))
        record = dict(zip(names, values))
        try:
            valid.append(spec.model.model_validate(record).model_dump(mode="json"))
        except ValidationError as exc:
            for err in exc.errors():
                field_name = err["loc"][0] if err["loc"] else None
                col = column_letter(position[field_name]) if field_name in position else None
                value = record.get(field_name) if field_name else None
                issues.append(Issue(file=name, sheet=sheet, row=number, column=col, field=field_name,
                                    value=None if value is None else format_cell(value), message=plain_message(err)))
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
        return [Issue(file=name, sheet=sheet, row=1, message=f"has no column names in its first row; "
                                                            f"name the columns: {expected}")]
    issues, seen = [], {}
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
    issues += [Issue(file=name, sheet=sheet, row=1, field=f, message="required column is missing")
               for f, info in fields.items() if info.is_required() and f not in seen]
    return issues


def unnamed_column_warnings(name: str, sheet: str | None, header: list[str], rows: Rows) -> list[Issue]:
    """Values in a column without a name are not read: say so rather than drop them quietly
    (often a partner's side notes, sometimes data whose header was deleted)."""
    width = len(header)
    unnamed = [i for i, h in enumerate(header) if not h]
    beyond = {i for _, cells in rows if len(cells) > width for i in range(width, len(cells))}
    warnings = []
    for i in sorted({*unnamed, *beyond}):
        first = next((n for n, cells in rows if i < len(cells) and not _is_blank(cells[i])), None)
        if first is not None:
            warnings.append(Issue(file=name, sheet=sheet, row=1, column=column_letter(i), severity="warning",
                                  message=f"has no column name, so its values (from row {first}) were not read; "
                                          "name the column or delete it"))
    return warnings


def date_warnings(name: str, spec: InputKind, sheet: str | None, position: dict[str, int], rows: Rows) -> list[Issue]:
    """A warning for each date cell whose day and month could be read either way."""
    fields = spec.model.model_fields
    warnings = []
    for field_name, at in position.items():
        if dt.date not in _base_types(fields[field_name].annotation):
            continue
        for number, cells in rows:
            value = cells[at] if at < len(cells) else None
            if isinstance(value, str) and (warning := _ambiguous_date(name, field_name, value)):
                warnings.append(warning.model_copy(update={"sheet": sheet, "row": number, "column": column_letter(at)}))
    return warnings


def _ambiguous_date(name: str, field_name: str, text: str) -> Issue | None:
    parsed, ambiguous = parse_date(text)
    if not ambiguous:
        return None
    return Issue(file=name, field=field_name, value=text.strip(), severity="warning",
                 message=f"could be read either way; read as {parsed:%d %B %Y} (day first). {DATE_HINT.capitalize()}")


def count_warnings(name: str, spec: InputKind, sheet: str | None, valid: list[dict[str, Any]],
                   read: int) -> list[Issue]:
    """The numbers a milestone asks for: rows per partner (`rows_per_partner`), and rows with a
    value (three clusters proposed per region)."""
    warnings = []
    low, high = spec.rows_per_partner
    if high is not None and read > high:
        warnings.append(Issue(file=name, sheet=sheet, severity="warning",
                              message=f"has {read} rows; the milestone asks for at most {high}"))
    if low is not None and 0 < read < low:
        warnings.append(Issue(file=name, sheet=sheet, severity="warning",
                              message=f"has {read} rows; the milestone asks for at least {low}"))
    if spec.quota is not None and valid:
        column, value, expected = spec.quota
        count = sum(1 for row in valid if row.get(column) == value)
        if count != expected:
            rows_have = "row has" if count == 1 else "rows have"
            warnings.append(Issue(file=name, sheet=sheet, field=column, severity="warning",
                                  message=f"{count} {rows_have} {column} = {format_cell(value)}; "
                                          f"the milestone asks for {expected}"))
    return warnings


def _plain(text: str) -> str:
    """'Malmö', 'malmo' and 'MALMÖ ' alike: partners type place names with and without diacritics."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.strip().casefold()) if not unicodedata.combining(c))


def location_warnings(name: str, sheet: str | None, position: dict[str, int], rows: Rows,
                      city: str, region: Sequence[str]) -> list[Issue]:
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
            warnings.append(Issue(file=name, sheet=sheet, row=number, column=column_letter(at), field="location",
                                  value=value.strip(), severity="warning",
                                  message=f"is outside {city}'s metropolitan region ({', '.join(places)}); "
                                          "is this row for another partner?"))
    return warnings


# -- documents ---------------------------------------------------------------------------
def _validate_document(path: Path, name: str, spec: InputKind, suffix: str) -> ValidationResult:
    if suffix == ".json":
        data = _load_json(path)
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


SECTIONS_HINT = "; give each part a heading (Heading 1 in Word, # in Markdown)"


def validate_document(name: str, model: type[BaseModel], kind: str, data: dict) -> ValidationResult:
    warnings = read_dates(name, model, data)
    try:
        doc = model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        issues = [Issue(file=name, field=".".join(str(p) for p in err["loc"]) or None,
                        value=None if isinstance(err.get("input"), (dict, list)) else str(err.get("input")),
                        message=plain_message(err) + (SECTIONS_HINT if err["loc"] == ("sections",) else ""))
                  for err in exc.errors()]
        return ValidationResult(file=name, kind=kind, issues=issues + warnings)
    return ValidationResult(file=name, kind=kind, document=doc, rows_read=1, issues=warnings)


def read_dates(name: str, model: type[BaseModel], data: dict) -> list[Issue]:
    """Turn the document's date fields given as text (or as a date with a time) into dates, in
    place; a warning for each date whose day and month could be read either way."""
    warnings = []
    for field_name, info in model.model_fields.items():
        value = data.get(field_name)
        if dt.date not in _base_types(info.annotation) or value is None:
            continue
        data[field_name] = _to_date(value)
        if isinstance(value, str) and (warning := _ambiguous_date(name, field_name, value)):
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


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)


def markdown_document(text: str) -> dict:
    """Front matter (YAML between `---` lines) holds the typed fields; `#` headings split the
    body into sections; a first `#` heading is the title if the front matter gives none."""
    meta: dict = {}
    body = text
    if text.startswith("---"):
        match = _FRONT_MATTER.match(text)
        if match is None:
            raise Unreadable("has front matter (--- on line 1) that no --- line closes")
        meta, body = front_matter(match[1]), text[match.end():]
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


def _open_docx(path: Path):
    from docx import Document

    try:
        return Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for one meaning
        raise Unreadable(f"is damaged or not a Word file ({exc.__class__.__name__}); "
                         "save it again as .docx from the original program") from None


def _table_cells(table) -> list[list[str]]:
    return [[cell.text.strip() for cell in row.cells] for row in table.rows]


def _docx_document(path: Path) -> dict:
    """Title (the Title style), then sections: each Heading with the paragraphs and tables under
    it. Text before the first heading is the template's instructions and is not read."""
    from docx.table import Table

    data: dict = {}
    sections: list[dict] = []
    for block in _open_docx(path).iter_inner_content():
        if isinstance(block, Table):
            if sections:
                sections[-1]["rows"] += _table_cells(block)
            continue
        style = (block.style.name or "") if block.style is not None else ""
        words = block.text.strip()
        if style == "Title":
            data["title"] = words
        elif style.startswith("Heading"):
            sections.append({"heading": words, "paragraphs": [], "rows": []})
        elif words and sections:
            sections[-1]["paragraphs"].append(words)
    data["sections"] = [{"heading": s["heading"], "text": "\n\n".join(s["paragraphs"]), "rows": s["rows"]}
                        for s in sections]
    return data
