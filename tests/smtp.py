"""Real SMTP servers for the tests: aiosmtpd on loopback, on a free port or on a fixed one (to
stop it and start it again there, an outage), and sinks that keep or stall what they receive."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


@dataclass
class SmtpSink:
    """What a real aiosmtpd server on loopback received."""

    host: str
    port: int
    envelopes: list = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.envelopes.append(envelope)
        return "250 OK"


class StallingSink(SmtpSink):
    """Accepts `stall_after` messages, then never answers the next DATA (a hung relay)."""

    def __init__(self, stall_after: int) -> None:
        super().__init__(host="127.0.0.1", port=0)
        self.stall_after = stall_after
        self.stalled = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if len(self.envelopes) >= self.stall_after:
            self.stalled.set()
            await asyncio.sleep(3600)
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_smtp(handler, **options: Any) -> Iterator[int]:
    """A real aiosmtpd server on 127.0.0.1 with a free port, serving `handler` (`options`: the
    Controller's, e.g. an authenticator); yields the port."""
    from aiosmtpd.controller import Controller

    class EphemeralPortController(Controller):
        """aiosmtpd 1.4 checks readiness by connecting to `self.port`; with port 0 it must
        learn the bound port first."""

        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = EphemeralPortController(handler, hostname="127.0.0.1", port=0, **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@contextmanager
def smtp_on(handler, port: int) -> Iterator[int]:
    """A real aiosmtpd server on a fixed port (so it can be stopped and started again there)."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed): a mail server that is down."""
    return free_port()
