"""The guard in front of every Prefect server wpflow starts (orchestration.server_guard), driven as
ASGI: websockets too are refused from another origin or host (a CORS answer never applies to
them), the lifespan passes, and listed origins are let in. The guard on a real server:
tests/faults/test_cross_origin.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestration.server_guard import allowed_origins, refuse_foreign
from wpflow.report.http_server import LOOPBACK_NAMES


def through_guard(scope_type: str, headers: dict[str, str], origins: frozenset[str] = frozenset()):
    """The messages the guard sent back, and whether the app behind it was called."""
    called: list[str] = []
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["type"])

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": scope_type,
        "path": "/api/events/in",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(refuse_foreign(app, LOOPBACK_NAMES, origins)(scope, receive, send))
    return sent, bool(called)


@pytest.mark.parametrize(
    ("headers", "origins", "passes"),
    [
        ({"host": "127.0.0.1:4200"}, frozenset(), True),
        ({"host": "127.0.0.1:4200", "origin": "http://127.0.0.1:4200"}, frozenset(), True),
        ({"host": "[::1]:4200", "origin": "http://[::1]:4200"}, frozenset(), True),
        ({"host": "127.0.0.1:4200", "origin": "https://evil.example"}, frozenset(), False),
        ({"host": "127.0.0.1:4200", "origin": "http://127.0.0.1:4201"}, frozenset(), False),
        ({"host": "127.0.0.1:4200", "origin": "https://board.example"}, allowed_origins("https://board.example"), True),
        ({"host": "127.0.0.1:4200", "origin": "https://evil.example"}, allowed_origins("*"), False),
        ({"host": "evil.example:4200", "origin": "http://evil.example:4200"}, frozenset(), False),
        ({}, frozenset(), False),
    ],
)
def test_a_websocket_of_another_origin_or_host_is_closed_before_the_app_sees_it(headers, origins, passes):
    sent, called = through_guard("websocket", headers, origins)
    assert called is passes
    assert sent == ([] if passes else [{"type": "websocket.close", "code": 1008}])


def test_an_http_refusal_says_why_and_the_lifespan_passes():
    sent, called = through_guard("http", {"host": "evil.example"})
    assert not called and sent[0]["status"] == 403 and b"evil.example" in sent[1]["body"]
    assert through_guard("lifespan", {}) == ([], True)
