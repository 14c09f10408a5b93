"""The intake's harness: a real Dovecot per test (tests/dovecot.py), and settings pointing the
intake at it with replies going to the real SMTP sink."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas.settings import Settings
from tests.dovecot import DOVECOT, Dovecot, running_dovecot
from tests.smtp import SmtpSink

INTAKE = "intake@baltmet-inno.example.org"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if shutil.which(DOVECOT) is None:
        pytest.skip("Dovecot is not installed: scripts/install-imap.sh installs it")
    with running_dovecot() as server:
        yield server


@pytest.fixture
def intake_settings(
    tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpSink, configure: Callable[..., Settings]
) -> Callable[..., Settings]:
    """`intake_settings(**more)`: the process's settings for the intake — a fresh inbox, the
    Dovecot mailbox, replies and receipts through the SMTP sink — plus `more`."""
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)

    def apply(**more: Any) -> Settings:
        return configure(
            **{
                "inbox": inbox,
                "stable_seconds": 0,
                "mail_transport": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server.port,
                "imap_host": dovecot.host,
                "imap_port": dovecot.port,
                "imap_security": "none",
                "imap_user": dovecot.user,
                "imap_password": dovecot.password,
                "imap_poll_seconds": 0.2,
                "intake_address": INTAKE,
                **more,
            }
        )

    return apply
