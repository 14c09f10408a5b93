"""E-mail: composing wpflow's messages from templates and sending them through one seam.

Wording lives in `templates/email/*.j2` (a secretariat edits text, not Python). Each text
template sets its own `subject`; a `.html.j2` beside it, when present, becomes the HTML
alternative and is autoescaped.

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
from schemas.records import ReportRef, Submission, ValidationResult
from schemas.settings import ROOT

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


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID derived from the idempotency key, so a re-send of the same notification is
    recognisable as the same message (mail clients thread or drop duplicates by it)."""
    domain = sender.rpartition("@")[2] or "wpflow.invalid"
    return f"<{key}@{domain}>"


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
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(name: str, context: dict[str, Any], templates: Path | None = None) -> Rendered:
    """Render `<name>.txt.j2` (which sets `subject`) and `<name>.html.j2` if it exists."""
    env = email_environment(templates or EMAIL_TEMPLATES)
    module = env.get_template(f"{name}.txt.j2").make_module(context)
    subject = getattr(module, "subject", None)
    if not subject:
        raise ValueError(f"template {name}.txt.j2 does not set a subject")
    html_name = f"{name}.html.j2"
    html = env.get_template(html_name).render(context) if html_name in env.list_templates() else None
    return Rendered(subject=header_text(str(subject)), text=str(module).strip() + "\n", html=html)


def build_message(
    rendered: Rendered,
    *,
    key: str,
    sender: Address,
    to: Sequence[Address],
    cc: Sequence[Address] = (),
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    """Assemble headers, text (+ HTML) and attachments. All header values arrive here either
    as `Address` objects built by `mailbox` or as text passed through `header_text`."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = header_text(rendered.subject)
    msg["From"] = sender
    msg["To"] = list(to)
    if cc:
        msg["Cc"] = list(cc)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id_for(key, sender.addr_spec)
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
    return [mailbox(e, recipient.organisation) for e in recipient.emails]


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
) -> EmailMessage:
    """What every compose_* shares: render, address from the secretariat to the recipient."""
    context = {"project": project, "recipient": recipient, **context}
    return build_message(
        render_email(name, context, templates),
        key=key,
        sender=sender_of(project),
        to=recipient_mailboxes(recipient),
        cc=[mailbox(a) for a in cc if a not in recipient.emails],
        attachments=attachments,
    )


def compose_report_email(
    project: Project,
    milestone: Milestone,
    report: ReportRef,
    recipient: Participant,
    *,
    key: str,
    cc: Iterable[str] = (),
    since: str | None = None,
    changes: list[str] | None = None,
    summary_lines: list[str] | None = None,
    attach: Iterable[Path] = (),
    templates: Path | None = None,
) -> EmailMessage:
    """The milestone report for one recipient, DOCX attached (and the PDF when the project
    asks for it: `attach`). `since` names the version this one replaces ("v1 of 2005-06-19")
    and `changes` says what changed, so readers know to replace the copy they have."""
    path = Path(report.path)
    extra = [Attachment.from_path(p, PDF_TYPE) for p in attach]
    return compose(
        "report",
        {
            "milestone": milestone,
            "report": report,
            "report_name": path.name,
            "update": since is not None,
            "since": since,
            "changes": changes or [],
            "summary_lines": summary_lines or [],
        },
        project=project,
        recipient=recipient,
        cc=cc,
        templates=templates,
        key=key,
        attachments=[Attachment.from_path(path, DOCX_TYPE), *extra],
    )


def compose_empty_email(
    project: Project,
    milestone: Milestone,
    recipient: Participant,
    *,
    key: str,
    outstanding: list[str],
    as_of: date,
    templates: Path | None = None,
) -> EmailMessage:
    """To the WP coordinator or the lead instead of an empty report: nothing usable arrived
    by the due date, so no report went to the partners."""
    return compose(
        "empty",
        {"milestone": milestone, "outstanding": outstanding, "as_of": as_of},
        project=project,
        recipient=recipient,
        templates=templates,
        key=key,
    )


def compose_receipt_email(
    project: Project,
    milestone: Milestone,
    submission: Submission,
    result: ValidationResult,
    recipient: Participant,
    *,
    key: str,
    promise: str = "",
    cc: Iterable[str] = (),
    annotated: Path | None = None,
    templates: Path | None = None,
) -> EmailMessage:
    """A receipt for one delivered file: accepted, or the list of problems (each located as
    `file, sheet S, row 7, column D (field): 'value' message`), with the annotated workbook."""
    from wpflow.file_names import shown_name
    from wpflow.inputs.problems import PROBLEMS_CSV, receipt_problems

    attachments = []
    if annotated is not None:
        name = f"{shown_name(Path(submission.file_name).stem)} (annotated).xlsx"
        attachments.append(Attachment.from_path(annotated, XLSX_TYPE, filename=name))
    problems = receipt_problems(result.issues)  # bounded: the first ones in full, all in problems.csv
    if problems.csv is not None:
        attachments.append(Attachment(filename=PROBLEMS_CSV, data=problems.csv, mime=("text", "csv")))
    return compose(
        "receipt",
        {
            "milestone": milestone,
            "submission": submission,
            "file_name": shown_name(submission.file_name),
            "valid": result.valid,
            "errors": problems.errors,
            "error_count": problems.error_count,
            "warnings": problems.warnings,
            "more": problems.more,
            "kind_detected": result.kind,
            "annotated": annotated is not None,
            "promise": promise,
        },
        project=project,
        recipient=recipient,
        cc=cc,
        templates=templates,
        key=key,
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
) -> EmailMessage:
    """A deadline-ladder message. `reminder` (reminder.txt.j2): to a partner, `missing` lists
    the inputs it still owes. `notice` (T+1, to the WP coordinator) and `escalation` (T+7, to
    the lead) use escalation.txt.j2, `missing` listing who is late with what. `step` ("T-14",
    "T+7", …) is part of the key, so each rung is sent once."""
    return compose(
        "reminder" if kind == "reminder" else "escalation",
        {
            "kind": kind,
            "milestone": milestone,
            "step": step,
            "missing": missing,
            "as_of": as_of,
            "days_left": (milestone.due - as_of).days,
        },
        project=project,
        recipient=recipient,
        cc=cc,
        templates=templates,
        key=key,
    )
