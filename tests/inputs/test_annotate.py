"""The annotated copy: the partner's own cells filled and commented, and a Problems sheet —
asserted with openpyxl on what validation really reports for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.kinds import KINDS
from wpflow.inputs.annotate import FILLS, PROBLEMS, write_annotated_copy
from wpflow.inputs.validate import validate_file

HEADER = ["name", "provider", "level", "instrument", "budget_eur"]
ROWS = [
    ["Riga Seed", "Riga City Council", "municipal", "grant", 1_000_000],
    ["Baltic Fund", "LIAA", "city", "grant", "about 2 mio"],  # row 3: C and E wrong
    ["Startup Riga", "Riga City Council", "municipal", "loan", -5],  # row 4: E negative
]


def xlsx(path: Path) -> Path:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Schemes"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    wb.save(path)
    return path


def csv(path: Path) -> Path:
    lines = [";".join(HEADER)] + [";".join(str(c) for c in row) for row in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="cp1257")
    return path


def annotate(path: Path, tmp_path: Path):
    result = validate_file(path, "seed_funding", kinds=KINDS)
    assert not result.valid
    out = write_annotated_copy(path, result, tmp_path / "annotated.xlsx", KINDS["seed_funding"])
    return result, load_workbook(out)


def fill(cell) -> str:
    return cell.fill.start_color.rgb[-6:] if cell.fill and cell.fill.fill_type == "solid" else ""


@pytest.mark.parametrize(("maker", "sheet"), [(xlsx, "Schemes"), (csv, "Schemes")], ids=["xlsx", "csv"])
def test_bad_cells_are_red_and_say_why(tmp_path, maker, sheet):
    source = maker(tmp_path / f"seed_funding.{maker.__name__}")
    _result, wb = annotate(source, tmp_path)
    data = wb[sheet]
    red = FILLS["error"].start_color.rgb[-6:]
    assert {(c.row, c.column_letter) for row in data.iter_rows() for c in row if fill(c) == red} == {
        (3, "C"),
        (3, "E"),
        (4, "E"),
    }
    assert "must be one of" in data["C3"].comment.text and "is not a number" in data["E3"].comment.text
    assert "at least 0" in data["E4"].comment.text
    assert data["A2"].comment is None and fill(data["A2"]) == ""
    assert data["A3"].value == "Baltic Fund"  # the partner's own data, untouched
    assert wb.sheetnames[0] == PROBLEMS and wb.active.title == PROBLEMS


def test_problems_sheet_lists_every_issue_in_order(tmp_path):
    result, wb = annotate(xlsx(tmp_path / "seed_funding.xlsx"), tmp_path)
    rows = list(wb[PROBLEMS].iter_rows(values_only=True))
    assert rows[0] == ("Severity", "Sheet", "Row", "Column", "Field", "Value", "Message")
    assert [(r[0], r[2], r[3], r[4]) for r in rows[1:]] == [
        (i.severity, i.row, i.column, i.field) for i in result.issues
    ]
    assert wb[PROBLEMS].freeze_panes == "A2" and wb[PROBLEMS].auto_filter.ref.startswith("A1:G")


def test_several_issues_on_one_cell_share_one_comment(tmp_path):
    from schemas.records import Issue, ValidationResult

    source = xlsx(tmp_path / "seed_funding.xlsx")
    issues = [
        Issue(file=source.name, sheet="Schemes", row=2, column="E", field="budget_eur", message="first"),
        Issue(
            file=source.name,
            sheet="Schemes",
            row=2,
            column="E",
            field="budget_eur",
            message="second",
            severity="warning",
        ),
        Issue(file=source.name, sheet="Schemes", row=1, field="since", message="required column is missing"),
        Issue(file=source.name, sheet="Schemes", row=99, column="ZZ", message="beyond the data"),
    ]
    out = write_annotated_copy(
        source,
        ValidationResult(file=source.name, kind="seed_funding", issues=issues),
        tmp_path / "a.xlsx",
        KINDS["seed_funding"],
    )
    wb = load_workbook(out)
    assert wb["Schemes"]["E2"].comment.text == "error: first\nwarning: second"
    assert fill(wb["Schemes"]["E2"]) == FILLS["error"].start_color.rgb[-6:]
    assert wb[PROBLEMS].max_row == 5  # header + 4: cell-less issues are listed too


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("seed_funding.json", b'[{"name": "Riga Seed", "budget_eur": "lots"}]'),
        ("progress_narrative.md", b"no front matter\n"),
    ],
)
def test_formats_without_cells_get_a_problems_only_workbook(tmp_path, name, data):
    source = tmp_path / name
    source.write_bytes(data)
    result = validate_file(source, kinds=KINDS)
    assert not result.valid
    wb = load_workbook(write_annotated_copy(source, result, tmp_path / "a.xlsx", KINDS.get(result.kind or "")))
    assert wb.sheetnames == [PROBLEMS]
    assert [r[6] for r in wb[PROBLEMS].iter_rows(min_row=2, values_only=True)] == [i.message for i in result.issues]


def test_archived_workbook_named_by_hash_is_annotated(tmp_path):
    """The pipeline passes the archive copy (`archive/<sha256>`, no suffix): openpyxl must not
    refuse it for its name."""
    archived = tmp_path / "3f2a9c"
    archived.write_bytes(xlsx(tmp_path / "seed_funding.xlsx").read_bytes())
    result = validate_file(archived, display_name="seed_funding_riga.xlsx", kinds=KINDS)
    wb = load_workbook(write_annotated_copy(archived, result, tmp_path / "a.xlsx", KINDS.get(result.kind or "")))
    assert "is not a number" in wb["Schemes"]["E3"].comment.text


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("seed_funding.xlsx", b"PK\x03\x04garbage"),  # damaged or password-protected
        ("seed_funding.csv", b"\x81\x8d\x8f\x90\x9d"),  # undecodable
    ],
)
def test_unreadable_files_get_a_problems_only_workbook(tmp_path, name, data):
    from schemas.records import Issue, ValidationResult

    archived = tmp_path / "archived"
    archived.write_bytes(data)
    result = ValidationResult(file=name, kind="seed_funding", issues=[Issue(file=name, message="cannot be read")])
    wb = load_workbook(write_annotated_copy(archived, result, tmp_path / "a.xlsx", KINDS.get(result.kind or "")))
    assert wb.sheetnames == [PROBLEMS] and wb[PROBLEMS].max_row == len(result.issues) + 1


def test_partner_text_stays_text(tmp_path):
    """A CSV cell or offending value that looks like a formula must not come back live, and a
    control character must not make the save fail."""
    source = tmp_path / "seed_funding.csv"
    source.write_text(
        'name;provider;level;instrument;budget_eur\n=HYPERLINK("http://x");RCC;city;grant;=1+1\n'
        "Bad\x01name;RCC;municipal;grant;5\n",
        encoding="utf-8",
    )
    result = validate_file(source, kinds=KINDS)
    wb = load_workbook(write_annotated_copy(source, result, tmp_path / "a.xlsx", KINDS.get(result.kind or "")))
    data = wb["Schemes"]
    assert (data["A2"].value, data["A2"].data_type) == ('=HYPERLINK("http://x")', "s")
    assert data["A3"].value == "Badname"
    values = {c.value: c.data_type for c in wb[PROBLEMS]["F"]}
    assert values["=1+1"] == "s"


def test_merged_and_off_grid_cells_never_fail(tmp_path):
    from schemas.records import Issue, ValidationResult

    source = xlsx(tmp_path / "seed_funding.xlsx")
    wb = load_workbook(source)
    wb["Schemes"].merge_cells("B2:C2")
    wb.save(source)
    issues = [
        Issue(file=source.name, sheet="Schemes", row=2, column="C", message="in a merged range"),
        Issue(file=source.name, sheet="Schemes", row=2_000_000, column="A", message="below the grid"),
        Issue(file=source.name, sheet="Schemes", row=2, column="ZZZZ", message="right of the grid"),
    ]
    out = write_annotated_copy(
        source,
        ValidationResult(file=source.name, kind="seed_funding", issues=issues),
        tmp_path / "a.xlsx",
        KINDS["seed_funding"],
    )
    wb = load_workbook(out)
    assert wb["Schemes"]["B2"].comment.text == "error: in a merged range"
    assert wb[PROBLEMS].max_row == 4
