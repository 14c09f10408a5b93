"""Prefect's API app, with SQLite's lock conflicts retried inside the server instead of by a 2-second client sleep.

On SQLite, Prefect's server answers 503 "Service Unavailable" when a write finds the database
locked by one of its own services: a request that read in a deferred transaction and then
writes fails at once (SQLITE_BUSY, no busy timeout applies) when the task-run recorder or the
event persister committed in between. Creating a subflow's tracking task run (`POST
/task_runs/`, which reads the flow run's labels first) does so right after the previous
subflow ended, while its events are being written: in the demo's `run --all`, 16 of 25 such
requests. Prefect's client then sleeps `2**attempt` seconds (≈ 2 s) and sends it again: 30 s
of the demo's 70 spent asleep (docs/performance.md).

`replay_when_locked` wraps the app: a 503 of an HTTP request is held back and the same request
replayed after 20 ms, 40 ms, … up to `REPLAY_BUDGET_SECONDS`; only then does the client see the
503 and fall back on its own back-off. A replay is what Prefect's client would send anyway:
the failed attempt's transaction was rolled back. Websockets (events, logs) pass untouched.

Used as the uvicorn factory of the ephemeral API (`orchestration.ephemeral_api`) and of the server
`wpflow serve` starts (`orchestration.prefect_server`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

PREFECT_FACTORY = "prefect.server.api.server:create_app"
RETRYABLE = 503  # Prefect's answer to a retryable database error (custom_internal_exception_handler)
FIRST_DELAY_SECONDS = 0.02
MAX_DELAY_SECONDS = 0.5
REPLAY_BUDGET_SECONDS = 10.0


def replay_when_locked(app: App, budget: float = REPLAY_BUDGET_SECONDS) -> App:
    """`app`, with each HTTP request answered 503 replayed with a growing delay until it gets
    another answer or `budget` seconds have passed (then the 503 goes out)."""

    async def wrapped(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        deadline = time.monotonic() + budget
        delay = FIRST_DELAY_SECONDS
        while True:
            last = time.monotonic() + delay > deadline
            fresh = {**scope, "state": dict(scope.get("state", {}))}  # the app writes its routing into the scope
            held = await answer(app, fresh, replayed(body, receive), send, hold_retryable=not last)
            if not held:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)

    return wrapped


async def read_body(receive: Receive) -> bytes:
    """The request's whole body (Prefect's API bodies are JSON, a few kB)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the app sees an empty body, then the disconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replayed(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the buffered body once, then the connection's own events."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def answer(
    app: App, scope: MutableMapping[str, Any], receive: Receive, send: Send, *, hold_retryable: bool
) -> bool:
    """Run the app once; True when its answer was a 503 and was held back (not sent)."""
    status: int | None = None

    async def forward(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        if not (hold_retryable and status == RETRYABLE):
            await send(message)

    try:
        await app(scope, receive, forward)
    except Exception:
        # Starlette re-raises an error after its handler answered (for the server's log); a
        # held 503 is one of those, replayed next, so it is not logged as a crash
        if not (hold_retryable and status == RETRYABLE):
            raise
    return hold_retryable and status == RETRYABLE


def create_app() -> App:
    """uvicorn's factory: Prefect's own app (same settings, services and lifespan), wrapped:
    lock conflicts replayed, and only requests of the server's own hosts and origin answered
    (`orchestration.server_guard`). The lifespan messages pass through: `scope["type"]` is
    "lifespan"."""
    from prefect.server.api.server import create_app as prefect_app
    from prefect.settings import PREFECT_SERVER_CORS_ALLOWED_ORIGINS

    from orchestration.server_guard import allowed_origins, refuse_foreign
    from schemas.settings import Settings
    from wpflow.report.http_server import served_hosts

    origins = allowed_origins(PREFECT_SERVER_CORS_ALLOWED_ORIGINS.value())
    return refuse_foreign(replay_when_locked(prefect_app()), served_hosts(Settings()), origins)
