"""Which partner and milestone a message is for, from its headers alone (the body is read only
once the message is known to be wanted): the sender's address among the partners' known ones
(case-insensitive, display names ignored), then the milestone — named in the subject (a reply
to a reminder keeps its `[BaltMet Inno] WP4-M3 …` subject), a `+WP4-M3` sub-address of the
intake address, or the only milestone this partner is being asked for now.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Literal

from schemas.project import Milestone, Participant, Project
from wpflow.workspace import Workspace

HeldReason = Literal["unknown-sender", "no-attachment", "no-milestone", "too-large", "rate-limited"]
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


@dataclass(frozen=True)
class Envelope:
    """What the headers of a message say, before its body is read."""

    message_id: str
    sender: str  # the From address, lower case, without its display name
    subject: str
    recipients: tuple[str, ...]  # every To, Cc, Delivered-To and X-Original-To address, lower case
    automatic: bool  # an auto-reply, a bounce or a list's mail: never answered (no mail loops)


@dataclass(frozen=True)
class Match:
    ws: Workspace
    partner: str
    milestone: str
    how: str  # "subject", "sub-address" or "only open milestone", for the log


@dataclass(frozen=True)
class Held:
    reason: HeldReason
    ws: Workspace  # the project whose secretariat answers
    partner: str | None
    detail: str = ""  # for the reply: the milestones named when several were


def envelope_of(header_bytes: bytes) -> Envelope:
    """The envelope of a message's header block. A message without a Message-ID gets one made
    from its headers, so a copy of it is still recognised."""
    msg = BytesParser(policy=policy.compat32).parsebytes(header_bytes, headersonly=True)
    message_id = " ".join(str(msg.get("Message-ID", "")).split())
    if not message_id:
        message_id = f"<{hashlib.sha256(header_bytes).hexdigest()}@wpflow.intake>"
    senders = [a for _, a in getaddresses([str(v) for v in msg.get_all("From", [])]) if "@" in a]
    recipients = [
        a.lower() for name in RECIPIENT_HEADERS for _, a in getaddresses([str(v) for v in msg.get_all(name, [])]) if a
    ]
    subject = str(BytesParser(policy=policy.default).parsebytes(header_bytes, headersonly=True).get("Subject", ""))
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    sender = senders[0].lower() if senders else ""
    automatic = (
        auto != "no"
        or precedence in ("bulk", "list", "junk")
        or "List-Id" in msg
        or not sender
        or sender.split("@")[0] in ("mailer-daemon", "postmaster")
    )
    return Envelope(message_id, sender, " ".join(subject.split()), tuple(dict.fromkeys(recipients)), automatic)


def partners_of(sender: str, workspaces: list[Workspace]) -> list[tuple[Workspace, Participant]]:
    """Every (project, participant) whose known addresses include `sender`."""
    return [
        (ws, person)
        for ws in workspaces
        for person in ws.project.participants
        if sender in (e.strip().lower() for e in person.emails)
    ]


def match(envelope: Envelope, attachments: int, workspaces: list[Workspace], today: date) -> Match | Held:
    """The partner and milestone of a message with `attachments` files, or why it is held."""
    candidates = partners_of(envelope.sender, workspaces)
    if not candidates:
        return Held("unknown-sender", answering_project(envelope, workspaces), None)
    if attachments == 0:
        return Held("no-attachment", candidates[0][0], candidates[0][1].id)
    found: list[Match] = []
    named: set[str] = set()
    for ws, person in candidates:
        milestone, how, several = milestone_of(envelope, ws, person, today)
        named |= several
        if milestone is not None:
            found.append(Match(ws, person.id, milestone.id, how))
    if len(found) > 1:  # one address in two projects: the subject's [Project] tag decides
        found = [m for m in found if f"[{m.ws.project.name}".lower() in envelope.subject.lower()] or found
    if len(found) == 1:
        return found[0]
    ws, person = candidates[0]
    return Held("no-milestone", ws, person.id, ", ".join(sorted(named)))


def milestone_of(
    envelope: Envelope, ws: Workspace, person: Participant, today: date
) -> tuple[Milestone | None, str, set[str]]:
    """(milestone, how it was found, the ids the subject named when it named several)."""
    project = ws.project
    in_subject = [m for m in project.milestones() if names_milestone(envelope.subject, m.id)]
    if len(in_subject) == 1:
        return in_subject[0], "subject", set()
    intake = (ws.settings.intake_address or project.delivery.intake_email or "").lower()
    tagged = {
        m.id: m for m in project.milestones() for tag in sub_address_tags(envelope, intake) if m.id.lower() == tag
    }
    if len(tagged) == 1:
        return next(iter(tagged.values())), "sub-address", set()
    if in_subject or tagged:  # named several: none is guessed
        return None, "", {m.id for m in in_subject} | set(tagged)
    open_now = open_milestones(project, person, today)
    if len(open_now) == 1:
        return open_now[0], "only open milestone", set()
    return None, "", set()


def names_milestone(subject: str, milestone_id: str) -> bool:
    """`WP4-M3` as a word of the subject, any case: not inside `WP4-M30` nor `XWP4-M3`."""
    return re.search(rf"(?<![\w-]){re.escape(milestone_id)}(?![\w-])", subject, re.IGNORECASE) is not None


def sub_address_tags(envelope: Envelope, intake: str) -> list[str]:
    """`wp4-m3` of `intake+WP4-M3@example.org` among the recipients; of the intake address only,
    when one is configured."""
    tags = []
    for address in envelope.recipients:
        local, _, domain = address.rpartition("@")
        base, plus, tag = local.partition("+")
        if plus and tag and (not intake or f"{base}@{domain}" == intake):
            tags.append(tag.lower())
    return tags


def open_milestones(project: Project, person: Participant, today: date) -> list[Milestone]:
    """The milestones `person` is being asked for on `today`: it owes one of their inputs, their
    period has begun and the deadline ladder is still chasing them (up to its last rung)."""
    chase = timedelta(days=max((r.offset_days for r in project.deadlines.ladder), default=0))
    return [
        m
        for m in project.milestones()
        if m.start <= today <= m.due + chase
        and any(person.id in {p.id for p in project.deliverers(req)} for req in m.inputs)
    ]


def answering_project(envelope: Envelope, workspaces: list[Workspace]) -> Workspace:
    """The project an unknown sender wrote to: the one whose intake address it used, else the first."""
    for ws in workspaces:
        intake = (ws.settings.intake_address or ws.project.delivery.intake_email or "").lower()
        if intake and intake in {without_tag(r) for r in envelope.recipients}:
            return ws
    return workspaces[0]


def without_tag(address: str) -> str:
    """`intake@example.org` for `intake+WP4-M3@example.org`."""
    local, _, domain = address.rpartition("@")
    return f"{local.partition('+')[0]}@{domain}"
