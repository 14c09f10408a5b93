"""The partners' pages served by uvicorn in a daemon thread of `wpflow serve`, on
WPFLOW_PARTNER_HOST:WPFLOW_PARTNER_PORT (loopback by default: the public side is a TLS reverse
proxy, docs/partners.md). Stopped like the reports server, within a bounded time."""

from __future__ import annotations

import logging

from wpflow.report.http_server import ReportsServer, bind, serve_in_thread
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)


def start_partner_server(
    workspaces: list[Workspace], *, port: int | None = None, startup_timeout: float = 10.0
) -> ReportsServer:
    """Serve the pages of `workspaces`' projects until `stop()`, on WPFLOW_PARTNER_PORT unless
    `port` is given (0 picks a free one)."""
    import uvicorn

    from wpflow.partners.app import partner_app

    settings = workspaces[0].settings
    port = settings.partner_port if port is None else port
    sock = bind(settings.partner_host, port, "the partners' pages", "WPFLOW_PARTNER_PORT")
    config = uvicorn.Config(
        partner_app(workspaces),
        log_config=None,
        log_level="warning",
        access_log=False,  # the app logs each request itself, without the token
        lifespan="off",
        proxy_headers=True,  # behind the reverse proxy: the client's address for the wrong-link limit
        forwarded_allow_ips="127.0.0.1",
    )
    served = serve_in_thread(config, sock, "the partners' pages", "wpflow-partners", startup_timeout)
    log.info("partners' pages at %s/p/<token> (public: %s)", served.url, settings.partner_base_url)
    return served
