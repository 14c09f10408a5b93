"""Messages as partners send them to the intake mailbox: headers as mail clients write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from tests.intake.conftest import INTAKE

MALMO = '"Malmö stad, Näringsliv" <BaltMet-Inno@Malmo.Example.org>'  # case and display name as typed
REMINDER_REPLY = "Re: [BaltMet Inno] WP4-M3 reminder — inputs due 30 June 2006"


def partner_mail(
    sender: str = MALMO,
    subject: str = REMINDER_REPLY,
    *,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    to: str = INTAKE,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="malmo.example.org")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content("Dear secretariat,\n\nplease find our file attached.\n\nBest regards\n")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def sample(partner: str, name: str, milestone: str = "WP4-M3") -> tuple[str, bytes]:
    from schemas.settings import ROOT

    path = ROOT / "projects" / "baltmet-inno" / "inbox" / partner / milestone / name
    return name, Path(path).read_bytes()
