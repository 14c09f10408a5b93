"""The intake mailbox over IMAP (IMAPClient): connecting as configured, listing what waits,
reading a message's size and headers before its body, and moving a message out of the folder.

Every failure to reach or use the mailbox is an `IntakeMailboxError` whose message is one line
naming the server and the setting to check; the poller logs it and tries again next poll.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from schemas.settings import Settings

log = logging.getLogger(__name__)


class IntakeMailboxError(Exception):
    """The intake mailbox could not be reached or used; the message says where and why."""


@dataclass(frozen=True)
class Waiting:
    """A message in the intake folder, as FETCH tells before its body is read."""

    uid: int
    size: int  # RFC822.SIZE
    headers: bytes


class Mailbox:
    """One IMAP session on the intake folder (`connect` opens it)."""

    def __init__(self, client: IMAPClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def waiting(self) -> list[Waiting]:
        """Every message in the intake folder, oldest first: its size and its headers only."""
        self.client.select_folder(self.settings.imap_folder)
        uids = sorted(self.client.search("ALL"))
        if not uids:
            return []
        fetched = self.client.fetch(uids, ["RFC822.SIZE", "BODY.PEEK[HEADER]"])
        return [
            Waiting(uid, int(data[b"RFC822.SIZE"]), bytes(data.get(b"BODY[HEADER]", b"")))
            for uid, data in sorted(fetched.items())
        ]

    def body(self, uid: int) -> bytes:
        """The whole message (BODY.PEEK: reading it does not mark it seen)."""
        data = self.client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
        if b"BODY[]" not in data:
            raise IntakeMailboxError(f"message {uid} left {self.settings.imap_folder} while it was being read")
        return bytes(data[b"BODY[]"])

    def move(self, uid: int, folder: str) -> None:
        """Move a message to `folder` (MOVE where the server has it, else COPY, delete, expunge)."""
        if self.client.has_capability("MOVE"):
            self.client.move([uid], folder)
            return
        self.client.copy([uid], folder)
        self.client.delete_messages([uid])
        self.client.expunge([uid] if self.client.has_capability("UIDPLUS") else None)

    def ensure_folders(self) -> None:
        for folder in (self.settings.imap_processed_folder, self.settings.imap_held_folder):
            if not self.client.folder_exists(folder):
                self.client.create_folder(folder)
                log.info("intake mailbox: created folder %s", folder)


@contextmanager
def connect(settings: Settings) -> Iterator[Mailbox]:
    """A logged-in session on the intake mailbox of `settings`, logged out afterwards."""
    where = f"the intake mailbox {settings.imap_host}:{settings.imap_port} (WPFLOW_IMAP_*)"
    if settings.imap_host is None or settings.imap_user is None or settings.imap_password is None:
        raise IntakeMailboxError("no intake mailbox: WPFLOW_IMAP_HOST, _USER and _PASSWORD are not all set")
    try:
        client = IMAPClient(
            settings.imap_host,
            port=settings.imap_port,
            ssl=settings.imap_security == "ssl",
            ssl_context=ssl.create_default_context(),
            timeout=settings.imap_timeout,
        )
    except (OSError, IMAPClientError) as exc:
        raise IntakeMailboxError(f"cannot reach {where}: {exc}") from exc
    try:
        if settings.imap_security == "starttls":
            client.starttls(ssl.create_default_context())
        client.login(settings.imap_user, settings.imap_password.get_secret_value())
        box = Mailbox(client, settings)
        box.ensure_folders()
        yield box
    except LoginError as exc:
        raise IntakeMailboxError(f"{where} refused the login of {settings.imap_user!r}: {exc}") from exc
    except (OSError, ssl.SSLError, IMAPClientError) as exc:  # TimeoutError is an OSError
        raise IntakeMailboxError(f"{where} failed: {exc}") from exc
    finally:
        try:
            client.logout()
        except (OSError, IMAPClientError):
            log.debug("intake mailbox: logout failed (the connection was gone)")
