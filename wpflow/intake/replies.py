"""The short answer to a message the intake did not take in, sent once per Message-ID.

It goes through the one send-once loop (`wpflow.mail.send_once.notify_once`), keyed by the
message: a restart between the reply and the move to the held folder does not answer twice.
Auto-replies, bounces and lists' mail are never answered (two robots would answer each other),
nor a sender past the rate limit (answering a flood is joining it).
"""

from __future__ import annotations

import hashlib
import logging

from schemas.records import Notice
from wpflow.intake.matching import Envelope, Held
from wpflow.mail.compose import build_message, mailbox, render_email, sender_of
from wpflow.mail.idempotency import in_project
from wpflow.mail.send_once import notify_once
from wpflow.mail.words import who
from wpflow.store.issued import About

log = logging.getLogger(__name__)

KIND = "intake-reply"
NOT_ANSWERED = frozenset({"rate-limited"})


def reply_key(project: str, message_id: str) -> str:
    """One reply per message (its Message-ID) within its project."""
    return in_project(project, hashlib.sha256(f"{KIND}\x1f{message_id.strip()}".encode()).hexdigest())


def answer(envelope: Envelope, held: Held) -> Notice | None:
    """Reply to the sender of a held message saying why, once; None when it is not answered."""
    ws = held.ws
    project = ws.project
    if held.reason in NOT_ANSWERED or envelope.automatic or envelope.sender == project.secretariat_email.lower():
        return None
    try:
        to = mailbox(envelope.sender)
    except ValueError:
        log.warning("intake: %s is not an address that can be answered", envelope.sender)
        return None
    partner = who(project.participant(held.partner)) if held.partner else None
    rendered = render_email(
        "intake_reply",
        {
            "project": project,
            "reason": held.reason,
            "partner": partner,
            "original": envelope.subject,
            "example": project.milestones()[0].id if project.milestones() else "WP1-M1",
            "named": held.detail,
            "max_mb": f"{ws.settings.imap_max_message_mb:g}",
            "intake": ws.settings.intake_address or project.delivery.intake_email,
            "rehearsal": None,
        },
    )
    key = reply_key(project.name, envelope.message_id)
    msg = build_message(rendered, key=key, sender=sender_of(project), to=[to], thread=envelope.message_id)
    return notify_once(
        ws.store,
        ws.mailer,
        msg,
        key=key,
        project=project.name,
        milestone="intake",
        recipient=envelope.sender,
        kind=KIND,
        about=About(),
    )
