"""The Prefect API app wpflow serves (orchestration.prefect_app): a request Prefect answers 503 for a
locked SQLite database is replayed inside the server, so the client never sleeps its 2 s
back-off; everything else passes through unchanged. Driven as ASGI, message by message."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest

from orchestration.prefect_app import PREFECT_FACTORY, replay_when_locked
from orchestration.prefect_patches import TiedSubprocess as _TiedSubprocess
from orchestration.prefect_server import PREFECT_APP_FACTORY


class LockedThenFree:
    """A stand-in for Prefect's app: answers 503 (then re-raises, as Starlette does after its
    handler answered) for the first `locked` calls, then 200 echoing the body it received."""

    def __init__(self, locked: int) -> None:
        self.locked = locked
        self.calls = 0
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        self.scopes.append(dict(scope))
        scope["router"] = f"set by call {self.calls}"  # Starlette writes into the scope
        message = await receive()
        if self.calls <= self.locked:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b'{"exception_message":"Service Unavailable"}'})
            raise RuntimeError("database is locked")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": message["body"]})


def call(
    app: Any, body: bytes, chunks: int = 1, scope_type: str = "http"
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Send one request with `body` (in `chunks` parts) through `app`: the messages sent back,
    and what the app raised to the server (None)."""
    size = -(-len(body) // chunks)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    incoming = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        asyncio.run(app({"type": scope_type, "method": "POST", "path": "/api/task_runs/"}, receive, send))
    except Exception as exc:
        return sent, exc
    return sent, None


@pytest.mark.parametrize("locked", [0, 1, 3])
def test_a_locked_request_is_replayed_with_its_body_until_it_succeeds(locked: int) -> None:
    inner = LockedThenFree(locked)
    body = json.dumps({"flow_run_id": "x", "task_key": "milestone-pipeline", "dynamic_key": "7"}).encode()
    sent, error = call(replay_when_locked(inner), body, chunks=3)
    assert error is None  # a replayed 503's re-raise is not the server's business
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [200]
    assert sent[-1]["body"] == body  # the whole body, on the replay too
    assert inner.calls == locked + 1
    assert [s.get("router") for s in inner.scopes] == [None] * (locked + 1)  # each attempt a fresh scope


def test_the_503_goes_out_when_the_budget_is_spent() -> None:
    inner = LockedThenFree(locked=10_000)
    sent, error = call(replay_when_locked(inner, budget=0.1), b"{}")
    assert isinstance(error, RuntimeError)  # re-raised after the answer, for the server's log
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [503]
    assert b"Service Unavailable" in sent[-1]["body"]
    assert 2 <= inner.calls <= 4  # 20, 40, 80 ms: the last attempt's answer is sent as it is


def test_an_error_that_is_not_a_lock_reaches_the_server_unchanged() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise ValueError("a bug")

    sent, error = call(replay_when_locked(broken), b"{}")
    assert sent == [] and isinstance(error, ValueError)


@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
def test_websockets_and_the_lifespan_pass_through(scope_type: str) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((await receive())["type"])
        await send({"type": f"{scope_type}.sent"})

    sent, _ = call(replay_when_locked(app), b"{}", scope_type=scope_type)
    assert seen == ["http.request"]  # the connection's own first message, not a replayed body
    assert sent == [{"type": f"{scope_type}.sent"}]


def test_the_ephemeral_api_is_started_with_wpflows_factory() -> None:
    """The Popen Prefect's SubprocessASGIServer calls swaps Prefect's factory for ours."""
    script = "import sys; print(sys.argv[1:])"
    out = _TiedSubprocess().Popen(
        args=[sys.executable, "-c", script, "--factory", PREFECT_FACTORY, "--port", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    stdout, _ = out.communicate(timeout=30)
    assert stdout.strip() == str(["--factory", PREFECT_APP_FACTORY, "--port", "1"])
