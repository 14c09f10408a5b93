"""A partner site over the bundled project with an inbox and outputs of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from schemas.settings import Settings


@pytest.fixture
def partner_settings(settings: Settings, tmp_path) -> Settings:
    return settings.model_copy(
        update={
            "inbox": tmp_path / "inbox",
            "partner_secret": SecretStr("test secret, not for use"),
            "partner_url": "https://partners.example.org",
        }
    )


@pytest.fixture
def ws(partner_settings: Settings):
    from wpflow.workspace import Workspace

    return Workspace(partner_settings)


@pytest.fixture
def server(ws) -> Iterator:
    """The pages served by uvicorn on a free loopback port, as `wpflow serve` serves them."""
    from wpflow.partners.server import start_partner_server

    running = start_partner_server([ws], port=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        yield client
