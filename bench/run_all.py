"""`make bench`: every benchmark in its own process, in order; their last-line JSON figures are
collected into bench/results/latest.json (gitignored) and summarised. About 10 minutes on the
2-core reference machine (docs/performance.md); `--quick` runs each in its smoke mode (~2 min).

    .venv/bin/python bench/run_all.py [--quick] [--only scale,render]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "render": "bench_render.py",
    "scale": "bench_scale.py",
    "orchestration": "bench_orchestration.py",
    "latency": "bench_latency.py",
    "coldstart": "bench_coldstart.py",
}
TARGETS = {
    "render_10k_rows": "ratio ≥ 20 (vs python-docx add_row)",
    "scale": "≤ 15 s and ≤ 500 MB at 500 partners",
    "orchestration": "ratio ≤ 2 at 500 partners",
    "receipt_latency": "p95 ≤ 2 s (1 s window)",
    "cold_start": "(advice, no target)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=None, help=f"comma-separated of: {', '.join(SCRIPTS)}")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SCRIPTS)
    results, failed = [], []
    for name in chosen:
        cmd = [sys.executable, str(HERE / SCRIPTS[name])] + (["--quick"] if args.quick and name != "render" else [])
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        sys.stdout.write(done.stdout)
        if done.returncode != 0 or not done.stdout.strip():
            sys.stdout.write(done.stderr[-3000:])
            failed.append(name)
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["bench_wall_s"] = round(time.perf_counter() - start, 1)
        results.append(figures)
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n== summary (all figures in bench/results/latest.json)")
    for r in results:
        met = r.get("target_met")
        verdict = "" if met is None else ("target met" if met else "TARGET MISSED")
        print(f"{r['name']:>16}  ratio {r.get('ratio')!s:>6}  {TARGETS.get(r['name'], '')}  {verdict}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
