"""Where Prefect's cost per milestone goes: one `milestone_pipeline` subflow of `all_milestones`
against the ephemeral API or a running server, counted — API calls by route, events (task-run
state changes go to the server as events, not API calls, in Prefect 3), results written, log
batches, artifacts — and timed against the same milestone through `run_direct` in the same
process. A diagnosis aid for docs/performance.md, not part of `make bench`.

Counting wraps httpx's `send` and Prefect's events worker / result store in this process only
(nothing in wpflow changes). The API server's own CPU time is read from /proc for the ephemeral
server (a child of this process) and for the running server this script starts.

    .venv/bin/python bench/profile_milestone.py [--server] [--milestones WP4-M3,WP1-M1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import time
from collections import Counter
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from common import ROOT, emit, isolated_env, machine, scratch

AS_OF = date(2008, 1, 31)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children, from /proc (no psutil here)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_pids() -> list[int]:
    """uvicorn servers started by this process (the ephemeral API) or by this script (--server)."""
    me = str(os.getpid())
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if stat[1] == me and (b"uvicorn" in cmd or b"prefect" in cmd):
                found.append(int(proc.name))
    return found


class Counts:
    """Everything one run sends to the API, by kind."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.call_s: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.results = 0
        self.result_s = 0.0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def install(self, stack: ExitStack) -> None:
        import httpx
        from prefect.events.worker import EventsWorker
        from prefect.results import ResultStore

        counts = self

        def route(request: Any) -> str:
            return f"{request.method} {UUID.sub('{id}', request.url.path.removeprefix('/api'))}"

        original_send = httpx.AsyncClient.send

        async def send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original_send(client, request, *args, **kwargs)
            finally:
                counts.calls[route(request)] += 1
                counts.call_s[route(request)] += time.perf_counter() - start

        original_sync = httpx.Client.send

        def send_sync(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original_sync(client, request, *args, **kwargs)
            finally:
                counts.calls[route(request)] += 1
                counts.call_s[route(request)] += time.perf_counter() - start

        original_event = EventsWorker.send

        def send_event(worker: Any, event: Any) -> Any:
            counts.events[event.event] += 1
            return original_event(worker, event)

        original_persist = ResultStore.persist_result_record

        def persist(store: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original_persist(store, *args, **kwargs)
            finally:
                counts.results += 1
                counts.result_s += time.perf_counter() - start

        for owner, name, value, original in [
            (httpx.AsyncClient, "send", send, original_send),
            (httpx.Client, "send", send_sync, original_sync),
            (EventsWorker, "send", send_event, original_event),
            (ResultStore, "persist_result_record", persist, original_persist),
        ]:
            setattr(owner, name, value)
            stack.callback(setattr, owner, name, original)

    def summary(self) -> dict[str, Any]:
        return {
            "api_calls": sum(self.calls.values()),
            "api_s": round(sum(self.call_s.values()), 3),
            "by_route": {k: [v, round(self.call_s[k], 3)] for k, v in self.calls.most_common()},
            "events": dict(self.events.most_common()),
            "results_persisted": self.results,
            "results_s": round(self.result_s, 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="store_true", help="against a running `prefect server start`")
    parser.add_argument("--milestones", default="WP4-M3,WP1-M1", help="profiled one by one, after a warm-up")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions per run")
    args = parser.parse_args()
    project = ROOT / "projects" / "baltmet-inno"
    with scratch("profile-milestone") as tmp, ExitStack() as stack:
        os.environ.update(isolated_env(project, tmp / "outputs", PREFECT_HOME=str(tmp / "home")))
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"  # as `wpflow run` sends the runs' logs
        os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "WARNING"
        (tmp / "home").mkdir()
        if args.server:
            from orchestration.serve import free_port, prefect_server

            os.environ["PREFECT_API_URL"] = stack.enter_context(prefect_server(free_port(), tmp / "server-home"))
        from flows.milestone import all_milestones
        from flows.starts import without_heartbeat
        from orchestration.ephemeral_api import tie_ephemeral_server
        from wpflow.milestone.direct_run import run_direct
        from wpflow.workspace import forget_workspaces, workspace

        tie_ephemeral_server()
        stack.enter_context(without_heartbeat())
        counts = Counts()
        counts.install(stack)
        start = time.perf_counter()
        all_milestones(["WP2-M1"], AS_OF, str(project))  # starts (and migrates) the API, imports
        print(f"warm-up (API start, imports, first run): {time.perf_counter() - start:.1f} s; {machine()}")
        figures = {}
        for i, milestone_id in enumerate(args.milestones.split(",")):
            os.environ["WPFLOW_OUTPUTS"] = str(tmp / f"direct-{i}")
            forget_workspaces()
            workspace(str(project)).project  # noqa: B018 - the project parsed before timing, on both sides
            start = time.perf_counter()
            run_direct(workspace(str(project)), milestone_id, AS_OF)
            direct = time.perf_counter() - start
            os.environ["WPFLOW_OUTPUTS"] = str(tmp / f"prefect-{i}")
            forget_workspaces()
            workspace(str(project)).project  # noqa: B018
            servers = server_pids()
            cpu_before = sum(cpu_seconds(p) for p in servers)
            counts.reset()
            profiler = cProfile.Profile() if args.profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            all_milestones([milestone_id], AS_OF, str(project))
            if profiler:
                profiler.disable()
            prefect = time.perf_counter() - start
            time.sleep(2)  # the server records the run's events after the flow returns
            server_cpu = sum(cpu_seconds(p) for p in servers) - cpu_before
            figures[milestone_id] = {
                "direct_s": round(direct, 3),
                "prefect_s": round(prefect, 3),
                "server_cpu_s": round(server_cpu, 3),
                **counts.summary(),
            }
            f = figures[milestone_id]
            print(
                f"\n{milestone_id}: direct {direct:.2f} s, through Prefect {prefect:.2f} s "
                f"(all-milestones + one milestone-pipeline subflow); API server CPU {server_cpu:.2f} s"
            )
            print(f"  API calls {f['api_calls']} ({f['api_s']:.2f} s waited), events {sum(f['events'].values())}")
            for r, (n, s) in f["by_route"].items():
                print(f"    {n:>3} × {r:<45} {s:6.3f} s")
            for e, n in f["events"].items():
                print(f"    {n:>3} × event {e}")
            print(f"  results persisted {f['results_persisted']} ({f['results_s']:.3f} s)")
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"prefect|flows|tasks", 60)
                print(out.getvalue())
    emit({"name": "profile_milestone", "server": args.server, "machine": machine(), "runs": figures})


if __name__ == "__main__":
    main()
