"""Prefect's ephemeral API server: started early, and dead with the wpflow process that started it.

Prefect 3 starts it (`prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command`) as a
plain `subprocess.Popen` of uvicorn, stopped by an `atexit` hook: after a `kill -9` of wpflow
the hook never runs and the server lives on, an orphan holding its port and database. Prefect
offers no option for it, so the module's `subprocess` is swapped for a view of the real one
whose `Popen` adds `wpflow.lifeline`'s parent-death signal and serves Prefect's app wrapped
by `flows.prefect_app` (SQLite lock conflicts replayed in the server, not slept on by the
client). Only that module sees the change.
"""

from __future__ import annotations

import subprocess
import threading
import types
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from flows.prefect_app import FACTORY, PREFECT_FACTORY
from wpflow.lifeline import die_with_parent_hook


class _TiedSubprocess(types.ModuleType):
    """`subprocess`, except that `Popen` children serve `flows.prefect_app`'s factory instead of
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
        command = [FACTORY if part == PREFECT_FACTORY else part for part in command]
        return subprocess.Popen(command, *args[1:], **kwargs)


def tie_ephemeral_server(tied: bool = True) -> None:
    """Idempotent; call before the first flow run starts the ephemeral server. `tied=False`
    for a server started from a thread that ends before the process (the test harness's)."""
    from prefect.server.api import server

    if not isinstance(server.subprocess, _TiedSubprocess) or server.subprocess.tied != tied:
        server.subprocess = _TiedSubprocess(tied)


def start_ephemeral_api() -> Callable[[], None]:
    """Start the ephemeral API server now, in a thread, and return a function that waits until
    it answers (re-raising what went wrong). Prefect would start it at the first flow run, after
    this process imported the flows; started first, the server's own start-up (a new Python
    process importing Prefect's server, migrating its database) overlaps those imports on the
    second core (docs/performance.md). Nothing is started when an API URL is configured. Call
    after `wpflow.cli_common.prepare_prefect`; Prefect keeps one server per process.

    The thread stays (daemon, idle) until the process ends: the kernel kills the server when the
    thread that started it ends (`wpflow.lifeline`), which must not be before this process."""
    started: Future[None] = Future()

    def start() -> None:
        try:
            from prefect.settings import get_current_settings

            if not get_current_settings().api.url:
                from prefect.server.api.server import SubprocessASGIServer

                tie_ephemeral_server()
                SubprocessASGIServer().start()  # the instance `get_client` uses later: started once
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the server
            started.set_exception(exc)
            return
        started.set_result(None)
        threading.Event().wait()  # the server's lifeline: this thread ends with the process

    threading.Thread(target=start, name="ephemeral-api", daemon=True).start()
    return lambda: started.result()
