"""The programme benchmark: what the production topology costs and how it grows. N synthetic
projects — BaltMet Inno's definition (13 partners, 25 milestones) and sample inbox under other
names — run every milestone through `wpflow serve --workers 2` on PostgreSQL (a throwaway store
database and the Prefect server's beside it), against the same milestones called directly
(`run_direct`, one process, a throwaway PostgreSQL store of its own), for several N in one run.

Per N: wall time of both sides and their ratio; over the whole run: the peak memory (VmHWM) of
the serve process, the Prefect server, each worker and the largest flow-run process; and how the
topology's wall time grows with N (seconds per project from a least-squares line, and the
largest N's time against the smallest's scaled). Runs go to the server through `run_deployment`
at most `--in-flight` at a time (a work pool has no limit of its own: all 500 at once would
start 500 processes), as the watcher and the daily ladder submit them in production.

    .venv/bin/python bench/bench_programme.py [--quick] [--sizes 5,10,20] [--milestones 25] [--in-flight 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from common import ROOT, child_records, emit, isolated_env, machine, scratch, tied
from sqlalchemy.engine import make_url

from orchestration.databases import drop_database, ensure_database, prefect_database_url
from orchestration.prefect_server import descendants, free_port

BUNDLED = ROOT / "projects" / "baltmet-inno"
AS_OF = "2008-01-31"  # as `make demo`: every milestone has its inputs and is due
POSTGRES = os.environ.get("WPFLOW_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UP_TIMEOUT_S = 300


# -- the projects --------------------------------------------------------------------------
def make_projects(base: Path, size: int) -> list[Path]:
    """`size` copies of BaltMet Inno, each a folder and a name of its own (its slug and its rows)."""
    text = (BUNDLED / "project.yaml").read_text(encoding="utf-8")
    assert "\nname: BaltMet Inno\n" in text
    folders = []
    for i in range(1, size + 1):
        folder = base / f"programme-{size}-{i:02d}"
        folder.mkdir(parents=True)
        renamed = text.replace("\nname: BaltMet Inno\n", f"\nname: Programme {size}-{i:02d}\n")
        (folder / "project.yaml").write_text(renamed, encoding="utf-8")
        shutil.copytree(BUNDLED / "inbox", folder / "inbox")
        folders.append(folder)
    return folders


def milestone_ids(count: int) -> list[str]:
    """`count` of BaltMet Inno's 25 milestones, evenly spread over its work packages (all 25 by
    default): early ones with few inputs, late ones with many."""
    from wpflow.project.load import load_project

    every = [m.id for m in load_project(BUNDLED).milestones()]
    count = min(count, len(every))
    return [every[i * len(every) // count] for i in range(count)]


def database(tag: str) -> str:
    url = make_url(POSTGRES).set(database=f"wpflow_bench_{tag}_{uuid.uuid4().hex[:8]}", query={})
    return url.render_as_string(hide_password=False)


# -- the direct side: a child process, one milestone after another -------------------------
def direct_child(plan: list[list[str]]) -> None:
    import resource
    from datetime import date

    from wpflow.milestone.direct_run import run_direct
    from wpflow.workspace import forget_workspaces, workspace

    start = time.perf_counter()
    for folder, milestone in plan:
        run_direct(workspace(folder), milestone, date.fromisoformat(AS_OF))
        forget_workspaces()
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"direct_s": round(seconds, 2), "peak_mb": round(peak_mb)}), flush=True)


def run_directly(plan: list[tuple[Path, str]], tmp: Path, env: dict[str, str]) -> dict:
    url = database("direct")
    ensure_database(url)
    child_env = {**env, **isolated_env(plan[0][0], tmp / "direct-outputs"), "WPFLOW_DATABASE_URL": url}
    try:
        upgrade = [sys.executable, "-m", "wpflow", "db", "upgrade"]
        subprocess.run(upgrade, env=child_env, cwd=ROOT, check=True, capture_output=True)
        [record] = list(child_records(__file__, [[str(f), m] for f, m in plan], child_env, "direct"))
    finally:
        drop_database(url)
        shutil.rmtree(tmp / "direct-outputs", ignore_errors=True)
    return record


# -- the topology side ---------------------------------------------------------------------
class Memory(threading.Thread):
    """Samples the processes under serve twice a second: the high-water mark (VmHWM) of each,
    by role — serve, the Prefect server, each worker, the flow runs the workers start."""

    def __init__(self, serve_pid: int):
        super().__init__(daemon=True)
        self.serve_pid = serve_pid
        self.peaks: dict[int, tuple[str, float]] = {}
        self.halt = threading.Event()

    @staticmethod
    def _status(pid: int) -> tuple[float, int] | None:
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except (OSError, ValueError):
            return None
        return int(fields.get("VmHWM", "0 kB").split()[0]) / 1024, int(fields["PPid"])

    def sample(self) -> None:
        workers = {p for p, (role, _) in self.peaks.items() if role.startswith("worker")}
        for pid in [self.serve_pid, *descendants(self.serve_pid)]:
            status = self._status(pid)
            if status is None:
                continue
            mb, parent = status
            role = self.peaks.get(pid, ("", 0.0))[0] or self._role(pid, parent, workers)
            self.peaks[pid] = (role, max(mb, self.peaks.get(pid, ("", 0.0))[1]))

    def _role(self, pid: int, parent: int, workers: set[int]) -> str:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
        except OSError:
            return "other"
        if pid == self.serve_pid:
            return "serve"
        if " worker start " in cmdline:
            return f"worker {sum(r.startswith('worker') for r, _ in self.peaks.values()) + 1}"
        if parent in workers or "prefect.engine" in cmdline or "flow_run" in cmdline:
            return "flow run"
        return "prefect server" if "server" in cmdline or "uvicorn" in cmdline else "other"

    def run(self) -> None:
        while not self.halt.wait(0.5):
            self.sample()

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for role, mb in self.peaks.values():
            key = "flow run (largest)" if role == "flow run" else role
            out[key] = round(max(out.get(key, 0.0), mb))
        return dict(sorted(out.items()))


def start_serve(tmp: Path, store_url: str, env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    port, log = free_port(), tmp / "serve.log"
    serve_env = {k: v for k, v in env.items() if not k.startswith("PREFECT_API_")}
    serve_env.update(
        isolated_env(BUNDLED, tmp / "serve-outputs"),
        PREFECT_HOME=str(tmp / "prefect-home"),
        PREFECT_WORKER_QUERY_SECONDS="1",  # pick runs up at once (default 10 s)
        WPFLOW_DATABASE_URL=store_url,
        WPFLOW_REPORTS_PORT=str(free_port()),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wpflow", "serve", "--workers", "2", "--no-watch", "--port", str(port)],
            cwd=ROOT,
            env=serve_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=tied(),
        )
    deadline = time.monotonic() + UP_TIMEOUT_S
    while "Prefect UI and API:" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("wpflow serve did not come up:\n" + log.read_text(errors="replace")[-4000:])
        time.sleep(0.5)
    return process, f"http://127.0.0.1:{port}/api", log


def run_through_server(api: str, plan: list[tuple[Path, str]], in_flight: int) -> tuple[float, dict[str, int]]:
    """Seconds from the first submission until every run is final, at most `in_flight` at a
    time; and the final states counted."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    todo, running, states = list(plan), [], {}
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        start = time.perf_counter()
        while todo or running:
            while todo and len(running) < in_flight:
                folder, milestone = todo.pop(0)
                run = run_deployment(
                    f"milestone-pipeline/baltmet-inno-{milestone.lower()}",  # the parameter names the project
                    parameters={"milestone_id": milestone, "as_of": AS_OF, "project": str(folder)},
                    timeout=0,
                )
                running.append(run.id)
            time.sleep(0.5)
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=running)))
            for run in runs:
                if run.state is not None and run.state.is_final():
                    running.remove(run.id)
                    states[run.state.name] = states.get(run.state.name, 0) + 1
        return time.perf_counter() - start, states


def stop_serve(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def growth(rows: list[dict]) -> dict:
    """Seconds per project (least squares over the sizes) and the largest size's time against
    the smallest's scaled by N: 1.0 is linear, above it grows faster than the number of projects."""
    xs, ys = [r["projects"] for r in rows], [r["topology_s"] for r in rows]
    if len(rows) < 2:
        return {}
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    scaled = (ys[-1] / xs[-1]) / (ys[0] / xs[0])
    return {
        "s_per_project": round(slope, 1),
        "intercept_s": round(my - slope * mx, 1),
        "largest_vs_smallest_per_project": round(scaled, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 projects × 5 milestones (make bench)")
    parser.add_argument("--sizes", default=None, help="comma-separated numbers of projects (default 5,10,20)")
    parser.add_argument("--milestones", type=int, default=None, help="milestones per project (default 25)")
    parser.add_argument("--in-flight", type=int, default=4, help="runs submitted at once (default 4)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        direct_child(json.loads(args.child))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([2] if args.quick else [5, 10, 20])
    milestones = milestone_ids(args.milestones or (5 if args.quick else 25))
    print(
        f"programme: {', '.join(map(str, sizes))} projects × {len(milestones)} milestones × 13 partners, "
        f"`wpflow serve --workers 2` on PostgreSQL ({args.in_flight} runs in flight) vs run_direct; {machine()}",
        flush=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WPFLOW_", "PREFECT_"))}
    store_url = database("serve")
    rows: list[dict] = []
    with scratch("programme") as tmp:
        started = time.perf_counter()
        serve, api, _ = start_serve(tmp, store_url, env)
        up_s = time.perf_counter() - started
        print(f"  serve up (server on PostgreSQL, 2 workers, deployments): {up_s:.1f} s", flush=True)
        memory = Memory(serve.pid)
        memory.start()
        try:
            for size in sizes:
                plan = [(f, m) for f in make_projects(tmp / "projects", size) for m in milestones]
                direct = run_directly(plan, tmp, env)
                topology_s, states = run_through_server(api, plan, args.in_flight)
                row = {
                    "projects": size,
                    "runs": len(plan),
                    "direct_s": direct["direct_s"],
                    "topology_s": round(topology_s, 1),
                    "ratio": round(topology_s / direct["direct_s"], 2),
                    "direct_peak_mb": direct["peak_mb"],
                    "states": states,
                }
                rows.append(row)
                print(
                    f"  {size:>3} projects, {len(plan):>4} runs: direct {row['direct_s']:7.1f} s, "
                    f"serve --workers 2 {row['topology_s']:7.1f} s ({row['ratio']}×), states {states}, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            memory.halt.set()
            memory.sample()
            stop_serve(serve)
            for url in (store_url, prefect_database_url(store_url)):
                if url:
                    drop_database(url)
    peaks = memory.summary()
    print(f"\n{'projects':>8} {'runs':>5} {'direct s':>9} {'topology s':>11} {'ratio':>6} {'s/run':>6}")
    for r in rows:
        print(
            f"{r['projects']:>8} {r['runs']:>5} {r['direct_s']:>9.1f} {r['topology_s']:>11.1f} {r['ratio']:>6} {r['topology_s'] / r['runs']:>6.2f}"
        )
    print("peak memory (VmHWM, MB): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    grown = growth(rows)
    if grown:
        print(
            f"growth: {grown['s_per_project']} s per project; the largest size per project is {grown['largest_vs_smallest_per_project']}× the smallest's"
        )
    last = rows[-1]
    emit(
        {
            "name": "programme",
            "projects": last["projects"],
            "milestones": len(milestones),
            "ratio": last["ratio"],
            "direct_s": last["direct_s"],
            "topology_s": last["topology_s"],
            "serve_up_s": round(up_s, 1),
            "in_flight": args.in_flight,
            "peak_mb": peaks,
            "growth": grown,
            "sizes": rows,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
