"""Orchestration cost: the milestone pipeline through Prefect vs the same stage functions called
directly (`run_direct`), for 14 and 500 partners of the synthetic consortium (100 on request:
`--sizes 14,100,500`; it took 90 s of `make bench` and judges nothing).

Everything runs in one child process with its own Prefect home: the ephemeral API is started
and warmed by one small pipeline run first (its cold start is bench_coldstart.py's subject), then
for each size the two sides alternate (direct, Prefect, Prefect, direct, … — ABBA, so a slow
spell on the shared machine hits both), each run on the same inputs with fresh outputs (archive,
database, reports, outbox). Both sides read their settings from WPFLOW_* like a worker does, and
the Prefect side runs with the flow heartbeat off, as `wpflow run` does.
Target: Prefect ≤ 2× direct at 500 partners.

    .venv/bin/python bench/bench_orchestration.py [--quick] [--sizes 14,500] [--repeat N]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from common import child_records, emit, isolated_env, machine, scratch

# 20 rows per file: the report still has 50 000 rows at 500 partners, and the e-mails carrying
# it to 500 recipients stay at ~1 GB of outbox per run (100 rows: 4.7 GB, dominated by disk).
ROWS = 20
TARGET = 2.0
WARMUP_PARTNERS = 14
SETTLE_S = 2.0  # the API server persists a Prefect run's events after the flow returns


def default_repeats(partners: int, quick: bool) -> int:
    """Pairs of runs per size: more where runs are short and noise is relatively large."""
    if quick:
        return 2 if partners <= 14 else 1
    return 2 if partners <= 100 else 1


# -- the child: one process, one ephemeral API, both sides alternating ----------------------
def child(plan: list[tuple[int, int]], base: Path) -> None:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from synthetic import MILESTONE, consortium

    from flows.milestone import milestone_pipeline
    from orchestration.ephemeral_api import tie_ephemeral_server
    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import forget_workspaces, workspace

    tie_ephemeral_server()
    counter = iter(range(10_000))

    def one(mode: str, partners: int) -> float:
        outputs = base / f"{mode}-{partners}-{next(counter)}"
        project = str(consortium(partners, ROWS))  # a value, as a deployment passes it
        os.environ["WPFLOW_OUTPUTS"] = str(outputs)  # this process's own settings
        gc.collect()
        start = time.perf_counter()
        if mode == "prefect":
            milestone_pipeline(MILESTONE, None, project)
        else:
            run_direct(workspace(project), MILESTONE, None)
        elapsed = time.perf_counter() - start
        # forget this run's workspace (store engine, project) so runs do not accumulate memory
        forget_workspaces()
        shutil.rmtree(outputs, ignore_errors=True)
        time.sleep(SETTLE_S)
        return elapsed

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        start = time.perf_counter()
        one("prefect", WARMUP_PARTNERS)  # starts the ephemeral API (migrating its database), imports
        print(json.dumps({"warmup_s": round(time.perf_counter() - start, 2)}), flush=True)
        for partners, repeats in plan:
            for i in range(repeats):
                order = ("direct", "prefect") if i % 2 == 0 else ("prefect", "direct")
                for mode in order:
                    seconds = one(mode, partners)
                    print(json.dumps({"partners": partners, "mode": mode, "s": round(seconds, 3)}), flush=True)


# -- the parent ---------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="14 and 100 partners, fewer repeats")
    parser.add_argument("--sizes", default=None, help="comma-separated partner counts")
    parser.add_argument(
        "--repeat", type=int, default=None, help="pairs of runs per size (default 3 up to 100, 1 above)"
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        plan, base = json.loads(args.child)
        child([tuple(p) for p in plan], Path(base))
        return

    from synthetic import consortium

    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([14, 100] if args.quick else [14, 500])
    plan = [(n, args.repeat or default_repeats(n, args.quick)) for n in sizes]
    for n in {WARMUP_PARTNERS, *sizes}:
        consortium(n, ROWS)  # generated once into bench/.cache, outside any timing
    print(
        f"orchestration: milestone pipeline through Prefect (ephemeral API, started and warmed once) "
        f"vs run_direct; {ROWS} rows per file, 5 files per partner; {machine()}",
        flush=True,
    )
    runs: dict[int, dict[str, list[float]]] = {n: {"direct": [], "prefect": []} for n in sizes}
    warmup = None
    with scratch("orchestration") as tmp:
        (tmp / "prefect").mkdir()
        env = {
            **os.environ,
            **isolated_env(consortium(WARMUP_PARTNERS, ROWS), tmp / "outputs"),
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        }
        env.pop("PREFECT_API_URL", None)
        for record in child_records(__file__, [plan, str(tmp)], env, "orchestration"):
            if "warmup_s" in record:
                warmup = record["warmup_s"]
                print(
                    f"  warm-up (ephemeral API start + one {WARMUP_PARTNERS}-partner Prefect run): {warmup:.1f} s",
                    flush=True,
                )
                continue
            runs[record["partners"]][record["mode"]].append(record["s"])
            print(f"  {record['partners']:>4} partners  {record['mode']:<8} {record['s']:8.2f} s", flush=True)

    print(f"\n{'partners':>8} {'pairs':>5} {'direct s':>9} {'prefect s':>10} {'ratio':>6}   (medians; all runs above)")
    results = []
    for n in sizes:
        d, p = statistics.median(runs[n]["direct"]), statistics.median(runs[n]["prefect"])
        results.append(
            {
                "partners": n,
                "pairs": len(runs[n]["direct"]),
                "direct_s": round(d, 3),
                "prefect_s": round(p, 3),
                "ratio": round(p / d, 2),
                "overhead_s": round(p - d, 2),
                "direct_runs_s": runs[n]["direct"],
                "prefect_runs_s": runs[n]["prefect"],
            }
        )
        print(f"{n:>8} {len(runs[n]['direct']):>5} {d:>9.2f} {p:>10.2f} {p / d:>6.2f}")
    last = results[-1]
    met = last["ratio"] <= TARGET if last["partners"] >= 500 else None
    print(
        f"target: Prefect ≤ {TARGET:.0f}× direct at 500 partners"
        + ("" if met is None else f" — {'met' if met else 'MISSED'} ({last['ratio']}×)")
    )
    emit(
        {
            "name": "orchestration",
            "partners": last["partners"],
            "ratio": last["ratio"],
            "direct_s": last["direct_s"],
            "prefect_s": last["prefect_s"],
            "rows_per_file": ROWS,
            "warmup_s": warmup,
            "target": f"<= {TARGET} at 500",
            "target_met": met,
            "sizes": results,
        }
    )


if __name__ == "__main__":
    main()
