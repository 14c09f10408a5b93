"""`make bench`: every benchmark in its own process, in order; their last-line JSON figures are
collected into bench/results/latest.json (bench/results/ is gitignored) and summarised. 10-13
minutes on the 2-core reference machine (docs/performance.md); `--quick` runs each in its
smoke mode (~4 min) and does not judge targets. bench_dask (~4-8 min alone) answers a settled
question — Dask stays opt-in — and runs only when named: `make bench-dask`, `--only dask`.

    .venv/bin/python bench/run_all.py [--quick] [--only scale,render]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from orchestration.child_processes import die_with_parent_hook

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "render": "bench_render.py",
    "scale": "bench_scale.py",
    "orchestration": "bench_orchestration.py",
    "latency": "bench_latency.py",
    "burst": "bench_burst.py",
    "coldstart": "bench_coldstart.py",
    "demo": "bench_demo.py",
    "final": "bench_final.py",
    "expansion": "bench_expansion.py",
    "dask": "bench_dask.py",
}
OPT_IN = {"dask"}  # run only when named in --only
RENDER_TARGET = 20.0
# every target is a ratio of two figures measured in the same run: the machine's speed varies
# 2–3× between days (docs/performance.md), a ratio does not
TARGETS = {
    "render_10k_rows": "ratio ≥ 20 (vs python-docx add_row)",
    "scale": "≤ 4× the floor, ≤ 500 MB at 500 partners",
    "orchestration": "ratio ≤ 2 at 500 partners",
    "receipt_latency": "p95 ≤ 2× the plain path's",
    "burst": "p95 ≤ 10 s for 200 files at once through wpflow serve",
    "cold_start": "ephemeral ≤ 3×, server ≤ 1.5× direct",
    "final_reports": "WP + joint ≤ 1× the milestone's render",
    "demo": "25 milestones ≤ 2× (fresh home 3×) direct",
    "dask_validate": "keep Dask only if faster than threads (500)",
    "expansion": "470 MB unpacked refused, RSS ≤ 1.5× a tiny file's",
}


def headline(r: dict) -> str:
    """The figure each target is about, in a few words."""
    name = r["name"]
    if name == "render_10k_rows":
        return f"{r['wpflow_s']} s vs {r['naive_s']} s: {r['ratio']}x ({r.get('rows', 10000)} rows)"
    if name == "scale":
        return f"{r['ratio']}x the floor ({r['wall_s']} s), {r['peak_rss_mb']:.0f} MB at {r['partners']}"
    if name == "orchestration":
        return f"{r['prefect_s']} s vs {r['direct_s']} s: {r['ratio']}x at {r['partners']}"
    if name == "burst":
        return f"{r['files']} files: p50 {r['p50_s']} s, p95 {r['p95_s']} s (plain {r['plain_p95_s']} s)"
    if name == "receipt_latency":
        return f"p50 {r['p50_s']} s, p95 {r['p95_s']} s, max {r['max_s']} s"
    if name == "final_reports":
        return f"{r['final_s']} s vs the milestone's render {r['milestone_render_s']} s: {r['ratio']}x"
    if name == "dask_validate":
        verdict = f"{r['speedup']}x as fast" if r["faster"] else f"{r['ratio']}x the time"
        return f"Dask {r['dask_s']} s vs threads {r['threads_s']} s: {verdict} at {r['partners']}"
    if name == "cold_start":
        ratios = r["ratios"]
        return (
            f"direct {r['direct']} s; ephemeral {ratios['ephemeral_migrated_home']}x, "
            f"server {ratios.get('running_server', '—')}x"
        )
    if name == "demo":
        ratios = r["ratios"]
        return f"direct {r['seconds']['direct']} s; migrated {ratios.get('migrated_home', '—')}x, fresh {ratios['fresh_home']}x"
    if name == "expansion":
        return (
            f"{r['huge_file_mb']:.0f} MB / {r['huge_unpacked_mb']} MB: exit {r['huge_exit']}, "
            f"{r['huge_seconds']} s, {r['huge_peak_rss_mb']:.0f} MB"
        )
    return f"ratio {r.get('ratio')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only", default=None, help=f"comma-separated of: {', '.join(SCRIPTS)} (default: all but {', '.join(OPT_IN)})"
    )
    args = parser.parse_args()
    tie_to_make = die_with_parent_hook(os.getppid())  # `make bench` killed: we go too, and our children after us
    if tie_to_make is not None:
        tie_to_make()
    chosen = args.only.split(",") if args.only else [name for name in SCRIPTS if name not in OPT_IN]
    unknown = [name for name in chosen if name not in SCRIPTS]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    results, failed = [], []
    began = time.perf_counter()
    for name in chosen:
        cmd = [sys.executable, str(HERE / SCRIPTS[name])] + (["--quick"] if args.quick else [])
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        with tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=err, text=True, preexec_fn=die_with_parent_hook()
            )
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:  # streamed: a 10-minute run shows its progress
                sys.stdout.write(line)
                sys.stdout.flush()
                lines.append(line)
            returncode = proc.wait()
            err.seek(0)
            stderr = err.read()
        last = next((line for line in reversed(lines) if line.strip()), "")
        try:
            figures = json.loads(last)
        except json.JSONDecodeError:
            figures = None
        if returncode != 0 or not isinstance(figures, dict):
            sys.stdout.write(stderr[-3000:])
            failed.append(name)
            continue
        if figures["name"] == "render_10k_rows" and figures.get("rows", 10_000) == 10_000:
            figures["target_met"] = figures["ratio"] >= RENDER_TARGET
        figures["bench_wall_s"] = round(time.perf_counter() - start, 1)
        figures["command"] = " ".join(
            ["python", *(str(Path(c).relative_to(HERE.parent)) if c.endswith(".py") else c for c in cmd[1:])]
        )
        results.append(figures)
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    sys.path.insert(0, str(HERE))
    from common import machine

    report = {
        "machine": machine(),
        "quick": args.quick,
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "wall_min": round((time.perf_counter() - began) / 60, 1),
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    total = time.perf_counter() - began
    print(
        f"\n== summary ({total / 60:.1f} min{', --quick: smoke figures, targets not judged' if args.quick else ''};"
        f" all figures in {out.relative_to(HERE.parent)})"
    )
    for r in results:
        met = r.get("target_met")
        verdict = "" if met is None else ("target met" if met else "TARGET MISSED")
        print(f"{r['name']:>16}  {headline(r):<44} {TARGETS.get(r['name'], ''):<38} {verdict}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
