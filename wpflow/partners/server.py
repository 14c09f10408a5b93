"""The partners' pages served by uvicorn in a daemon thread of `wpflow serve`, on
WPFLOW_PARTNER_HOST:WPFLOW_PARTNER_PORT (loopback by default: the public side is a TLS reverse
proxy, docs/partners.md). Stopped like the reports server, within a bounded time."""

from __future__ import annotations

import logging
import socket
import threading
import time

from wpflow.report.http_server import ReportsServer
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a busy port is one clear line, not a uvicorn exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(
            f"cannot serve the partners' pages on {host}:{port} ({exc.strerror}); "
            "set WPFLOW_PARTNER_PORT to a free port"
        ) from None
    sock.listen(64)
    return sock


def start_partner_server(
    workspaces: list[Workspace], *, port: int | None = None, startup_timeout: float = 10.0
) -> ReportsServer:
    """Serve the pages of `workspaces`' projects until `stop()`, on WPFLOW_PARTNER_PORT unless
    `port` is given (0 picks a free one)."""
    import uvicorn

    from wpflow.partners.app import partner_app

    settings = workspaces[0].settings
    sock = bind(settings.partner_host, settings.partner_port if port is None else port)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        partner_app(workspaces),
        log_config=None,
        log_level="warning",
        access_log=False,  # the app logs each request itself, without the token
        lifespan="off",
        proxy_headers=True,  # behind the reverse proxy: the client's address for the wrong-link limit
        forwarded_allow_ips="127.0.0.1",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="wpflow-partners", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the partners' pages on {host}:{port} did not start")
        time.sleep(0.02)
    url = f"http://{host}:{port}"
    log.info("partners' pages at %s/p/<token> (public: %s)", url, settings.partner_base_url)
    return ReportsServer(url=url, server=server, thread=thread)
