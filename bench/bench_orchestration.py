"""Orchestration cost: the milestone pipeline through Prefect vs the same stage functions called
directly (`run_direct`), for 14, 100 and 500 partners of the synthetic consortium.

Both sides get fresh outputs (archive, database, reports, outbox) per measurement and run in
one long-lived process each, alternating, after a warm-up run: what is compared is the steady
state of a worker, not imports or the ephemeral API's first start (see bench_coldstart.py).
Target (issue 7): Prefect ≤ 2× direct at 500 partners.

    .venv/bin/python bench/bench_orchestration.py [--quick] [--sizes 14,100,500] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, emit, isolated_env, machine, scratch

# 20 rows per file: the report still has 50 000 rows at 500 partners, and the e-mails carrying
# it to 500 recipients stay at ~1 GB of outbox per run (100 rows: 4.7 GB, dominated by disk).
ROWS = 20
TARGET = 2.0


def child(mode: str, project: Path, runs: int, base: Path) -> None:
    """In a child process: `runs` timed pipeline runs, each on fresh outputs; prints JSON."""

    from synthetic import MILESTONE

    from schemas.settings import Settings

    times = []
    if mode == "prefect":
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        from flows.milestone import milestone_pipeline

        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            for i in range(runs + 1):  # the first run warms the API and the imports up
                os.environ["WPFLOW_OUTPUTS"] = str(base / f"prefect-{i}")
                start = time.perf_counter()
                milestone_pipeline(MILESTONE, None)
                times.append(time.perf_counter() - start)
                shutil.rmtree(base / f"prefect-{i}", ignore_errors=True)
    else:
        from wpflow.stages import run_direct, workspace

        for i in range(runs + 1):
            settings = Settings(project=project, outputs=base / f"direct-{i}")
            start = time.perf_counter()
            run_direct(workspace(settings), MILESTONE, None)
            times.append(time.perf_counter() - start)
            shutil.rmtree(base / f"direct-{i}", ignore_errors=True)
    print(json.dumps({"mode": mode, "warmup_s": round(times[0], 3), "runs_s": [round(t, 3) for t in times[1:]]}))


def measure(mode: str, partners: int, runs: int) -> dict:
    from synthetic import consortium

    project = consortium(partners, ROWS)
    with scratch(f"orch-{mode}{partners}") as tmp:
        env = {**os.environ, **isolated_env(project, tmp / "outputs"), "PREFECT_HOME": str(tmp / "prefect")}
        (tmp / "prefect").mkdir()
        out = subprocess.run([sys.executable, __file__, "--child", mode, str(project), str(runs), str(tmp)],
                             env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{mode} at {partners} partners failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="14 and 100 partners only")
    parser.add_argument("--sizes", default=None)
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per side and size")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, project, runs, base = args.child
        child(mode, Path(project), int(runs), Path(base))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([14, 100] if args.quick else [14, 100, 500])
    runs = args.repeat or 1
    print(f"orchestration: Prefect (ephemeral API, warmed) vs direct stage calls; {machine()}")
    print(f"{'partners':>8} {'direct s':>9} {'prefect s':>10} {'ratio':>6}")
    results = []
    for n in sizes:
        direct = measure("direct", n, runs)
        prefect = measure("prefect", n, runs)
        d, p = min(direct["runs_s"]), min(prefect["runs_s"])
        results.append({"partners": n, "direct_s": d, "prefect_s": p, "ratio": round(p / d, 2),
                        "prefect_warmup_s": prefect["warmup_s"]})
        print(f"{n:>8} {d:>9.2f} {p:>10.2f} {p / d:>6.2f}")
    last = results[-1]
    emit({"name": "orchestration", "partners": last["partners"], "ratio": last["ratio"],
          "direct_s": last["direct_s"], "prefect_s": last["prefect_s"],
          "target_met": last["partners"] < 500 or last["ratio"] <= TARGET, "sizes": results})


if __name__ == "__main__":
    main()
