"""Cold start: `wpflow run WP4-M3 --as-of 2006-07-31` as a new process, the way a secretariat
member runs it — with the ephemeral API on a fresh Prefect home (its first start migrates
Prefect's database), again on that now-migrated home, against an already running
`prefect server start` (started here on a free port, PREFECT_API_URL set, stopped after), and
`--direct` (no Prefect at all). Every run gets fresh outputs (archive, store, reports, outbox).
The README's advice on which to use when comes from these figures. Targets, as
ratios to `--direct` measured in the same run: ephemeral API on a migrated home ≤ 3×, a
running server ≤ 1.5×.

    .venv/bin/python bench/bench_coldstart.py [--quick] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from itertools import count

from common import ROOT, emit, isolated_env, machine, scratch, timed_wpflow

MILESTONE, AS_OF = "WP4-M3", "2006-07-31"
TARGETS = {"ephemeral_migrated_home": 3.0, "running_server": 1.5}  # × direct, same run


def wpflow_run(env: dict[str, str], *extra: str) -> float:
    return timed_wpflow(env, "run", MILESTONE, "--as-of", AS_OF, *extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each, no running-server case")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each repeatable case (default 1)")
    args = parser.parse_args()
    repeat = args.repeat or 1  # make bench stays within 10 minutes; --repeat 3 for a median
    from orchestration.serve import free_port, prefect_server

    project = ROOT / "projects" / "baltmet-inno"
    runs: dict[str, list[float]] = {}
    n = count()
    print(f"cold start of `wpflow run {MILESTONE} --as-of {AS_OF}` as a new process; {machine()}", flush=True)

    with scratch("coldstart") as tmp:

        def env(**extra: str) -> dict[str, str]:
            base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WPFLOW_"))}
            return {**base, **isolated_env(project, tmp / f"outputs-{next(n)}"), **extra}

        def record(case: str, seconds: float) -> None:
            runs.setdefault(case, []).append(seconds)
            print(f"  {case:<26} {seconds:6.2f} s", flush=True)

        home = tmp / "ephemeral-home"
        home.mkdir()
        for _ in range(repeat):
            record("direct", wpflow_run(env(), "--direct"))
        record("ephemeral_fresh_home", wpflow_run(env(PREFECT_HOME=str(home))))
        for _ in range(repeat):
            record("ephemeral_migrated_home", wpflow_run(env(PREFECT_HOME=str(home))))
        if not args.quick:
            client_home = tmp / "client-home"
            client_home.mkdir()
            start = time.perf_counter()
            with prefect_server(free_port(), tmp / "server-home") as api:
                print(f"  (prefect server start: healthy after {time.perf_counter() - start:.1f} s)", flush=True)
                server_env = env(PREFECT_API_URL=api, PREFECT_HOME=str(client_home))
                record("running_server_first_run", wpflow_run(server_env))
                for _ in range(repeat):
                    record("running_server", wpflow_run(env(PREFECT_API_URL=api, PREFECT_HOME=str(client_home))))

    results = {case: statistics.median(values) for case, values in runs.items()}
    direct = results["direct"]
    print(f"\n{'case':>26} {'runs':>4} {'median s':>9} {'vs direct':>9}")
    for case, seconds in results.items():
        print(f"{case:>26} {len(runs[case]):>4} {seconds:>9.2f} {seconds / direct:>8.1f}x")
    ratios = {case: round(seconds / direct, 2) for case, seconds in results.items() if case != "direct"}
    verdict = {case: ratios[case] <= limit for case, limit in TARGETS.items() if case in ratios}
    for case, met in verdict.items():
        print(f"target: {case} ≤ {TARGETS[case]}× direct — {'met' if met else 'MISSED'} ({ratios[case]:.2f}×)")
    emit(
        {
            "name": "cold_start",
            **{k: round(v, 2) for k, v in results.items()},
            "ratios": ratios,
            "ratio": ratios["ephemeral_migrated_home"],
            "target": " and ".join(f"{case} <= {limit}x direct" for case, limit in TARGETS.items()),
            "target_met": all(verdict.values()) if len(verdict) == len(TARGETS) and not args.quick else None,
            "runs": {k: [round(v, 2) for v in vs] for k, vs in runs.items()},
        }
    )


if __name__ == "__main__":
    main()
