"""Bounded expansion: what a partner file unpacks to and how many rows a sheet or CSV holds are
refused at the gate with the file, the sheet and the limit; large sheets are streamed, and read
exactly as python-calamine reads them; an annotated copy is never a workbook loaded past its bound."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from tests.conftest import BUNDLED_PROJECT
from wpflow.cli.app import app
from wpflow.inputs.annotate import PROBLEMS, write_annotated_copy
from wpflow.inputs.gate import gate_file
from wpflow.inputs.readers import read_table, stream_sheet
from wpflow.inputs.safety import InputLimits, Unreadable
from wpflow.inputs.sheet_extent import sheet_extents
from wpflow.inputs.validate import validate_file
from wpflow.project.load import load_project

KINDS = load_project(BUNDLED_PROJECT).input_kinds

SEED = ["name", "provider", "level", "instrument", "budget_eur", "ticket_min_eur", "ticket_max_eur", "since"]


def seed_rows(n: int, seed: int = 7) -> list[list]:
    rng = random.Random(seed)
    return [
        [
            f"Scheme {i}",
            rng.choice(["City", "Agency", "Fund"]),
            rng.choice(["municipal", "national", "EU"]),
            rng.choice(["grant", "loan", "equity"]),
            rng.randint(1, 500) * 10_000,
            5_000,
            rng.choice([50_000, 75_000.5]),
            rng.randint(1990, 2006),
        ]
        for i in range(n)
    ]


def workbook(path: Path, rows: list[list], *, sheet: str = "Schemes", header: list | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header or SEED)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


# -- the gate ------------------------------------------------------------------------------
def test_a_workbook_unpacking_past_the_bound_is_refused_by_the_gate(tmp_path):
    path = workbook(tmp_path / "seed_funding_riga.xlsx", seed_rows(3000))
    unpacked = sum(m.file_size for m in zipfile.ZipFile(path).infolist())
    limits = InputLimits(max_unpacked_bytes=unpacked // 2)

    verdict = gate_file(path, limits=limits)

    assert not verdict.accepted and verdict.unreadable
    assert verdict.file == "seed_funding_riga.xlsx"
    assert verdict.reason is not None and verdict.reason.startswith("would unpack to ")
    assert "KB a partner file may hold" in verdict.reason and "split the data into several files" in verdict.reason
    assert gate_file(path, limits=InputLimits(max_unpacked_bytes=unpacked)).accepted


def test_a_sheet_over_the_row_bound_is_refused_naming_file_sheet_and_limit(tmp_path):
    path = workbook(tmp_path / "seed_funding_riga.xlsx", seed_rows(30))
    verdict = gate_file(path, limits=InputLimits(max_rows=20))

    assert not verdict.accepted and verdict.code == "unreadable" and verdict.sheet == "Schemes"
    assert verdict.reason == (
        "sheet 'Schemes' has data below row 21: more than the 20 rows a partner file may have under its "
        "header; split it into several files, or delete what is below the data"
    )
    issue = verdict.result(KINDS, ["seed_funding"]).issues[0]
    assert (issue.file, issue.sheet, issue.row) == ("seed_funding_riga.xlsx", "Schemes", None)
    assert str(issue).startswith("seed_funding_riga.xlsx")
    assert gate_file(path, limits=InputLimits(max_rows=30)).accepted  # 30 rows under the header: at the limit


def test_formatted_empty_rows_below_the_data_do_not_count(tmp_path):
    from openpyxl.styles import PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Schemes"
    ws.append(SEED)
    for row in seed_rows(5):
        ws.append(row)
    for r in range(7, 200):  # a partner who coloured a column all the way down
        ws.cell(row=r, column=1).fill = PatternFill("solid", start_color="FFFF00")
    wb.save(tmp_path / "seed_funding.xlsx")

    assert [(e.rows, e.columns) for e in sheet_extents(tmp_path / "seed_funding.xlsx")] == [(6, 8)]
    assert gate_file(tmp_path / "seed_funding.xlsx", limits=InputLimits(max_rows=10)).accepted


def test_every_sheet_is_measured_not_only_the_one_read(tmp_path):
    path = tmp_path / "seed_funding.xlsx"
    wb = Workbook()
    wb.active.title = "Schemes"
    wb.active.append(SEED)
    notes = wb.create_sheet("Notes")
    for i in range(50):
        notes.append([f"note {i}"])
    wb.save(path)

    verdict = gate_file(path, limits=InputLimits(max_rows=40))
    assert verdict.sheet == "Notes" and "sheet 'Notes' has data below row 41" in (verdict.reason or "")


@pytest.mark.parametrize(
    ("cells", "extent"),
    [
        (
            '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row><x:row r="7"><x:c r="C7"><x:v>2</x:v></x:c></x:row>',
            (7, 3),
        ),
        ('<row><c t="s"><v>0</v></c><c><v>1</v></c></row><row/><row><c/><c/><c><v>2</v></c><c s="1"/></row>', (3, 3)),
        ('<row r="2"><c r="B2"><v>1</v></c></row><row r="9"><c r="D9" s="1"></c></row>', (2, 2)),
    ],
    ids=["prefixed", "without-references", "formatted-only-below"],
)
def test_sheets_are_measured_however_their_cells_are_written(tmp_path, cells, extent):
    """Namespace prefixes and cells without an `r` (both allowed) take the tag-by-tag scan."""
    path = tmp_path / "written-elsewhere.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            '<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Data &amp; notes" sheetId="1" r:id="rId3"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships><Relationship Id="rId3" Target="/xl/worksheets/data.xml" Type="worksheet"/></Relationships>',
        )
        z.writestr("xl/worksheets/data.xml", f"<worksheet><sheetData>{cells}</sheetData></worksheet>")
    [found] = sheet_extents(path)
    assert (found.name, found.part, (found.rows, found.columns)) == ("Data & notes", "xl/worksheets/data.xml", extent)


def test_a_value_far_right_is_refused_before_any_reader_builds_a_dense_grid(tmp_path):
    path = tmp_path / "seed_funding.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Schemes"
    ws.append(SEED)
    ws["XFD20"] = "stray"  # python-calamine would hold 20 × 16 384 cells; at row 20 000, 10 GB
    wb.save(path)

    verdict = gate_file(path)
    assert verdict.sheet == "Schemes"
    assert verdict.reason == (
        "sheet 'Schemes' has data right of column IV: more than the 256 columns a partner file may have; "
        "delete what is right of the data"
    )
    with pytest.raises(Unreadable, match="right of column IV"):
        read_table(path, ".xlsx", "Schemes")


def test_a_csv_over_the_row_bound_is_refused_by_the_gate(tmp_path):
    path = tmp_path / "seed_funding_tallinn.csv"
    lines = [";".join(SEED)] + [f"Scheme {i};City;municipal;grant;1000;;;" for i in range(25)]
    path.write_text("\n".join(lines) + "\n", encoding="cp1257")

    verdict = gate_file(path, limits=InputLimits(max_rows=24))
    assert not verdict.accepted and verdict.sheet is None
    assert verdict.reason == (
        "has more than the 24 rows a partner file may have under its header; split it into several files"
    )
    assert gate_file(path, limits=InputLimits(max_rows=25)).accepted


def test_quoted_line_breaks_are_one_record_not_many(tmp_path):
    path = tmp_path / "seed_funding.csv"
    rows = [f'"Scheme {i}\nsecond line\nthird line";City;municipal;grant;1000' for i in range(10)]
    path.write_text("\n".join([";".join(SEED[:5]), *rows]) + "\n", encoding="utf-8")

    assert gate_file(path, limits=InputLimits(max_rows=10)).accepted  # 31 lines, 11 records
    assert not gate_file(path, limits=InputLimits(max_rows=9)).accepted


def test_wpflow_validate_refuses_with_one_line_and_exit_2(tmp_path, configure):
    path = workbook(tmp_path / "seed_funding_riga.xlsx", seed_rows(12))
    configure(max_rows=10)

    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        (
            "error: seed_funding_riga.xlsx sheet 'Schemes' has data below row 11: more than the 10 rows a partner file "
            "may have under its header; split it into several files, or delete what is below the data"
        )
    ]


def test_the_receipt_says_which_sheet_and_the_limit_and_nothing_is_annotated(tmp_path, settings):
    """Through the watcher's path (archive, gate, receipt): refused like any gate refusal."""
    from tests.conftest import parse_eml
    from wpflow.inbox.watch import receive_file
    from wpflow.milestone.collect import InboxFile
    from wpflow.workspace import workspace

    folder = tmp_path / "inbox" / "riga" / "WP4-M3"
    folder.mkdir(parents=True)
    path = workbook(folder / "seed_funding_riga.xlsx", seed_rows(12))
    ws = workspace(
        settings=settings.model_copy(update={"inbox": tmp_path / "inbox", "stable_seconds": 0, "max_rows": 10})
    )

    received = receive_file(ws, InboxFile("riga", "WP4-M3", path))

    [error] = received.result.errors
    assert (error.file, error.sheet) == ("seed_funding_riga.xlsx", "Schemes")
    receipt = next(p for p in ws.settings.outbox_dir.glob("*.eml") if "receipt" in parse_eml(p)["Subject"])
    body = parse_eml(receipt).get_body(("plain",)).get_content()
    assert "sheet 'Schemes' has data below row 11: more than the 10 rows a partner file may have" in body
    assert not list((ws.settings.quarantine_dir / "riga" / "WP4-M3").glob("*.annotated.xlsx"))


# -- streaming -----------------------------------------------------------------------------
def calamine_table(path: Path, sheet: str) -> list[list]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


@pytest.mark.parametrize("path", sorted((BUNDLED_PROJECT / "inbox").rglob("*.xlsx")), ids=lambda p: p.name)
def test_the_streaming_reader_reads_the_sample_workbooks_as_python_calamine_does(path):
    for extent in sheet_extents(path):
        assert stream_sheet(path, extent.name, 10_000) == calamine_table(path, extent.name), extent.name


def test_the_streaming_reader_gives_python_calamine_s_types(tmp_path):
    path = workbook(
        tmp_path / "types.xlsx",
        [
            [None, "  text  ", 5, 2.5, True, dt.date(2005, 12, 31), dt.datetime(2005, 12, 31, 13, 30)],
            [],
            ["", None, None, None, None, None, None, None, None, "far"],
            [dt.time(9, 15), False, 0, -1.25],
        ],
        header=["a", "b"],
    )
    assert stream_sheet(path, "Schemes", 100) == calamine_table(path, "Schemes")


def test_a_moderately_large_workbook_is_streamed_not_read_whole(tmp_path, monkeypatch):
    """Over `WHOLE_SHEET_CELLS` (lowered here to 2 000, so that 400 rows × 8 columns are over
    it): python-calamine is never asked for the data sheet, and validation reads every row alike."""
    import python_calamine

    import wpflow.inputs.readers

    monkeypatch.setattr(wpflow.inputs.readers, "WHOLE_SHEET_CELLS", 2000)
    path = workbook(tmp_path / "seed_funding_riga.xlsx", seed_rows(400))
    expected = calamine_table(path, "Schemes")
    asked: list[str] = []
    real = python_calamine.CalamineWorkbook

    class Watched:
        @staticmethod
        def from_path(p: str):
            book = real.from_path(p)

            class Book:
                sheet_names = book.sheet_names

                def get_sheet_by_name(self, name: str):
                    asked.append(name)
                    return book.get_sheet_by_name(name)

            return Book()

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Watched)
    result = validate_file(path, "seed_funding", kinds=KINDS)

    assert "Schemes" not in asked
    assert result.valid and result.rows_read == 400, result.issues[:3]
    assert result.rows[399]["name"] == "Scheme 399" and result.rows[0]["since"] == expected[1][7]
    assert read_table(path, ".xlsx", "Schemes")[2][-1] == (401, expected[-1])
    monkeypatch.setattr(wpflow.inputs.readers, "WHOLE_SHEET_CELLS", 200_000)
    asked.clear()
    assert validate_file(path, "seed_funding", kinds=KINDS) == result and asked == [
        "Schemes"
    ]  # read whole: the same result


def garbage_after(rows: int, path: Path) -> Path:
    """A workbook whose sheet is good for `rows` rows and then not XML at all."""
    buf = io.BytesIO()
    workbook(tmp := path.with_suffix(".tmp"), seed_rows(rows))
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row r='99999'><c><<<not xml")
            out.writestr(item.filename, data)
    path.write_bytes(buf.getvalue())
    return path


def test_streaming_stops_at_the_row_limit_without_reading_on(tmp_path):
    path = garbage_after(300, tmp_path / "seed_funding.xlsx")
    with pytest.raises(Unreadable, match="sheet 'Schemes' has more than the 100 rows") as refused:
        stream_sheet(path, "Schemes", 100)
    assert refused.value.sheet == "Schemes"
    with pytest.raises(Unreadable, match="is damaged or not a spreadsheet"):  # read to the end, it is damaged
        stream_sheet(path, "Schemes", 1000)


def test_a_csv_is_read_a_record_at_a_time_up_to_the_limit(tmp_path):
    path = tmp_path / "seed_funding.csv"
    head = ";".join(SEED[:5]) + "\n" + "".join(f"Scheme {i};Rīgas dome;municipal;grant;1 000,50\n" for i in range(50))
    path.write_bytes(head.encode("cp1257"))
    header, rows = read_table(path, ".csv", max_rows=60)[1:]
    assert header[:2] == ["name", "provider"] and rows[0] == (
        2,
        ["Scheme 0", "Rīgas dome", "municipal", "grant", "1 000,50"],
    )
    with pytest.raises(Unreadable, match="more than the 20 rows"):
        read_table(path, ".csv", max_rows=20)


# -- the annotated copy --------------------------------------------------------------------
def test_an_annotated_copy_past_its_bound_says_so_instead(tmp_path, monkeypatch):
    import wpflow.inputs.annotate

    rows = seed_rows(40)
    rows[3][4] = "about 2 mio"
    path = workbook(tmp_path / "seed_funding_riga.xlsx", rows)
    result = validate_file(path, "seed_funding", kinds=KINDS)
    monkeypatch.setattr(wpflow.inputs.annotate, "MAX_ANNOTATED_CELLS", 100)

    out = load_workbook(write_annotated_copy(path, result, tmp_path / "annotated.xlsx", KINDS["seed_funding"]))

    assert out.sheetnames == [PROBLEMS]  # the partner's 41 × 8 cells were not loaded
    lines = [r[6] for r in out[PROBLEMS].iter_rows(min_row=2, values_only=True)]
    assert lines[0] == "is not a number"
    assert lines[-1] == (
        "Your file has about 328 cells, too many for an annotated copy (at most 100): the problems are "
        "listed here, each with its sheet, row and column."
    )
