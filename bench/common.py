"""What every benchmark shares: an isolated workspace per measurement, a timer, the last-line JSON.

Benchmarks never import `tests/` (its conftest clears WPFLOW_* settings) and never write into the
repository's `outputs/`: each measurement gets a temporary outputs folder and Prefect home.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from orchestration.child_processes import die_with_parent_hook  # noqa: E402 - after the path is set


def tied() -> Callable[[], None] | None:
    """`preexec_fn` for a bench subprocess: it dies with the bench, even on kill -9 or Ctrl-C of
    `make bench` (an orphaned watcher or Prefect server would skew every later measurement)."""
    return die_with_parent_hook()


def child_records(script: str, argument: Any, env: dict[str, str], what: str) -> Iterator[dict[str, Any]]:
    """Run `script --child <argument as JSON>` (tied to this bench, from the checkout) and yield
    each line of JSON it prints, skipping other output; a child that fails ends the benchmark
    with the tail of its stderr, naming `what` it was."""
    proc = subprocess.Popen(
        [sys.executable, script, "--child", json.dumps(argument)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=tied(),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        yield record
    err = proc.stderr.read() if proc.stderr else ""
    if proc.wait() != 0:
        raise SystemExit(f"{what} child failed:\n{err[-4000:]}")


def isolated_env(project: Path, outputs: Path, **extra: str) -> dict[str, str]:
    """WPFLOW_* settings pointing at `project` and a scratch `outputs`; mail to the outbox; no
    PDF (LibreOffice's conversion is not what these targets measure, and would dominate them)."""
    env = {
        "WPFLOW_PROJECT": str(project),
        "WPFLOW_OUTPUTS": str(outputs),
        "WPFLOW_MAIL_TRANSPORT": "outbox",
        "WPFLOW_STABLE_SECONDS": "0",
        "WPFLOW_REPORT_PDF": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"wpflow-bench-{prefix}-") as tmp:
        yield Path(tmp)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    from importlib.metadata import version

    load = os.getloadavg()[0]  # others' test runs share this machine: say how busy it was
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram_mb": mem,
        "python": platform.python_version(),
        "prefect": version("prefect"),
        "load_1min": round(load, 2),
    }


def emit(result: dict[str, Any]) -> None:
    """The last line every benchmark prints: one JSON object, compared across commits."""
    print(json.dumps(result, ensure_ascii=False), flush=True)


def timed_wpflow(env: dict[str, str], *args: str) -> float:
    """Seconds one `wpflow ARGS` takes as a new process (what a person waits for); exits with
    its stderr when it fails, as a benchmark of a failing command measures nothing."""
    import subprocess

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "wpflow", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"wpflow {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return elapsed
