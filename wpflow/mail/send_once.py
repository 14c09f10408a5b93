"""Sending each e-mail at most once, however often a run or its retry asks: receipts, ladder
reminders and notices, the reports and the "nothing arrived" notice all go through `send_once`.

Every message carries an idempotency key (`wpflow.mail.idempotency`). `send_once` skips a key
already sent before composing its message; `notify_once` claims the key in the store, sends
and records the message. A failed send releases its claim and stops the batch with the error:
what was sent stays sent, the rest goes on the retry, each recipient exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from schemas.records import Notice
from wpflow.mail.compose import addresses, message_id_for

if TYPE_CHECKING:
    from wpflow.mail.transports import Mailer
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


def notify_once(
    store: Store,
    mailer: Mailer,
    msg: EmailMessage,
    *,
    key: str,
    project: str,
    milestone: str,
    recipient: str,
    kind: str,
    about: About,
) -> Notice:
    """Send `msg` unless the notification `key` was already sent (or is being sent right now).

    Claim (recording this process as owner and the Message-ID), send, mark sent. A failed send
    releases the claim and re-raises, so the Prefect retry (or the next run) sends it. If the
    process dies mid-send, the next run sees the owner dead and sends it again at once; if it
    died between a successful send and `mark_sent`, the message goes out twice — with the same
    Message-ID, so mail clients can tell.
    """
    if "Message-ID" not in msg:
        msg["Message-ID"] = message_id_for(key, addresses(msg, "From")[0] if "From" in msg else "")
    notice = {"key": key, "to": addresses(msg, "To"), "cc": addresses(msg, "Cc"), "subject": str(msg["Subject"])}
    if not store.claim_notification(
        key,
        project=project,
        milestone=milestone,
        recipient=recipient,
        kind=kind,
        about=about,
        message_id=str(msg["Message-ID"]),
    ):
        return Notice(**notice, sent=False)
    try:
        where = mailer.send(msg)
    except BaseException:
        store.release_notification(key)
        raise
    store.mark_sent(key, mailer.transport, str(msg["Message-ID"]))
    return Notice(**notice, path=where if mailer.transport == "outbox" else None, sent=True)


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
