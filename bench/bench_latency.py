"""Receipt latency: with the inbox watcher running (one `receive-upload` Prefect flow run per
file, as `wpflow serve` runs it), files are dropped one by one; the time from a file being
complete to its receipt being in the outbox is measured. Also the plain path without Prefect
(`wpflow.watch.receive_file`) for comparison: the difference is what a flow run costs.

Target (issue 7): p95 ≤ 2 s with the default 1 s stability window (the window is the floor).

    .venv/bin/python bench/bench_latency.py [--quick] [--files 100]
"""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from pathlib import Path

from common import ROOT, emit, machine, scratch

WINDOW_S = 1.0
TARGET_P95 = 2.0
SENDERS = ["helsinki", "malmo", "riga", "tallinn", "stockholm", "copenhagen"]
CSV = "name;provider;level;instrument;budget_eur\n{name};City;municipal;grant;1 000 000,00\n"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def outbox(outputs: Path) -> int:
    folder = outputs / "outbox"
    return sum(1 for p in folder.glob("*.eml") if not p.name.startswith(".")) if folder.exists() else 0


def measure(outputs: Path, inbox: Path, files: int, receive, tag: str) -> list[float]:
    from wpflow.stages import workspace
    from wpflow.watch import InboxWatcher

    watcher = InboxWatcher(workspace(), receive)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    watcher.ready.wait(30)
    latencies = []
    try:
        for i in range(files):
            before = outbox(outputs)
            path = inbox / SENDERS[i % len(SENDERS)] / "WP4-M3" / f"seed_funding_{tag}_{i}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(CSV.format(name=f"Scheme {tag} {i}"), encoding="utf-8")  # new bytes: receipts are keyed by hash
            complete = time.monotonic()
            deadline = complete + 30
            while outbox(outputs) <= before:
                if time.monotonic() > deadline:
                    raise SystemExit(f"no receipt for file {i} after 30 s")
                time.sleep(0.005)
            latencies.append(time.monotonic() - complete)
    finally:
        stop.set()
        thread.join(30)
    return latencies


def main() -> None:
    import logging
    logging.basicConfig(level=os.environ.get("BENCH_LOG", "ERROR"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 files per path")
    parser.add_argument("--files", type=int, default=None)
    args = parser.parse_args()
    files = args.files or (10 if args.quick else 100)
    with scratch("latency") as tmp:
        os.environ.update({
            "WPFLOW_PROJECT": str(ROOT / "projects" / "baltmet-inno"), "WPFLOW_OUTPUTS": str(tmp / "outputs"),
            "WPFLOW_INBOX": str(tmp / "inbox"), "WPFLOW_STABLE_SECONDS": str(WINDOW_S),
            "WPFLOW_MAIL_TRANSPORT": "outbox", "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
        })
        (tmp / "prefect").mkdir()
        (tmp / "inbox").mkdir()
        from flows.watcher import receive_upload_run, register_receive_upload
        from wpflow.stages import workspace
        from wpflow.watch import receive_file

        print(f"receipt latency, {files} files one by one, {WINDOW_S:.0f} s stability window; {machine()}")
        register_receive_upload()  # starts the ephemeral API, as `wpflow serve` has before any upload
        # the plain path is the reference only: a third as many files keeps `make bench` near 10 min
        plain = measure(tmp / "outputs", tmp / "inbox", max(10, files // 3),
                        lambda item: receive_file(workspace(), item), "plain")
        prefect = measure(tmp / "outputs", tmp / "inbox", files, receive_upload_run, "prefect")
    rows = {"plain": plain, "prefect": prefect}
    print(f"{'path':>8} {'p50 s':>6} {'p95 s':>6} {'max s':>6}")
    for name, values in rows.items():
        print(f"{name:>8} {sorted(values)[len(values) // 2]:>6.2f} {p95(values):>6.2f} {max(values):>6.2f}")
    emit({"name": "receipt_latency", "files": files, "window_s": WINDOW_S,
          "p50_s": round(sorted(prefect)[len(prefect) // 2], 3), "p95_s": round(p95(prefect), 3),
          "max_s": round(max(prefect), 3), "plain_p95_s": round(p95(plain), 3),
          "ratio": round(p95(prefect) / p95(plain), 2), "target_met": p95(prefect) <= TARGET_P95})


if __name__ == "__main__":
    main()
