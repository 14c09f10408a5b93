"""Scale: a synthetic consortium (N partners × 5 XLSX × 100 rows) through collect → validate →
merge → render on this machine, each size in a fresh child process (so peak RSS is per size).

Targets (issue 7): 500 partners (≈250 000 rows) in ≤ 15 s wall and ≤ 500 MB peak RSS, time
growing linearly or better. Floors printed beside it: reading the same files with
python-calamine alone, and validating the same rows with one pydantic TypeAdapter(list[Row]).

    .venv/bin/python bench/bench_scale.py [--quick] [--sizes 14,100,250,500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import ROOT, emit, isolated_env, machine, scratch

ROWS = 100
TARGET_S, TARGET_MB = 15.0, 500.0


def child(partners: int, outputs: Path) -> dict:
    """Runs in the child: the stages, each timed, without e-mail (that is notify's cost)."""
    from synthetic import MILESTONE

    from schemas.settings import Settings
    from wpflow.stages import collect_stage, merge_stage, render_stage, validate_stage, workspace

    ws = workspace(Settings())
    milestone = ws.milestone(MILESTONE)
    times: dict[str, float] = {}
    rss: dict[str, float] = {}
    start = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        times[name] = round(now - last, 3)
        rss[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        last = now

    subs = collect_stage(ws, milestone, None)
    lap("collect")
    checked = validate_stage(ws, milestone, subs)
    lap("validate")
    summary = merge_stage(ws, milestone, checked, date(2005, 6, 30))
    lap("merge")
    render_stage(ws, summary)
    lap("render")
    rows = sum(c.result.rows_read for c in checked)
    invalid = sum(1 for c in checked if not c.result.valid)
    return {"partners": partners, "files": len(subs), "rows": rows, "invalid": invalid,
            "wall_s": round(time.perf_counter() - start, 3), "stages": times, "peak_rss_after_mb": rss,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def floors(project: Path) -> dict:
    """What reading and validating these files costs with nothing else around it."""
    from python_calamine import CalamineWorkbook
    from pydantic import TypeAdapter

    from schemas.inputs import INPUT_KINDS

    files = sorted((project / "inbox").rglob("*.xlsx"))
    start = time.perf_counter()
    tables: dict[str, list[dict]] = {}
    for f in files:
        kind = f.stem
        wb = CalamineWorkbook.from_path(str(f))
        data = wb.get_sheet_by_name(INPUT_KINDS[kind].sheet).to_python()
        header = [str(h) for h in data[0]]
        tables.setdefault(kind, []).extend(
            {h: (None if v == "" else v) for h, v in zip(header, row)} for row in data[1:])
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    for kind, rows in tables.items():
        TypeAdapter(list[INPUT_KINDS[kind].model]).validate_python(rows, strict=False)
    return {"calamine_read_s": round(read_s, 3), "typeadapter_validate_s": round(time.perf_counter() - start, 3)}


def run_size(partners: int) -> dict:
    from synthetic import consortium

    project = consortium(partners, ROWS)
    with scratch(f"scale{partners}") as tmp:
        env = {**os.environ, **isolated_env(project, tmp / "outputs")}
        out = subprocess.run([sys.executable, __file__, "--child", str(partners), str(tmp / "outputs")],
                             env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child for {partners} partners failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="14 and 100 partners only")
    parser.add_argument("--sizes", default=None, help="comma-separated partner counts")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        emit(child(int(args.child[0]), Path(args.child[1])))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([14, 100] if args.quick else [14, 100, 250, 500])
    print(f"scale: {ROWS} rows per file, 5 files per partner; {machine()}")
    print(f"{'partners':>8} {'rows':>8} {'wall s':>7} {'µs/row':>7} {'RSS MB':>7}  stages")
    results = []
    for n in sizes:
        r = run_size(n)
        results.append(r)
        print(f"{n:>8} {r['rows']:>8} {r['wall_s']:>7.2f} {r['wall_s'] / r['rows'] * 1e6:>7.1f} "
              f"{r['peak_rss_mb']:>7.0f}  {r['stages']}")
    from synthetic import consortium

    biggest = results[-1]
    floor = floors(consortium(biggest["partners"], ROWS))
    floor_s = floor["calamine_read_s"] + floor["typeadapter_validate_s"]
    print(f"floor at {biggest['partners']} partners: calamine read {floor['calamine_read_s']:.2f} s + "
          f"TypeAdapter validate {floor['typeadapter_validate_s']:.2f} s = {floor_s:.2f} s; "
          f"wpflow is {biggest['wall_s'] / floor_s:.1f}x the floor")
    growth = (results[-1]["wall_s"] / results[-1]["rows"]) / (results[0]["wall_s"] / results[0]["rows"])
    print(f"time per row, largest vs smallest: {growth:.2f} (≤ 1 means linear or better)")
    emit({"name": "scale", "partners": biggest["partners"], "rows": biggest["rows"], "wall_s": biggest["wall_s"],
          "peak_rss_mb": biggest["peak_rss_mb"], "ratio": round(biggest["wall_s"] / floor_s, 2),
          "per_row_growth": round(growth, 2), "floor": floor,
          "target_met": biggest["partners"] < 500 or (biggest["wall_s"] <= TARGET_S and biggest["peak_rss_mb"] <= TARGET_MB),
          "sizes": results})


if __name__ == "__main__":
    main()
