"""Prefect's API for one command (`wpflow run`, `report`, `deadlines`): started early, dead with
the wpflow process that started it, and handed to this process's Prefect as settings.

`start_ephemeral_api` starts the server before Prefect is imported and returns a `PrefectApi`;
the command imports its flows meanwhile and runs them inside `PrefectApi.ready()`, which waits
for the server and enters Prefect's settings for this process (`temporary_settings`): the API
URL, the Prefect home, the log levels. Nothing is written into the process's environment; the
server gets its own settings through `env=`.
"""

from __future__ import annotations

import atexit
import errno
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.child_processes import die_with_parent_hook
from orchestration.prefect_patches import tie_ephemeral_server
from orchestration.prefect_server import PREFECT_APP_FACTORY, listening_socket, wait_for_health
from wpflow.files import WriteFailed, writing

# what Prefect's SubprocessASGIServer gives its server: no UI, the services of an ephemeral server
EPHEMERAL_SERVER = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
# the first start on a fresh home migrates its database: ~20 s on a busy 2-core machine
STARTUP_TIMEOUT_SECONDS = "180"
SERVER_HOME = "the Prefect API's database folder"
MIN_FREE_BYTES = 1 << 20  # less than this free when the server died: it died of the full disk


def server_settings(home: Path) -> dict[str, str]:
    """The ephemeral server's Prefect settings, as its environment: its home under outputs/ (so a
    later `prefect server start` with that home lists the demo's runs), offline, quiet, and
    without the services nobody uses while the API lives as long as one command: no automations
    to trigger, no UI to stream events to (each service consumes every event of every task run,
    docs/performance.md). The server's own services log their cancellation at exit as errors
    with tracebacks (Prefect 3.9, harmless): nothing a secretariat can act on. A value already in
    this process's environment wins, as a person's configuration should."""
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
        "PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    }
    return {name: os.environ.get(name, value) for name, value in defaults.items()}


@dataclass
class PrefectApi:
    """The API a command's flow runs report to and the settings this process's Prefect runs
    with. `wait` raises what went wrong with a server started here. `configure_logging` is
    False when Prefect was imported before (a test process): its logging stays the host's."""

    defaults: dict[str, Any] = field(default_factory=dict)  # Prefect setting name → value, unless set
    api_url: str | None = None  # the server started here: Prefect is pointed at it whatever else is set
    wait: Callable[[], None] = lambda: None
    configure_logging: bool = False
    console_level: str = "CRITICAL"

    @contextmanager
    def ready(self) -> Iterator[None]:
        """Wait until the API answers, then run the block under these settings (`set_defaults`:
        what a person configured for Prefect wins). The runs' logs go to the API at INFO, for
        the UI; the terminal shows wpflow's own progress and one line per failure — a failed
        task's traceback is the UI's business (`--verbose`: Prefect's warnings and errors too)."""
        self.wait()
        from prefect.settings import temporary_settings

        updates = {"PREFECT_API_URL": self.api_url} if self.api_url else None
        with temporary_settings(updates=updates, set_defaults=self.defaults):
            if self.configure_logging:
                set_up_logging(self.console_level)
            close_dead_parent_runs()
            yield


def close_dead_parent_runs() -> None:
    """A `wpflow run --all` killed earlier left its parent run "Running": closed as Crashed now
    (`flows.crashed_parents`). Housekeeping: a failure to look is logged, the command goes on."""
    from flows.crashed_parents import crash_dead_parent_runs

    try:
        crash_dead_parent_runs()
    except Exception as exc:  # the command's own runs matter more than an old run's state
        logging.getLogger(__name__).warning("could not close the runs of dead processes: %s", exc)


def set_up_logging(console_level: str) -> None:
    """Prefect's logging configured again from the current settings, its console handler at
    `console_level` unless PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL says otherwise (Prefect reads
    that one from the environment itself)."""
    from prefect.logging.configuration import setup_logging
    from prefect.logging.handlers import PrefectConsoleHandler

    setup_logging(incremental=False)
    if os.environ.get("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"):
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(console_level)


def start_ephemeral_api(home: Path, *, verbose: bool = False) -> PrefectApi:
    """Start the API server for this command now and return the `PrefectApi` to run its flows
    in. Nothing is started when an API URL is configured (PREFECT_API_URL).

    Prefect would start its ephemeral server at the first flow run, after this process imported
    the flows, and would import its whole server in this process first just to start it (~6 s
    here). Started here instead — uvicorn serving `orchestration.prefect_app`, as Prefect would with
    `PREFECT__SERVER_EPHEMERAL` (no UI, the services an ephemeral server runs) — the server's
    own start-up (a new Python process importing Prefect's server, migrating a fresh home's
    database) overlaps this process's imports on the second core (docs/performance.md). The
    server is stopped at exit and killed by the kernel if this process dies
    (`orchestration.child_processes`: the calling thread must live as long as the process, as
    the main thread does). When Prefect is already imported (a test process), Prefect's own
    ephemeral server is started, from a thread, unless its settings name an API."""
    console_level = "WARNING" if verbose else "CRITICAL"
    if "prefect" in sys.modules:
        from prefect.settings import get_current_settings

        if get_current_settings().api.url:
            return PrefectApi()
        return PrefectApi(wait=start_prefects_server())
    server = server_settings(home)
    client = {name: server[name] for name in ("PREFECT_LOGGING_LEVEL", "PREFECT_SERVER_LOGGING_LEVEL")}
    if os.environ.get("PREFECT_API_URL"):  # a server of its own: its home is where it runs
        return PrefectApi(client, configure_logging=True, console_level=console_level)
    home = Path(server["PREFECT_HOME"])
    with writing(home, SERVER_HOME):
        home.mkdir(parents=True, exist_ok=True)  # the server cannot start without it
    # The socket is bound here and handed to uvicorn: a port picked free and bound later by the
    # child could be taken in between by another process starting a server (seen as "exited
    # with code 3 before it was healthy" when tests start many servers at once).
    with listening_socket() as sock:
        api_url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        command = ["-m", "uvicorn", "--factory", PREFECT_APP_FACTORY, "--fd", str(sock.fileno())]
        process = subprocess.Popen(
            [sys.executable, *command, "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **server, **EPHEMERAL_SERVER},
            pass_fds=(sock.fileno(),),
            preexec_fn=die_with_parent_hook(),
        )
    atexit.register(stop_server, process)
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", STARTUP_TIMEOUT_SECONDS))
    return PrefectApi(
        {**client, "PREFECT_HOME": server["PREFECT_HOME"]},
        api_url,
        wait=lambda: wait_until_healthy(api_url, timeout, process, home),
        configure_logging=True,
        console_level=console_level,
    )


def wait_until_healthy(api_url: str, timeout: float, process: subprocess.Popen[Any], home: Path) -> None:
    """Wait for the server; when it died before it answered, say why when it is the machine's
    doing — its home on a full disk or not writable, where it keeps its database — instead of
    "exited with code 3" (the server, quiet at its log level, says nothing)."""
    try:
        wait_for_health(api_url, timeout, process, interval=0.05)
    except RuntimeError:
        if process.poll() is None:
            raise
        refused = refused_write(home)
        if refused is not None:
            raise refused from None
        raise


def refused_write(home: Path) -> WriteFailed | None:
    """A write the server's home refuses: too little room left on its disk (a full disk leaves
    less than a database page), or no write permission."""
    if not os.access(home, os.W_OK):
        code = errno.EROFS if os.statvfs(home).f_flag & os.ST_RDONLY else errno.EACCES
        return WriteFailed(code, os.strerror(code), str(home), SERVER_HOME)
    if shutil.disk_usage(home).free < MIN_FREE_BYTES:
        return WriteFailed(errno.ENOSPC, os.strerror(errno.ENOSPC), str(home), SERVER_HOME)
    return None


def stop_server(process: subprocess.Popen[Any]) -> None:
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
