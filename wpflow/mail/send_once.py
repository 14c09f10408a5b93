"""Send each of a batch of e-mails at most once: receipts, ladder reminders and notices, the
reports and the "nothing arrived" notice all go through `send_once`.

Every message carries an idempotency key (`wpflow.mail.idempotency`). A key already sent is
skipped before its message is even composed; otherwise the message is composed and handed to
`notify_once`, which claims the key in the store, sends and records it. A failed send releases
its claim and stops the batch with the error: what was sent stays sent, the rest goes on the
retry, each recipient exactly once however often the batch is tried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from schemas.records import Notice
from wpflow.mail.transports import Mailer, notify_once

if TYPE_CHECKING:
    from wpflow.store.issued import About
    from wpflow.store.store import Store


@dataclass(frozen=True)
class Outgoing:
    """One e-mail to send once: its key, whom the key names, what the store records about it,
    and how to compose it (called only when the key is not sent yet)."""

    key: str
    recipient: str  # the address the key was made for
    kind: str  # "receipt", "reminder", "report", "empty", "wp-report", …
    milestone: str  # the milestone or report id ("WP4", "final")
    about: About
    compose: Callable[[], EmailMessage]


def send_once(store: Store, mailer: Mailer, project: str, outgoing: Iterable[Outgoing]) -> list[Notice]:
    """Send every message whose key is not sent yet; one `Notice` per message, in order — a
    message sent before is a notice with `sent=False` and no subject (it was not composed)."""
    notices = []
    for out in outgoing:
        if store.was_sent(out.key):
            notices.append(Notice(key=out.key, to=[out.recipient], subject="", sent=False))
            continue
        notices.append(
            notify_once(
                store,
                mailer,
                out.compose(),
                key=out.key,
                project=project,
                milestone=out.milestone,
                recipient=out.recipient,
                kind=out.kind,
                about=out.about,
            )
        )
    return notices


def attempted(notices: Iterable[Notice]) -> list[Notice]:
    """The notices of messages composed in this batch: those sent before left out."""
    return [n for n in notices if n.sent or n.subject]
