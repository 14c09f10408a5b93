"""The Prefect servers wpflow starts answer only whom they should: requests naming one of their
own host names, and no web page of another origin.

Prefect's API has no authentication by default and, by default, allows any origin
(`PREFECT_SERVER_CORS_ALLOWED_ORIGINS=*`) and any Host header: a page the coordinator opens
elsewhere could create and delete flow runs on http://127.0.0.1:4200 — a CORS answer only
stops the page reading the response, not the server acting on a request — and a page whose
domain name is rebound to 127.0.0.1 is, to the browser, of the same origin as the server.
Prefect 3.9 has no setting for the Host, and none refusing a cross-origin request outright;
so `refuse_foreign` wraps the app (`orchestration.prefect_app.create_app`) and answers 403 to:

- a request whose Host is not one of the server's names (loopback, WPFLOW_SERVER_HOSTS, the host
  of WPFLOW_REPORTS_URL): DNS rebinding;
- a request, a CORS preflight or a websocket carrying an Origin that is not the server itself
  nor listed in PREFECT_SERVER_CORS_ALLOWED_ORIGINS (Prefect's own setting; its default `*`
  lists none): another site's page.

Prefect's own client, workers and curl send no Origin and pass on the Host alone; the UI's own
requests carry its origin, which is the server's. A server other machines reach also needs
Prefect's basic authentication (PREFECT_SERVER_API_AUTH_STRING, docs/operations.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from wpflow.report.http_server import header_map, refusal

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)
WEBSOCKET_POLICY_VIOLATION = 1008


def refuse_foreign(app: App, hosts: frozenset[str], origins: frozenset[str] = frozenset()) -> App:
    """`app`, answering 403 (a websocket: closed, 1008) to a request of another host or origin."""

    async def guarded(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        why = refusal(header_map(scope), hosts, origins)
        if why is None:
            await app(scope, receive, send)
            return
        log.warning("refused %s %s: %s", scope.get("method", "websocket"), scope.get("path"), why)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_POLICY_VIOLATION})
            return
        body = f"Forbidden: {why}\n".encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return guarded


def allowed_origins(configured: str) -> frozenset[str]:
    """The origins PREFECT_SERVER_CORS_ALLOWED_ORIGINS lists (comma-separated); `*`, its
    default, lists none: a page of another origin must be named to be let in."""
    return frozenset(o.strip() for o in configured.split(",") if o.strip() and o.strip() != "*")
