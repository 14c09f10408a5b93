"""Prefect's ephemeral API server: started early, and dead with the wpflow process that started it.

`start_ephemeral_api` starts it for a command (`wpflow run`, `report`, `deadlines`, through
`wpflow.cli.options.prepare_prefect`) before Prefect is imported. Where Prefect starts it
itself (a process that imported Prefect first), Prefect 3 starts it
(`prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command`) as a plain
`subprocess.Popen` of uvicorn, stopped by an `atexit` hook: after a `kill -9` of wpflow the
hook never runs and the server lives on, an orphan holding its port and database. Prefect
offers no option for it, so the module's `subprocess` is swapped for a view of the real one
whose `Popen` adds `orchestration.child_processes`'s parent-death signal and serves Prefect's app wrapped
by `orchestration.prefect_app` (SQLite lock conflicts replayed in the server, not slept on by the
client). Only that module sees the change.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from orchestration.child_processes import die_with_parent_hook
from orchestration.prefect_app import PREFECT_FACTORY
from orchestration.prefect_server import PREFECT_APP_FACTORY, free_port, wait_for_health

# what Prefect's SubprocessASGIServer gives its server: no UI, the services of an ephemeral server
EPHEMERAL_SERVER = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


class _TiedSubprocess(types.ModuleType):
    """`subprocess`, except that `Popen` children serve `orchestration.prefect_app`'s factory instead of
    Prefect's and, when `tied`, are killed when the thread that started them ends."""

    def __init__(self, tied: bool = True) -> None:
        super().__init__("subprocess")
        self.tied = tied

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - the name replaced
        if self.tied:
            kwargs.setdefault("preexec_fn", die_with_parent_hook())
        command = kwargs.pop("args", args[0] if args else None)
        command = [PREFECT_APP_FACTORY if part == PREFECT_FACTORY else part for part in command]
        return subprocess.Popen(command, *args[1:], **kwargs)


def tie_ephemeral_server(tied: bool = True) -> None:
    """Idempotent; call before the first flow run starts the ephemeral server. `tied=False`
    for a server started from a thread that ends before the process (the test harness's)."""
    from prefect.server.api import server

    if not isinstance(server.subprocess, _TiedSubprocess) or server.subprocess.tied != tied:
        server.subprocess = _TiedSubprocess(tied)


def start_ephemeral_api() -> Callable[[], None]:
    """Start the API server for this command now and return a function that waits until it
    answers (raising what went wrong). Nothing is started when an API URL is configured.
    `wpflow.cli.options.prepare_prefect` calls it, once Prefect's settings are in the
    environment and before Prefect is imported.

    Prefect would start its ephemeral server at the first flow run, after this process imported
    the flows, and would import its whole server in this process first just to start it (~6 s
    here). Started here instead — uvicorn serving `orchestration.prefect_app`, as Prefect would with
    `PREFECT__SERVER_EPHEMERAL` (no UI, the services an ephemeral server runs) — the server's
    own start-up (a new Python process importing Prefect's server, migrating a fresh home's
    database) overlaps this process's imports on the second core, and PREFECT_API_URL points
    Prefect at it (docs/performance.md). The server is stopped at exit and killed by the kernel
    if this process dies (`orchestration.child_processes`: the calling thread must live as long as the
    process, as the main thread does). When Prefect is already imported (a test process), its
    settings are fixed: Prefect's own ephemeral server is started, from a thread."""
    if os.environ.get("PREFECT_API_URL"):
        return lambda: None
    if "prefect" in sys.modules:
        return start_prefects_server()
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    command = ["-m", "uvicorn", "--factory", PREFECT_APP_FACTORY, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, *command, "--log-level", "error", "--lifespan", "on"],
        env={**os.environ, **EPHEMERAL_SERVER},
        preexec_fn=die_with_parent_hook(),
    )
    atexit.register(stop_server, process)
    os.environ["PREFECT_API_URL"] = api_url  # Prefect's configuration: read when it is imported
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20"))
    return lambda: wait_for_health(api_url, timeout, process, interval=0.05)


def stop_server(process: subprocess.Popen) -> None:
    """As Prefect stops its ephemeral server: SIGTERM, SIGKILL after 5 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_prefects_server() -> Callable[[], None]:
    """Prefect's ephemeral server (`orchestration.prefect_app`'s app, tied to this process), started in
    a thread that stays (daemon, idle) until the process ends: the kernel kills the server when
    the thread that started it ends."""
    started: Future[None] = Future()

    def start() -> None:
        try:
            from prefect.settings import get_current_settings

            if not get_current_settings().api.url:
                from prefect.server.api.server import SubprocessASGIServer

                tie_ephemeral_server()
                SubprocessASGIServer().start()  # the instance `get_client` uses later: started once
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        threading.Event().wait()  # the server's lifeline: this thread ends with the process

    threading.Thread(target=start, name="ephemeral-api", daemon=True).start()
    return lambda: started.result()
