"""Cold start: `wpflow run WP4-M3` as a new process, the way a secretariat member runs it —
with the ephemeral API on a fresh Prefect home (first start migrates Prefect's database), again
on that now-migrated home, against an already running `prefect server start`, and `--direct`
(no Prefect at all). The README's advice on which to use when comes from these figures.

    .venv/bin/python bench/bench_coldstart.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, emit, isolated_env, machine, scratch

MILESTONE, AS_OF = "WP4-M3", "2006-07-31"


def wpflow_run(env: dict[str, str], *extra: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "wpflow.cli", "run", MILESTONE, "--as-of", AS_OF, *extra],
                          env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"wpflow run {' '.join(extra)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the running-server case")
    args = parser.parse_args()
    from wpflow.serve import free_port, prefect_server

    project = ROOT / "projects" / "baltmet-inno"
    results: dict[str, float] = {}
    with scratch("coldstart") as tmp:
        def env(name: str, **extra: str) -> dict[str, str]:
            base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WPFLOW_"))}
            return {**base, **isolated_env(project, tmp / name / "outputs"), **extra}

        home = str(tmp / "home")
        results["direct"] = wpflow_run(env("direct"), "--direct")
        results["ephemeral_fresh_home"] = wpflow_run(env("fresh", WPFLOW_OUTPUTS=str(tmp / "fresh"), PREFECT_HOME=home))
        results["ephemeral_migrated_home"] = wpflow_run(env("again", PREFECT_HOME=home))
        if not args.quick:
            with prefect_server(free_port(), tmp / "server-home") as api:
                wpflow_run(env("warm", PREFECT_API_URL=api, PREFECT_HOME=str(tmp / "client")))  # the server's first run
                results["running_server"] = wpflow_run(env("server", PREFECT_API_URL=api, PREFECT_HOME=str(tmp / "client")))
    print(f"cold start of `wpflow run {MILESTONE}` as a new process; {machine()}")
    for name, seconds in results.items():
        print(f"{name:>24} {seconds:6.2f} s  ({seconds / results['direct']:.1f}x direct)")
    best = results.get("running_server", results["ephemeral_migrated_home"])
    emit({"name": "cold_start", **{k: round(v, 2) for k, v in results.items()},
          "ratio": round(results["ephemeral_migrated_home"] / best, 2)})


if __name__ == "__main__":
    main()
