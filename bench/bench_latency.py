"""Receipt latency: files dropped one by one into a partner's watched folder while the watcher
runs in its own process; the time from a file being complete to its receipt being written.

Two watchers, each a subprocess on a fresh temporary inbox and outputs:
- **prefect**: `wpflow serve --milestone WP4-M3` — a `prefect server start` of its own, the
  deployment, and the inbox watcher with one `receive-upload` flow run per file: what the README
  promises ("within about two seconds the partner's receipt is in outputs/outbox/baltmet-inno/").
- **plain**: the same `InboxWatcher` calling `wpflow.inbox.watch.receive_file` (no Prefect); the
  difference is what a flow run per upload costs.

Each file is written under a `.part` name (ignored by the watcher, like a browser download) and
renamed; "complete" is the moment after the rename. The receipt lands in `outputs/outbox/baltmet-inno/` as a
`.eml` written atomically (temp file + rename); its mtime is when it was written. This process
only writes files and lists the outbox, so it takes nothing from the watcher's interpreter.
One file is dropped before measuring (the first after start also pays lazy imports) and
reported on its own. Stability window: WPFLOW_STABLE_SECONDS=1 (the default), the latency's floor.
Target: p95 through Prefect ≤ 2× the plain path's p95 measured in the same
run (the plain p95 is the 1 s window plus the receipt, ~1.1 s: 2× is the README's "about two
seconds" as a ratio that holds whatever the machine's speed that day).

    .venv/bin/python bench/bench_latency.py [--quick] [--files 40]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT, emit, machine, scratch, tied

WINDOW_S = 1.0
TARGET_RATIO = 2.0  # p95 through Prefect / p95 of the plain path, same run
MILESTONE = "WP4-M3"
SENDERS = ["helsinki", "malmo", "riga", "tallinn", "stockholm", "copenhagen"]
CSV = "name;provider;level;instrument;budget_eur\n{name};City;municipal;grant;1 000 000,00\n"
READY_TIMEOUT_S = 240  # a fresh Prefect home is migrated before the server answers (20+ s when busy)
RECEIPT_TIMEOUT_S = 60


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def default_sigint_tied() -> Callable[[], None]:
    """`preexec_fn`: SIGINT back to its default, and the child tied to this process (the tie is
    built here, in the parent: it records the parent's pid for the child to check)."""
    tie = tied()

    def preexec() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if tie is not None:
            tie()

    return preexec


def plain_watcher_child() -> None:
    """In a subprocess: the InboxWatcher with the plain receiver until SIGTERM; 'ready' on stdout."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    from wpflow.inbox.watch import InboxWatcher, receive_file
    from wpflow.workspace import workspace

    ws = workspace()
    watcher = InboxWatcher(ws, lambda item: receive_file(ws, item))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    watcher.ready.wait(60)
    print("ready", flush=True)
    while not stop.is_set():
        stop.wait(0.5)
    thread.join(30)


class Watcher:
    """A watcher subprocess on its own inbox/outputs; knows when it is ready, stops it after."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp = kind, tmp
        self.inbox, self.outputs = tmp / "inbox", tmp / "outputs"
        self.inbox.mkdir(parents=True)
        self.log = tmp / "watcher.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WPFLOW_"))}
        env.update(
            {
                "WPFLOW_PROJECT": str(ROOT / "projects" / "baltmet-inno"),
                "WPFLOW_INBOX": str(self.inbox),
                "WPFLOW_OUTPUTS": str(self.outputs),
                "WPFLOW_STABLE_SECONDS": str(WINDOW_S),
                "WPFLOW_MAIL_TRANSPORT": "outbox",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING",
            }
        )
        if kind == "prefect":
            from orchestration.serve import free_port

            cmd = [
                sys.executable,
                *("-m", "wpflow", "serve", "--project", "baltmet-inno", "--milestone", MILESTONE),
                *("--port", str(free_port())),
            ]
        else:
            env["PREFECT_HOME"] = str(tmp / "prefect-unused")
            cmd = [sys.executable, __file__, "--plain-watcher"]
        self.out = self.log.open("w")
        # SIGINT back to its default: a bench started in the background (`make bench &`, nohup)
        # has it ignored, and serve would inherit that and sit through Ctrl-C (measured: it does)
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=ROOT,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_sigint_tied(),
        )

    def wait_ready(self) -> float:
        """Until the watcher has scanned the inbox and watches it (serve logs 'inbox scan:')."""
        start = time.monotonic()
        marker = "inbox scan:" if self.kind == "prefect" else "ready"
        while marker not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} watcher exited early:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() - start > READY_TIMEOUT_S:
                raise SystemExit(f"{self.kind} watcher not ready after {READY_TIMEOUT_S} s")
            time.sleep(0.1)
        return time.monotonic() - start

    def stop(self) -> dict:
        """Ctrl-C as a person would (serve then stops its Prefect server); killed after 20 s.
        Returns how it went: a watcher that does not stop cleanly is a finding too."""
        start, how = time.monotonic(), "exited"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT if self.kind == "prefect" else signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                how = "ignored Ctrl-C for 20 s, killed"
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.out.close()
        stopped = {"stop": how, "exit_code": self.proc.returncode, "stop_s": round(time.monotonic() - start, 1)}
        if self.kind == "prefect":
            stopped["orphan_server_killed"] = self.stop_orphan_server()
        return stopped

    def stop_orphan_server(self) -> bool:
        """The `prefect server start` that serve started (own session, home under our outputs)
        must be gone once serve exits; if it is not, say so and stop it (by its pid)."""
        home = str(self.outputs / "prefect")
        deadline = time.monotonic() + 15
        while True:
            found = []
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    cmdline = (proc / "cmdline").read_bytes()
                    environ = (proc / "environ").read_bytes()
                except OSError:
                    continue
                if b"server\x00start" in cmdline and f"PREFECT_HOME={home}".encode() in environ:
                    found.append(int(proc.name))
            if not found:
                return False
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for pid in found:
            os.kill(pid, signal.SIGTERM)
        print(
            f"  warning: serve exited but its Prefect server (pid {', '.join(map(str, found))}) was still "
            "running; stopped it",
            flush=True,
        )
        return True

    def receipts(self) -> set[str]:
        folder = self.outputs / "outbox" / "baltmet-inno"
        return {p.name for p in folder.glob("*.eml") if not p.name.startswith(".")} if folder.exists() else set()

    def drop(self, i: int, tag: str) -> float:
        """Write one new CSV (new bytes: receipts are keyed by hash), return its receipt latency."""
        before = self.receipts()
        folder = self.inbox / SENDERS[i % len(SENDERS)] / MILESTONE
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"seed_funding_{tag}_{i:03d}.csv"
        part = final.with_name(final.name + ".part")
        part.write_text(CSV.format(name=f"Scheme {tag} {i}"), encoding="utf-8")
        os.rename(part, final)
        complete = time.time()
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while True:
            new = self.receipts() - before
            if new:
                written = max((self.outputs / "outbox" / "baltmet-inno" / n).stat().st_mtime for n in new)
                return written - complete
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(
                    f"{self.kind}: no receipt for {final.name} after {RECEIPT_TIMEOUT_S} s:\n"
                    f"{self.log.read_text()[-3000:]}"
                )
            time.sleep(0.01)


def measure(kind: str, files: int) -> dict:
    with scratch(f"latency-{kind}") as tmp:
        watcher = Watcher(kind, tmp)
        try:
            ready_s = watcher.wait_ready()
            first = watcher.drop(0, f"{kind}-first")
            time.sleep(0.5)
            values = []
            for i in range(files):
                values.append(watcher.drop(i, kind))
                time.sleep(0.2)  # one by one: the next file after the previous receipt
        finally:
            stopped = watcher.stop()
        started_pipeline = "pipeline started" in watcher.log.read_text(errors="replace")
    return {
        "kind": kind,
        "files": files,
        "ready_s": round(ready_s, 1),
        "first_s": round(first, 3),
        "p50_s": round(statistics.median(values), 3),
        "p95_s": round(p95(values), 3),
        "max_s": round(max(values), 3),
        "min_s": round(min(values), 3),
        "started_pipeline": started_pipeline,
        **stopped,
        "latencies_s": [round(v, 3) for v in values],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 files through Prefect, 10 plain")
    parser.add_argument("--files", type=int, default=None, help="files through the Prefect watcher (default 100)")
    parser.add_argument("--plain-watcher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_watcher:
        plain_watcher_child()
        return
    # 40: one file's latency varies by tenths of a second, so p95 of 40 is as good as of 100
    # (2026-12-07: p50 1.62 s, p95 1.69 s, max 1.91 s of 100), in 2 minutes instead of 4
    files = args.files or (10 if args.quick else 40)
    plain_files = max(10, files // 3)  # the reference only: a third as many keeps `make bench` near 10 min
    print(f"receipt latency, files one by one, {WINDOW_S:.0f} s stability window; {machine()}", flush=True)
    prefect = measure("prefect", files)
    print(
        f"  prefect (wpflow serve): ready after {prefect['ready_s']} s, first file {prefect['first_s']:.2f} s; "
        f"Ctrl-C: {prefect['stop']} (exit code {prefect['exit_code']}) in {prefect['stop_s']} s",
        flush=True,
    )
    plain = measure("plain", plain_files)
    print(f"  plain watcher: ready after {plain['ready_s']} s, first file {plain['first_s']:.2f} s", flush=True)
    print(f"\n{'watcher':>22} {'files':>5} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'min s':>6}")
    for label, r in (("prefect (wpflow serve)", prefect), ("plain (no Prefect)", plain)):
        print(
            f"{label:>22} {r['files']:>5} {r['p50_s']:>6.2f} {r['p95_s']:>6.2f} {r['max_s']:>6.2f} {r['min_s']:>6.2f}"
        )
    ratio = prefect["p95_s"] / plain["p95_s"]
    met = ratio <= TARGET_RATIO
    print(
        f"target: p95 through Prefect ≤ {TARGET_RATIO:.0f}× the plain path's — {'met' if met else 'MISSED'} "
        f"({ratio:.2f}×); "
        f"a flow run per upload adds {prefect['p50_s'] - plain['p50_s']:+.2f} s at the median"
    )
    emit(
        {
            "name": "receipt_latency",
            "files": files,
            "window_s": WINDOW_S,
            "p50_s": prefect["p50_s"],
            "p95_s": prefect["p95_s"],
            "max_s": prefect["max_s"],
            "first_s": prefect["first_s"],
            "plain_p50_s": plain["p50_s"],
            "plain_p95_s": plain["p95_s"],
            "ratio": round(ratio, 2),
            "target": f"p95 <= {TARGET_RATIO}x the plain path's",
            "target_met": None if args.quick else met,  # 10 files: a smoke figure
            "runs": {"prefect": prefect, "plain": plain},
        }
    )


if __name__ == "__main__":
    main()
