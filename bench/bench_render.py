"""Render a report whose detail table has 10 000 rows: python-docx's naive `add_row()` loop
against `render_report` (docxtpl skeleton + rows appended as WordprocessingML).

Both write the same cell texts (the renderer's own formatting) and save a .docx. Each side is
warmed up once on a small table (imports, font cache), then timed; the last line is JSON.

    .venv/bin/python bench/bench_render.py [--quick]     # --quick: 1 000 rows, a smoke test
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402

from schemas.records import ComparativeTable, WPSummary  # noqa: E402
from schemas.settings import ROOT as PROJECT_ROOT  # noqa: E402
from wpflow.report.render import detail_columns, render_report, table_fills  # noqa: E402

ROWS = 10_000
CITIES = [f"City {i:02d}" for i in range(12)]
WHEN = datetime(2006, 7, 3, tzinfo=UTC)


def seed_funding(rows: int) -> ComparativeTable:
    """A seed-funding table: a row per city plus `rows` varied detail rows."""
    rng = random.Random(7)
    details = [
        {
            "city": CITIES[i % len(CITIES)],
            "name": f"Seed scheme {i}",
            "provider": f"Agency {i % 40}",
            "level": rng.choice(["municipal", "national", "EU"]),
            "instrument": rng.choice(["grant", "loan", "equity"]),
            "budget_eur": float(rng.randint(1, 500) * 10_000),
            "ticket_min_eur": 5_000.0,
            "ticket_max_eur": 50_000.0,
            "since": rng.randint(1990, 2006),
        }
        for i in range(rows)
    ]
    per_city = [
        {
            "city": c,
            "Schemes": float(sum(d["city"] == c for d in details)),
            "Annual budget (EUR)": sum(d["budget_eur"] for d in details if d["city"] == c),
        }
        for c in CITIES
    ]
    return ComparativeTable(
        kind="seed_funding",
        label="Public seed-funding schemes",
        columns=["Schemes", "Annual budget (EUR)"],
        rows=per_city,
        totals={k: sum(r[k] for r in per_city) for k in ("Schemes", "Annual budget (EUR)")},
        detail_columns=[
            "name",
            "provider",
            "level",
            "instrument",
            "budget_eur",
            "ticket_min_eur",
            "ticket_max_eur",
            "since",
        ],
        details=details,
    )


def summary_with(table: ComparativeTable) -> WPSummary:
    return WPSummary(
        project="Bench",
        project_title="Synthetic consortium",
        programme="Interreg IIIB",
        wp_id="WP9",
        wp_title="Benchmark",
        milestone_id="WP9-M1",
        milestone_title="Ten thousand schemes",
        start=date(2006, 1, 1),
        end=date(2006, 6, 30),
        due=date(2006, 6, 30),
        as_of=date(2006, 7, 3),
        activities=[],
        meetings=[],
        tables=[table],
        narratives=[],
        partners=[],
        missing=[],
        inputs=[],
        status="complete",
    )


def naive(table: ComparativeTable, out: Path) -> None:
    """The python-docx way: one `add_row()` and one `cell.text =` per cell."""
    document = docx.Document()
    fill = table_fills([table])["wpflow:rows:0:details"]
    header = ["City", *(c.label for c in detail_columns(table))]
    grid = document.add_table(rows=1, cols=len(header))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, header):
        cell.text = text
    for row in fill.rows:
        for cell, text in zip(grid.add_row().cells, row):
            cell.text = text
    document.save(out / "naive.docx")


def wpflow_render(table: ComparativeTable, out: Path) -> None:
    render_report(summary_with(table), out, templates_dir=PROJECT_ROOT / "templates", generated_at=WHEN)


def timed(fn, table: ComparativeTable, out: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(table, out)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    global ROWS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 000 rows instead of 10 000")
    if parser.parse_args().quick:
        ROWS = 1_000
    small, big = seed_funding(50), seed_funding(ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        naive(small, out)
        wpflow_render(small, out)
        naive_s = timed(naive, big, out, repeat=1)
        wpflow_s = timed(wpflow_render, big, out, repeat=3)
        size = (out / "WP9-M1.docx").stat().st_size
    ratio = naive_s / wpflow_s
    print(f"detail table of {ROWS} rows x {len(big.detail_columns) + 1} columns")
    print(f"python-docx add_row loop: {naive_s:8.3f} s")
    print(f"wpflow render_report:     {wpflow_s:8.3f} s  (whole report, chart included; {size / 1e6:.1f} MB)")
    print(f"ratio:                    {ratio:8.1f}x")
    print(
        json.dumps(
            {
                "name": "render_10k_rows",
                "rows": ROWS,
                "naive_s": round(naive_s, 3),
                "wpflow_s": round(wpflow_s, 3),
                "ratio": round(ratio, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
