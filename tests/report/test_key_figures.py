"""The key figures are sentences the data says: they agree with the tables' totals, and the
same summary always gives the same sentences."""

from __future__ import annotations

from schemas.records import WPSummary
from wpflow.report.key_figures import NBSP, amount, comparison, key_figures, share
from wpflow.report.plain_words import format_value


def test_key_figures_state_the_tables_totals(summary: WPSummary) -> None:
    table = summary.tables[0]
    lines = key_figures(summary)
    schemes = format_value(table.totals["Schemes"])
    budget = table.totals["Annual budget (EUR)"]
    assert lines[0] == "7 of 8 required inputs had arrived valid by 3 July 2006; missing: Oslo."
    assert lines[1] == f"{schemes} public seed-funding schemes in 7 of 8 cities asked."
    # Stockholm has the largest budget in the fixture: 3.4 m of 9.1655 m
    assert lines[2].startswith(f"Annual budget: {amount(budget, 'EUR')} in total; Stockholm's 2 schemes hold ")
    assert share(3_400_000, budget) in lines[2]
    assert amount(budget, "EUR") == f"€{budget / 1e6:.1f}{NBSP}m"


def test_key_figures_are_deterministic(summary: WPSummary) -> None:
    assert key_figures(summary) == key_figures(summary.model_copy(deep=True))


def test_comparison_names_the_range(summary: WPSummary) -> None:
    lines = comparison(summary, summary.tables[0])
    assert any(
        line.startswith("By annual budget, Stockholm leads with €3.4\u00a0m and Vilnius has the least")
        for line in lines
    )
