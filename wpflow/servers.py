"""A Prefect server of our own: `prefect server start` as a subprocess that never outlives us.

Split out of `flows.serve` (which re-exports these names). The server runs in its own process
group (stopped as a whole: uvicorn and its workers) and is tied to this process with the kernel's
parent-death signal (`wpflow.lifeline`), so a `kill -9` of wpflow leaves no orphan behind.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wpflow.lifeline import die_with_parent_hook

log = logging.getLogger("wpflow.servers")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(api_url: str, timeout: float = 90.0, process: subprocess.Popen | None = None) -> None:
    """Poll `<api>/health` until it answers 200; fail early if the server process died."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode} before it was healthy")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"no healthy Prefect server at {api_url} after {timeout:.0f}s")


@contextmanager
def prefect_server(
    port: int, home: Path, *, host: str = "127.0.0.1", timeout: float = 90.0, log_file: Path | None = None
) -> Iterator[str]:
    """Run `prefect server start` as a subprocess and yield its API URL; always stopped after.

    Both PREFECT_API_URL and PREFECT_UI_API_URL point at this server: on a port other than 4200
    the UI would otherwise call 127.0.0.1:4200/api and show no runs (DESIGN §5).
    """
    api_url = f"http://{host}:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    out = open(log_file or home / "server.log", "ab")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent_hook(),  # a SIGKILLed wpflow leaves no server behind
    )
    try:
        wait_for_health(api_url, timeout, process)
        log.info("Prefect server at %s (home %s)", api_url, home)
        yield api_url
    finally:
        stop_process_group(process)
        out.close()


def stop_process_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group (uvicorn workers included), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass
