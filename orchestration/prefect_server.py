"""A Prefect server of our own: Prefect's API and UI under uvicorn, as `prefect server start`
runs them, in a subprocess that never outlives us.

Split out of `orchestration.serve` (which re-exports these names). The server runs in its own process
group (stopped as a whole: uvicorn and its workers) and is tied to this process with the kernel's
parent-death signal (`orchestration.child_processes`), so a `kill -9` of wpflow leaves no orphan behind.
"""

from __future__ import annotations

import contextlib
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

from orchestration.child_processes import die_with_parent_hook

log = logging.getLogger("orchestration.prefect_server")
# Prefect's app with SQLite's lock conflicts replayed in the server (orchestration/prefect_app.py):
# the uvicorn factory every Prefect server wpflow starts runs, named here, imported there
PREFECT_APP_FACTORY = "orchestration.prefect_app:create_app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def listening_socket(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    """A socket bound to a free port and listening, for a child server to take over (`--fd`);
    closed here once the child holds its copy."""
    with socket.socket() as s:
        s.bind((host, 0))
        s.listen(128)
        yield s


def wait_for_health(
    api_url: str, timeout: float = 90.0, process: subprocess.Popen | None = None, interval: float = 0.25
) -> None:
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
        time.sleep(interval)
    raise TimeoutError(f"no healthy Prefect server at {api_url} after {timeout:.0f}s")


@contextmanager
def prefect_server(
    port: int,
    home: Path,
    *,
    host: str = "127.0.0.1",
    timeout: float = 90.0,
    log_file: Path | None = None,
    database_url: str | None = None,
) -> Iterator[str]:
    """Run Prefect's server as a subprocess and yield its API URL; always stopped after. It is
    what `prefect server start` runs (the API, the UI and every service in one uvicorn process,
    `PREFECT__SERVER_FINAL`), served through `PREFECT_APP_FACTORY`.

    Both PREFECT_API_URL and PREFECT_UI_API_URL point at this server: on a port other than 4200
    the UI would otherwise call 127.0.0.1:4200/api and show no runs. With
    `database_url` (postgresql+asyncpg://…) the server keeps its runs there instead of SQLite
    under `home`; it migrates that database itself at start (~25 s the first time here).
    """
    api_url = f"http://{host}:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT__SERVER_FINAL": "1",  # as `prefect server start`: one app per process
        # Prefect allows every origin by default: only the UI's own, unless a person listed others
        "PREFECT_SERVER_CORS_ALLOWED_ORIGINS": os.environ.get(
            "PREFECT_SERVER_CORS_ALLOWED_ORIGINS", f"http://{host}:{port}"
        ),
        **({"PREFECT_API_DATABASE_CONNECTION_URL": database_url} if database_url else {}),
    }
    uvicorn = ["-m", "uvicorn", "--factory", PREFECT_APP_FACTORY, "--host", host, "--port", str(port)]
    out = open(log_file or home / "server.log", "ab")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [sys.executable, *uvicorn, "--log-level", os.environ.get("PREFECT_SERVER_LOGGING_LEVEL", "warning").lower()],
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


def start_worker(pool: str, name: str, env: dict[str, str], log_file: Path) -> subprocess.Popen:
    """`prefect worker start --pool <pool> --type process` as a subprocess tied to this one (its
    own process group; killed by the kernel if we die). The worker runs each flow run as a
    child process in a session of its own (Prefect's choice), so stopping a worker's group does
    not reach its runs: `stop_worker` stops them too."""
    out = open(log_file, "ab")  # noqa: SIM115 - the child holds its own copy; ours is closed at once
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process", "--name", name],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent_hook(),
        )
    finally:
        out.close()


def stop_worker(process: subprocess.Popen, grace: float = 3.0) -> None:
    """Stop a worker and the flow runs it started (their own sessions): SIGTERM, SIGKILL after
    `grace`. A run stopped this way is closed as crashed by the next run of its milestone."""
    runs = descendants(process.pid)
    stop_process_group(process, grace)
    for pid in runs:
        signal_process(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(alive(pid) for pid in runs) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in runs:
        signal_process(pid, signal.SIGKILL)


def signal_process(pid: int, sig: int) -> None:
    """Signal `pid`, and its whole group when it leads one (a flow run and its own children)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, grandchildren, …), from /proc; [] elsewhere."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie awaiting its parent counts as gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] not in ("Z", "X")
