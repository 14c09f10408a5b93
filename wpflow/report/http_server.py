"""The reports over HTTP: `wpflow serve` serves outputs/reports/ (a folder per project) on
loopback, so the report link in the Prefect UI opens in a browser (Chromium refuses a web
page's file:// links): `http://127.0.0.1:4280/baltmet-inno/WP4-M3.docx`.

Starlette's `StaticFiles` run by uvicorn, both already installed as Prefect's server, in a
daemon thread: nothing hand-written answers HTTP, and nothing is added to the install.
No Prefect import here; `orchestration.serve` starts it, `tasks/publish.py` links to it.

It serves the reports and nothing else (`reports_only`): the DOCX and PDF files of each
project's folder, its `history/` (the UI links each run to the version it issued) and
`drafts/`; never a name starting with a dot (the `.rendering/` staging folder, dot-files),
never a folder's listing. Like the Prefect servers wpflow starts (`orchestration.server_guard`),
it answers only requests naming one of its own host names (`refusal`): a web page that
rebinds its own domain name to 127.0.0.1 reads nothing.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from schemas.settings import Settings

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
STOP_SECONDS = 2.0
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
REPORT_SUFFIXES = (".docx", ".pdf")


@dataclass
class ReportsServer:
    """A running static server; `stop()` ends it within `STOP_SECONDS`."""

    url: str
    server: Any  # uvicorn.Server, imported lazily (uvicorn is only needed when serving)
    thread: threading.Thread

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask uvicorn to exit and wait a bounded time: Ctrl-C must not hang on open downloads."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():  # a slow client: drop its connection, the thread is a daemon
            self.server.force_exit = True
            self.thread.join(timeout)
            log.warning("reports server at %s did not stop within %.0f s", self.url, 2 * timeout)


def bind(host: str, port: int, what: str = "the reports", setting: str = "WPFLOW_REPORTS_PORT") -> socket.socket:
    """The listening socket, bound here so a busy port is a clear error, not a uvicorn exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(
            f"cannot serve {what} on {host}:{port} ({exc.strerror}); set {setting} to a free port"
        ) from None
    sock.listen(64)
    return sock


def serve_in_thread(config: Any, sock: socket.socket, what: str, name: str, startup_timeout: float) -> ReportsServer:
    """uvicorn (`config`, a uvicorn.Config) on the bound `sock` in a daemon thread `name`,
    returned once it answers; stopped by `ReportsServer.stop()` within a bounded time."""
    import uvicorn

    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            host, port = sock.getsockname()[:2]
            raise RuntimeError(f"{what} on {host}:{port} did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()[:2]
    return ReportsServer(url=f"http://{host}:{port}", server=server, thread=thread)


def served_hosts(settings: Settings) -> frozenset[str]:
    """The host names browsers may reach wpflow's servers by: loopback, WPFLOW_SERVER_HOSTS and
    the host of WPFLOW_REPORTS_URL."""
    named = {name.strip().lower() for name in settings.server_hosts.split(",") if name.strip()}
    proxied = urlsplit(settings.reports_url).hostname if settings.reports_url else None
    return LOOPBACK_NAMES | named | ({proxied} if proxied else set())


def refusal(headers: dict[str, str], hosts: frozenset[str], origins: frozenset[str] = frozenset()) -> str | None:
    """Why a request is refused, or None: its Host is not one of `hosts` (DNS rebinding), or it
    comes from a web page of another origin (its Origin is neither the server itself nor one
    of `origins`). Requests without an Origin — Prefect's client, workers, curl — pass on Host."""
    host = headers.get("host", "")
    if urlsplit(f"//{host}").hostname not in hosts:
        return f"the host {host!r} is not one this server answers to (WPFLOW_SERVER_HOSTS)"
    origin = headers.get("origin")
    if origin is None or origin in origins:
        return None
    page = urlsplit(origin)
    if page.netloc.lower() == host.lower() and page.scheme in ("http", "https"):
        return None  # the server's own pages (the UI)
    return f"requests from pages of {origin} are refused"


def header_map(scope: Any) -> dict[str, str]:
    """An ASGI scope's headers by lower-case name (latin-1, as HTTP/1.1 sends them)."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def reports_only(app: Any, hosts: frozenset[str]) -> Any:
    """`app` answering only report files (`REPORT_SUFFIXES`, no name starting with a dot) to
    requests naming one of `hosts`: 404 for anything else, 403 for another host or origin."""
    from starlette.responses import PlainTextResponse

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        why = refusal(header_map(scope), hosts)
        parts = scope["path"].split("/")
        if why is not None:
            response = PlainTextResponse(f"Forbidden: {why}\n", status_code=403)
        elif any(part.startswith(".") for part in parts) or not parts[-1].lower().endswith(REPORT_SUFFIXES):
            response = PlainTextResponse("Not Found\n", status_code=404)
        else:
            await app(scope, receive, send)
            return
        await response(scope, receive, send)

    return guarded


def reports_app(directory: Path, hosts: frozenset[str] = LOOPBACK_NAMES):
    """The folder's reports as a read-only site (`reports_only`). Mounted in an app, not bare:
    Starlette's exception middleware turns a missing file into a 404 rather than a 500 with a
    logged traceback."""
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    return reports_only(Starlette(routes=[Mount("/", app=StaticFiles(directory=directory))]), hosts)


def start_reports_server(
    directory: Path,
    port: int,
    *,
    host: str = LOOPBACK,
    startup_timeout: float = 10.0,
    hosts: frozenset[str] = LOOPBACK_NAMES,
) -> ReportsServer:
    """Serve the reports of `directory` at http://host:port/ until `stop()`, to requests naming
    one of `hosts` (`served_hosts`); port 0 picks a free one."""
    import uvicorn

    directory.mkdir(parents=True, exist_ok=True)  # served before the first report is written
    sock = bind(host, port)
    config = uvicorn.Config(
        reports_app(directory, hosts | {host}), log_config=None, log_level="warning", access_log=False, lifespan="off"
    )
    served = serve_in_thread(config, sock, "the reports server", "wpflow-reports", startup_timeout)
    log.info("reports at %s/ (%s)", served.url, directory)
    return served


def report_link(settings: Settings, report: Path) -> str:
    """Where a browser opens the report: under WPFLOW_REPORTS_URL, by default the loopback
    address `wpflow serve` serves outputs/reports/ at (the project's folder in the path); the
    file's URL for a report outside that folder or when WPFLOW_REPORTS_URL is set empty.

    Fixed, not probed: a run recorded by `make demo` is browsed later under `make serve`, and
    its link must work then (a file:// link never opens from the UI).
    """
    base = settings.reports_base_url
    try:
        relative = report.resolve().relative_to(settings.reports_root.resolve())
    except ValueError:
        relative = None
    if not base or relative is None:
        return report.resolve().as_uri()
    return f"{base.rstrip('/')}/{quote(relative.as_posix())}"
