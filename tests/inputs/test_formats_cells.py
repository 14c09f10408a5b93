"""How partners write a table's header and cells: header variants and units, sniffed delimiters,
Excel dates and texts, phone numbers typed as numbers, places, the kinds sheet."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from tests.kinds import KINDS
from wpflow.inputs.validate import validate_file


@pytest.mark.parametrize(
    "header",
    [
        "budget_eur",
        "Budget (EUR)",
        "Budget EUR",
        "BUDGET_EUR",
        "budget-eur",
        "Budget (EUR) *",
        "Budget",
        " budget eur ",
        "Budget\u00a0(EUR)",
    ],
)
def test_header_variants_name_the_field(tmp_path, header):
    path = tmp_path / "seed_funding.csv"
    path.write_text(
        f"Name;Provider;Level;Instrument;{header};Ticket min (EUR)\nA fund;Riga;EU;loan;1 000;50\n", encoding="utf-8"
    )
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert (result.rows[0]["budget_eur"], result.rows[0]["ticket_min_eur"]) == (1000, 50)


def test_unit_headers_of_other_kinds(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Infrastructure"
    ws.append(["Name", "Type", "Floor area (m²)", "Founded (year)"])
    ws.append(["Teikums", "incubator", 1200.5, 1999])
    path = tmp_path / "innovation_infrastructure.xlsx"
    wb.save(path)
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert (result.rows[0]["floor_area_m2"], result.rows[0]["founded"]) == (1200.5, 1999)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("name;provider;level;instrument;budget_eur (EUR, per year)\nA;B;EU;loan;1,5\n", ";"),  # comma in the header
        ('name,provider,level,instrument,budget_eur\n"A, B",C,EU,loan,"1,5"\n', ","),  # quoted decimal comma
        ("name\tprovider\tlevel\tinstrument\tbudget_eur\nA, B\tC; D\tEU\tloan\t1,5\n", "\t"),
        ("name;provider;level;instrument;budget_eur\n", ";"),  # header only
    ],
)
def test_delimiter_is_sniffed_from_header_and_first_lines(text, delimiter):
    from wpflow.inputs.readers import sniff_delimiter

    assert sniff_delimiter(text) == delimiter


def test_excel_dates_and_texts_in_a_dated_row_kind(tmp_path, dated_kind):
    """calamine gives date cells as date/datetime; a date column also reads the partners'
    notations; a text column keeps digits Excel stored as a number."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Events"
    ws.append(["event", "date"])
    ws.append([2006, dt.datetime(2006, 9, 14, 0, 0)])
    ws.append(["ARG", dt.datetime(2006, 9, 15, 18, 30)])
    ws.append(["ARG 2", "31.12.2006"])
    ws.append(["ARG 3", "12/31/2006"])
    path = tmp_path / "dated_events.xlsx"
    wb.save(path)
    result = validate_file(path, kinds=KINDS)
    assert result.valid and [i.message for i in result.issues] == ["has 4 rows; the milestone asks for at most 2"]
    assert [(r["event"], r["date"]) for r in result.rows] == [
        ("2006", "2006-09-14"),
        ("ARG", "2006-09-15"),
        ("ARG 2", "2006-12-31"),
        ("ARG 3", "2006-12-31"),
    ]


def test_a_phone_number_typed_as_a_number_stays_its_digits(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["organisation", "type", "contact_name", "email", "phone"])
    ws.append(["Investment Riga", "other", "Anna Bērziņa", "anna@riga.lv", 67012345])
    path = tmp_path / "marketing_contacts.xlsx"
    wb.save(path)
    result = validate_file(path, kinds=KINDS)
    assert result.valid, [str(i) for i in result.issues]
    assert result.rows[0]["phone"] == "67012345"


def test_places_match_without_case_or_diacritics(tmp_path):
    path = tmp_path / "education_institutions.csv"
    path.write_text(
        "name;type;entrepreneurship_programme;location\nRTU;university;yes;RIGA\n"
        "LU;university;no;rīga\nBA;faculty;no;Jurmala\n",
        encoding="utf-8",
    )
    result = validate_file(path, city="Rīga", region=["Jūrmala"], kinds=KINDS)
    assert result.valid and not result.issues, [str(i) for i in result.issues]


def test_the_kinds_sheet_is_read_wherever_it_is(tmp_path):
    wb = Workbook()
    wb.active.title = "Instructions"
    wb.active.append(["Fill in the second sheet"])
    ws = wb.create_sheet("schemes")  # case differs from the kind's "Schemes"
    ws.append(["name", "provider", "level", "instrument", "budget_eur"])
    ws.append(["Riga Seed", "Riga City", "municipal", "grant", 1000])
    path = tmp_path / "seed_funding.xlsx"
    wb.save(path)
    result = validate_file(path, kinds=KINDS)
    assert result.valid and result.rows[0]["name"] == "Riga Seed", [str(i) for i in result.issues]


def test_headers_tell_the_kind_of_a_workbook_too(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Cluster", "Category", "Statement"])
    ws.append(["Life sciences", "strength", "Strong university hospital"])
    path = tmp_path / "Book1.xlsx"
    wb.save(path)
    result = validate_file(path, expected=["pre_phase_clusters", "cluster_swot"], kinds=KINDS)
    assert result.kind == "cluster_swot" and result.valid, [str(i) for i in result.issues]
