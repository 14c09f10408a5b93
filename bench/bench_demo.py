"""The demo's 25 milestones: `wpflow run --all --as-of 2008-01-31` through Prefect (ephemeral API,
fresh and already-migrated Prefect home) against `--direct`, as new processes, in one run, so
the ratios hold whatever the machine's speed that day (the targets: migrated home ≤ 2×
direct, fresh home ≤ 3×). Fresh outputs for every run; no PDF (LibreOffice is not what this
measures).

    .venv/bin/python bench/bench_demo.py [--quick]
"""

from __future__ import annotations

import argparse
import os
from itertools import count

from common import ROOT, emit, isolated_env, machine, scratch, timed_wpflow

AS_OF = "2008-01-31"
TARGETS = {"migrated_home": 2.0, "fresh_home": 3.0}


def run_all(env: dict[str, str], *extra: str) -> float:
    return timed_wpflow(env, "run", "--all", "--as-of", AS_OF, *extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="direct and fresh home only; targets not judged")
    args = parser.parse_args()
    project = ROOT / "projects" / "baltmet-inno"
    n = count()
    print(f"`wpflow run --all --as-of {AS_OF}` (25 milestones) as new processes; {machine()}", flush=True)
    with scratch("demo") as tmp:
        home = tmp / "prefect-home"

        def env(**extra: str) -> dict[str, str]:
            return {**os.environ, **isolated_env(project, tmp / f"outputs-{next(n)}", **extra)}

        figures = {"direct": run_all(env(), "--direct")}
        print(f"  direct          {figures['direct']:6.1f} s", flush=True)
        figures["fresh_home"] = run_all(env(PREFECT_HOME=str(home)))
        print(f"  fresh home      {figures['fresh_home']:6.1f} s", flush=True)
        if not args.quick:
            figures["migrated_home"] = run_all(env(PREFECT_HOME=str(home)))
            print(f"  migrated home   {figures['migrated_home']:6.1f} s", flush=True)
    ratios = {k: round(v / figures["direct"], 2) for k, v in figures.items() if k != "direct"}
    verdict = {k: ratios[k] <= limit for k, limit in TARGETS.items() if k in ratios and not args.quick}
    for k, r in ratios.items():
        print(
            f"  {k:<15} {r:.2f}× direct (target ≤ {TARGETS[k]}×){'' if args.quick else ' ' + ('met' if verdict[k] else 'NOT met')}"
        )
    emit(
        {
            "name": "demo",
            "seconds": {k: round(v, 2) for k, v in figures.items()},
            "ratios": ratios,
            "targets_met": verdict,
            "target": " and ".join(f"{k} <= {v}x direct" for k, v in TARGETS.items()),
            "target_met": all(verdict.values()) if verdict else None,
            "quick": args.quick,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
