"""E-mail: composing wpflow's messages from templates and sending them through one seam.

Wording lives in `templates/email/*.j2` (a secretariat edits text, not Python). Each text
template sets its own `subject`; its HTML alternative is `<name>.html.j2` when present, else
`layout.html.j2` laying out the text's own paragraphs and lists — so every kind has both parts
and they never say different things. HTML templates are autoescaped.

Partner-supplied text (file names, organisation names, milestone titles from a YAML someone
typed) reaches headers only through `header_text`, which drops CR, LF and every other control
character, and the message is built with `email.policy.SMTP`, which encodes non-ASCII words
(Malmö, Rīga) as mail headers must and refuses a bare newline as a last line of defence.

Sending is `wpflow.mail.transports` (the transports, `notify_once` for one message) and
`wpflow.mail.send_once` (a batch, each message at most once).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from schemas.project import Milestone, Participant, Project
from schemas.settings import ROOT
from wpflow.mail.words import how_to_deliver, rehearsal_note, reply_person, send_by, text_blocks, who
from wpflow.report.plain_words import kind_title, long_date

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

EMAIL_TEMPLATES = ROOT / "templates" / "email"
DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
PDF_TYPE = ("application", "pdf")
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
Security = Literal["none", "starttls", "ssl"]
# CRLF line ends for SMTP; 7bit forces quoted-printable/base64 for non-ASCII bodies, so a
# message survives any relay (no reliance on 8BITMIME) and is byte-identical on re-write
# max_line_length=998 (e-mail's hard line limit): CPython's header folder drops the quotes of a
# long display name when it folds it, so "City of St. Petersburg, Committee for ..." would be
# re-read as three addresses. Not folding address headers avoids that.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit", max_line_length=998)


# -- keys and headers --------------------------------------------------------------------
def header_text(value: str) -> str:
    """Text safe for a header: line breaks and other control characters become spaces,
    invisible format characters (bidi overrides, zero-width) go, runs of blanks collapse.

    This is what makes header injection impossible: `"Title\\r\\nBcc: evil@example.com"`
    becomes one harmless line.
    """
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category != "Cf":
            kept.append(char)
    return " ".join("".join(kept).split())


def mailbox(addr_spec: str, display_name: str = "") -> Address:
    """One address; anything that is not exactly one plain address is refused."""
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c.isspace() for c in addr_spec):
        raise ValueError(f"not a single e-mail address: {addr_spec!r}")
    try:
        return Address(display_name=header_text(display_name), addr_spec=addr_spec)
    except Exception as exc:  # headerregistry raises ValueError or a parser defect
        raise ValueError(f"not a single e-mail address: {addr_spec!r} ({exc})") from exc


def message_id_for(key: str, sender: str, version: int | None = None) -> str:
    """A Message-ID derived from the idempotency key, so a re-send of the same notification is
    recognisable as the same message (mail clients thread or drop duplicates by it). A report's
    key names its content, not its number — the same content can be v1 in one store and v2 in
    another (a replay) —, so a version's number is part of its Message-ID."""
    domain = sender.rpartition("@")[2] or "wpflow.invalid"
    return f"<{key}.v{version}@{domain}>" if version is not None else f"<{key}@{domain}>"


def addresses(msg: EmailMessage, header: str) -> list[str]:
    """The plain addresses of an address header ([] when absent)."""
    value = msg.get(header)
    return [a.addr_spec for a in value.addresses] if value is not None else []


# -- composing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: tuple[str, str]

    @classmethod
    def from_path(cls, path: Path, mime: tuple[str, str], filename: str | None = None) -> Attachment:
        return cls(filename=filename or path.name, data=path.read_bytes(), mime=mime)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=8)
def email_environment(folder: Path) -> Environment:
    """Jinja environment for one template folder. StrictUndefined: a template asking for a
    variable nobody provides fails loudly instead of mailing a blank."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, who=who, kind_title=kind_title)
    return env


def render_email(name: str, context: dict[str, Any], templates: Path | None = None) -> Rendered:
    """Render `<name>.txt.j2` (which sets `subject`) and `<name>.html.j2` if it exists."""
    env = email_environment(templates or EMAIL_TEMPLATES)
    module = env.get_template(f"{name}.txt.j2").make_module(context)
    subject = getattr(module, "subject", None)
    if not subject:
        raise ValueError(f"template {name}.txt.j2 does not set a subject")
    text = str(module).strip() + "\n"
    note = context.get("rehearsal")
    if note:  # the first line, before the greeting: a reader must not take a rehearsal for news
        text = f"{note}\n\n{text}"
    html_name = f"{name}.html.j2" if f"{name}.html.j2" in env.list_templates() else "layout.html.j2"
    if html_name not in env.list_templates():
        return Rendered(subject=header_text(str(subject)), text=text, html=None)
    html = env.get_template(html_name).render({**context, "subject": subject, "blocks": text_blocks(text)})
    return Rendered(subject=header_text(str(subject)), text=text, html=html)


def build_message(
    rendered: Rendered,
    *,
    key: str,
    sender: Address,
    to: Sequence[Address],
    cc: Sequence[Address] = (),
    reply_to: Sequence[Address] = (),
    version: int | None = None,
    thread: str | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    """Assemble headers, text (+ HTML) and attachments. All header values arrive here either
    as `Address` objects built by `mailbox` or as text passed through `header_text`. `thread`:
    the Message-ID of the first version this recipient got, so v2 and v3 sit under v1."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = header_text(rendered.subject)
    msg["From"] = sender
    msg["To"] = list(to)
    if cc:
        msg["Cc"] = list(cc)
    if reply_to:
        msg["Reply-To"] = list(reply_to)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id_for(key, sender.addr_spec, version)
    if thread and thread != msg["Message-ID"]:
        msg["In-Reply-To"] = header_text(thread)
        msg["References"] = header_text(thread)
    msg.set_content(rendered.text)
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html")
    for item in attachments:
        maintype, subtype = item.mime
        msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=header_text(item.filename))
    return msg


def sender_of(project: Project) -> Address:
    return mailbox(project.secretariat_email, f"{project.name} secretariat")


def recipient_mailboxes(recipient: Participant) -> list[Address]:
    return [mailbox(e, who(recipient)) for e in recipient.emails]


def named(project: Project, address: str) -> Address:
    """An address with the name of the participant it belongs to, if any: no bare addresses."""
    for person in project.participants:
        if address in person.emails:
            return mailbox(address, who(person))
    return mailbox(address, f"{project.name} secretariat" if address == project.secretariat_email else "")


def reply_to_for(project: Project, recipient: Participant, wp_id: str | None) -> list[Address]:
    """Reply-To whom `delivery.reply_to` names, unless that is the recipient itself: a reply
    then goes to the secretariat, the sender."""
    person = reply_person(project, wp_id)
    if person is None or person.id == recipient.id:
        return []
    return recipient_mailboxes(person)[:1]


def compose(
    name: str,
    context: dict[str, Any],
    *,
    project: Project,
    recipient: Participant,
    key: str,
    cc: Iterable[str] = (),
    attachments: Iterable[Attachment] = (),
    templates: Path | None = None,
    as_of: date | None = None,
    wp_id: str | None = None,
    version: int | None = None,
    thread: str | None = None,
) -> EmailMessage:
    """What every compose_* shares: render, address from the secretariat to the recipient,
    replies to the people who can answer (`wp_id`: the message's work package). `as_of`: the
    day the message speaks of; one before the machine's day is a rehearsal and says so."""
    context = {
        "project": project,
        "recipient": recipient,
        "rehearsal": rehearsal_note(as_of),
        "page": project.delivery.pages.get(recipient.id),  # the recipient's own page, when it has one
        **context,
    }
    return build_message(
        render_email(name, context, templates),
        key=key,
        sender=sender_of(project),
        to=recipient_mailboxes(recipient),
        cc=[named(project, a) for a in cc if a not in recipient.emails],
        reply_to=reply_to_for(project, recipient, wp_id),
        version=version,
        thread=thread,
        attachments=attachments,
    )


def compose_reminder_email(
    project: Project,
    milestone: Milestone,
    recipient: Participant,
    *,
    key: str,
    step: str,
    missing: list[str],
    as_of: date,
    kind: Literal["reminder", "notice", "escalation"] = "reminder",
    cc: Iterable[str] = (),
    templates: Path | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """A deadline-ladder message. `reminder` (reminder.txt.j2): to a partner, `missing` lists
    the inputs it still owes. `notice` (T+1, to the WP coordinator) and `escalation` (T+7, to
    the lead) use escalation.txt.j2, `missing` listing who is late with what. `step` ("T-14",
    "T+7", …) is part of the key, so each rung is sent once. `attachments`: the templates of
    what a partner still owes."""
    return compose(
        "reminder" if kind == "reminder" else "escalation",
        {
            "kind": kind,
            "milestone": milestone,
            "step": step,
            "missing": [ladder_words(project, line) for line in missing],
            "as_of": as_of,
            "days_left": (milestone.due - as_of).days,
            "deliver": how_to_deliver(project, recipient, milestone.id),
            "send_by": send_by(project, milestone, as_of),
            "attached": [a.filename for a in attachments],
        },
        project=project,
        recipient=recipient,
        cc=cc,
        templates=templates,
        key=key,
        as_of=as_of,
        wp_id=milestone.wp_id,
        attachments=attachments,
    )


def ladder_words(project: Project, line: str) -> str:
    """The ladder names inputs by kind id and partners by city and id ('Riga (riga):
    seed_funding (invalid)'); a reader gets the organisation and the input's title instead."""
    head, _, kinds = line.rpartition(": ")
    for person in project.participants:
        if head == f"{person.city} ({person.id})":
            head = who(person)
    titles = []
    for kind in kinds.split(", "):
        invalid = kind.endswith(" (invalid)")
        titles.append(
            kind_title(kind.removesuffix(" (invalid)"), project.kind_titles)
            + (" (sent, but not usable yet)" if invalid else "")
        )
    return (f"{head}: " if head else "") + ", ".join(titles)
