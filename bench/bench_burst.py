"""A burst of uploads: N files land at once across partners and milestones; the time from the
burst to each file's receipt, through `wpflow serve` and through the plain watcher, in one run.

The files are copies of the bundled CSV and Markdown inputs (9 partners × 6 milestones of
BaltMet Inno), each made distinct by one added line, written under `.part` names and renamed
in one tight loop; "complete" is each file's rename. A receipt is matched to its file by the
file name in its Subject; its write time is the `.eml`'s mtime (written atomically). The
watchers are the ones of `bench_latency.py` (same subprocess set-up, same 1 s window).
Target: p95 ≤ 10 s through `wpflow serve` for 200 files.

    .venv/bin/python bench/bench_burst.py [--files 200] [--quick]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import statistics
import sys
import time
from pathlib import Path

from bench_latency import Watcher, p95
from common import ROOT, emit, machine, scratch

TARGET_P95 = 10.0
TIMEOUT_S = 300
SOURCES = ROOT / "projects" / "baltmet-inno" / "inbox"


def sources() -> list[Path]:
    """The bundled text inputs a line can be added to without breaking them."""
    return sorted(p for p in SOURCES.glob("*/*/*") if p.suffix in (".csv", ".md"))


def distinct(source: Path, i: int) -> bytes:
    """The source with one more line: a data row copy with its first field numbered (CSV), a
    sentence (Markdown). New bytes, so a new submission and a receipt of its own."""
    data = source.read_bytes()  # bytes: some bundled inputs are Windows-1252, as partners send them
    if source.suffix == ".md":
        return data.rstrip(b"\n") + f"\n\nBurst note {i}.\n".encode()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    lines = data.rstrip(b"\r\n").split(newline)
    last = lines[-1]
    sep = b";" if last.count(b";") >= last.count(b",") else b","
    first, _, rest = last.partition(sep)
    return newline.join([*lines, first.strip(b'"') + f" {i}".encode() + sep + rest]) + newline


def receipt_times(outbox: Path) -> dict[str, float]:
    """File name (from the receipt's Subject) → when its receipt was written."""
    found: dict[str, float] = {}
    if not outbox.exists():
        return found
    for eml in outbox.glob("*.eml"):
        if eml.name.startswith("."):
            continue
        with eml.open("rb") as fh:
            subject = str(email.message_from_binary_file(fh, policy=email.policy.default)["Subject"] or "")
        if " receipt — " in subject:
            found[subject.split(" receipt — ", 1)[1].rsplit(":", 1)[0]] = eml.stat().st_mtime
    return found


def burst(kind: str, files: int) -> dict:
    with scratch(f"burst-{kind}") as tmp:
        watcher = Watcher(kind, tmp)
        try:
            ready_s = watcher.wait_ready()
            pool = sources()
            staged: list[tuple[Path, Path]] = []
            for i in range(files):
                source = pool[i % len(pool)]
                partner, milestone = source.parent.parent.name, source.parent.name
                final = watcher.inbox / partner / milestone / f"{source.stem}_burst_{i:03d}{source.suffix}"
                final.parent.mkdir(parents=True, exist_ok=True)
                part = final.with_name(final.name + ".part")
                part.write_bytes(distinct(source, i))
                staged.append((part, final))
            complete: dict[str, float] = {}
            for part, final in staged:
                os.rename(part, final)
                complete[final.name] = time.time()
            deadline = time.monotonic() + TIMEOUT_S
            while len(written := receipt_times(watcher.outputs / "outbox" / "baltmet-inno")) < files:
                if time.monotonic() > deadline or watcher.proc.poll() is not None:
                    raise SystemExit(
                        f"{kind}: {len(written)} of {files} receipts after {TIMEOUT_S} s:\n"
                        f"{watcher.log.read_text()[-3000:]}"
                    )
                time.sleep(0.2)
        finally:
            stopped = watcher.stop()
    values = [written[name] - at for name, at in complete.items()]
    partners = {final.parent.parent.name for _, final in staged}
    milestones = {final.parent.name for _, final in staged}
    return {
        "kind": kind,
        "files": files,
        "partners": len(partners),
        "milestones": len(milestones),
        "ready_s": round(ready_s, 1),
        "p50_s": round(statistics.median(values), 2),
        "p95_s": round(p95(values), 2),
        "max_s": round(max(values), 2),
        **stopped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=None, help="files in the burst (default 200)")
    parser.add_argument("--quick", action="store_true", help="40 files")
    args = parser.parse_args()
    files = args.files or (40 if args.quick else 200)
    print(f"receipts for a burst of {files} files, 1 s stability window; {machine()}", flush=True)
    results = {kind: burst(kind, files) for kind in ("prefect", "plain")}
    prefect, plain = results["prefect"], results["plain"]
    print(f"  {prefect['partners']} partners × {prefect['milestones']} milestones")
    print(f"\n{'watcher':>22} {'files':>5} {'p50 s':>6} {'p95 s':>6} {'max s':>6}")
    for label, r in (("prefect (wpflow serve)", prefect), ("plain (no Prefect)", plain)):
        print(f"{label:>22} {r['files']:>5} {r['p50_s']:>6.2f} {r['p95_s']:>6.2f} {r['max_s']:>6.2f}")
    met = prefect["p95_s"] <= TARGET_P95
    print(f"target: p95 ≤ {TARGET_P95:.0f} s through wpflow serve — {'met' if met else 'MISSED'}", flush=True)
    emit(
        {
            "name": "burst",
            "files": files,
            "p50_s": prefect["p50_s"],
            "p95_s": prefect["p95_s"],
            "max_s": prefect["max_s"],
            "plain_p50_s": plain["p50_s"],
            "plain_p95_s": plain["p95_s"],
            "ratio": round(prefect["p95_s"] / plain["p95_s"], 2),
            "target": f"p95 <= {TARGET_P95} s",
            "target_met": met if files >= 200 else None,
            "runs": results,
        }
    )


if __name__ == "__main__":
    sys.exit(main())
