"""Column widths from content: no token is narrower than its column, wide tables turn landscape."""

from __future__ import annotations

import time

import pytest

from wpflow.report.table_layout import CELL_PADDING, ColumnNeed, column_need, plan_table, text_twips, words

PORTRAIT, LANDSCAPE = 9072, 14004


@pytest.mark.parametrize(("narrow", "wide"), [("iiii", "WWWW"), ("1 000", "Mmmm"), ("Riga", "Rīgaä")])
def test_wider_glyphs_measure_wider(narrow, wide):
    assert text_twips(narrow) < text_twips(wide)


def test_digits_are_tabular_and_thin_space_is_narrow():
    assert text_twips("1111") == text_twips("9999")
    assert text_twips("1\u202f000") < text_twips("1 0000")


def test_numbers_are_one_token_and_header_words_never_split():
    need = column_need("Budget (EUR)", ["12\u202f000\u202f000", "500"], numeric=True)
    assert need.least >= text_twips("12\u202f000\u202f000") + CELL_PADDING
    assert need.least >= text_twips("Budget") + CELL_PADDING
    text = column_need("Name", ["Helsinki Business Hub seed loans"], numeric=False)
    assert text.least == max(text_twips("Business"), text_twips("Name")) + CELL_PADDING
    assert text.full == text_twips("Helsinki Business Hub seed loans") + CELL_PADDING


def test_hashes_may_wrap():
    assert max(map(len, words(["ab" * 32]))) == 16


def test_fits_full_widths_else_shares_the_room_else_landscape():
    small = [ColumnNeed(1000, 2000), ColumnNeed(1000, 3000)]
    assert plan_table(small, PORTRAIT).widths == [2000, 3000]
    tight = [ColumnNeed(3000, 6000), ColumnNeed(3000, 6000)]
    layout = plan_table(tight, PORTRAIT, LANDSCAPE)
    assert not layout.landscape and sum(layout.widths) == PORTRAIT and all(w >= 3000 for w in layout.widths)
    wide = [ColumnNeed(1500, 2500)] * 7
    layout = plan_table(wide, PORTRAIT, LANDSCAPE)
    assert layout.landscape and all(w >= 1500 for w in layout.widths) and sum(layout.widths) <= LANDSCAPE
    assert not plan_table(wide, PORTRAIT).landscape  # docxtpl's own tables stay portrait


def test_ten_thousand_distinct_cells_measure_in_well_under_a_second():
    cells = [f"Seed scheme number {i} of the agency" for i in range(10_000)]
    start = time.perf_counter()
    column_need("Name", cells, numeric=False)
    assert time.perf_counter() - start < 0.5


def test_a_squeezed_table_breaks_file_names_before_header_words_and_numbers():
    """Too narrow for every token: the file-name column gives up its room first; "Status" and the
    amounts keep what they need whole."""
    status = column_need("Status", ["on time", "late"], numeric=False)
    amount = column_need("Budget", ["12 000 000", "487 200"], numeric=True)
    files = column_need("File", ["pre_phase_clusters_helsinki_second_corrected_version.csv"], numeric=False)
    available = status.least + amount.least + files.least // 2
    widths = plan_table([status, amount, files], available).widths
    assert widths[0] >= text_twips("Status") + CELL_PADDING
    assert widths[1] >= text_twips("12 000 000") + CELL_PADDING
    assert widths[2] < files.least and sum(widths) <= available
