"""Sending e-mail through one seam: `OutboxMailer` writes `.eml` files (the default: nothing
leaves the machine), `SmtpMailer` talks to a real server; sending each message once is
`wpflow.mail.send_once`.
Transient failures (unreachable, busy, 4xx) are told from permanent ones (5xx, wrong settings),
so Prefect retries only what a retry can fix.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar, Literal, Protocol

from pydantic import SecretStr

from schemas.settings import Settings
from wpflow.files import replacing
from wpflow.mail.compose import MAIL_POLICY

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]


# -- errors ------------------------------------------------------------------------------
class MailError(Exception):
    """Sending an e-mail failed."""


class TransientMailError(MailError):
    """Worth retrying: the server was unreachable, busy or answered 4xx."""


class MailServerUnreachable(TransientMailError):
    """The server could not be reached at all (refused, timed out, no such host). Not retried
    within a run: what was not sent stays unsent in the store and goes out on the next run
    (the daily ladder, the watcher's retry queue), once."""


class PermanentMailError(MailError):
    """Retrying will not help: the server answered 5xx."""


class MailConfigError(PermanentMailError):
    """The mail settings are wrong (TLS mode, credentials); the message says which setting."""


# -- transports --------------------------------------------------------------------------
UNREACHABLE_HOLD_SECONDS = 5.0
SLOW_FAILURE_SECONDS = 1.0


class Mailer(Protocol):
    """Where e-mails go. `send` returns where the message ended up (outbox path or
    Message-ID) and raises TransientMailError / PermanentMailError."""

    transport: ClassVar[str]

    def send(self, msg: EmailMessage) -> str: ...


@dataclass(frozen=True)
class OutboxMailer:
    """Writes each message as `<key>.eml` into a folder. The name comes from the Message-ID,
    which comes from the idempotency key, so writing the same notification again replaces
    the same file rather than adding a second one."""

    folder: Path
    transport: ClassVar[str] = "outbox"

    def send(self, msg: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / outbox_file_name(msg)
        with replacing(target, "the e-mail") as tmp:  # a mail client never sees half a message
            tmp.write_bytes(msg.as_bytes(policy=MAIL_POLICY))
        return str(target)


def outbox_file_name(msg: EmailMessage) -> str:
    local = str(msg.get("Message-ID", "")).strip().strip("<>").partition("@")[0]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", local).strip("._")
    return f"{safe or hashlib.sha256(msg.as_bytes()).hexdigest()}.eml"


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through an SMTP server: plain, STARTTLS (usually port 587) or implicit TLS (465).

    Errors are sorted for the caller's retry policy: unreachable, disconnected or 4xx →
    TransientMailError; 5xx → PermanentMailError; wrong TLS mode or credentials →
    MailConfigError naming the setting to change. The password is a SecretStr and is only
    unwrapped in the call to `login`.
    """

    host: str
    port: int
    security: Security = "none"
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    timeout: float = 10.0
    transport: ClassVar[str] = "smtp"
    # when the server was last found unreachable (monotonic), shared by this mailer's callers
    _down: list[float] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_smtp_config(self)

    @property
    def where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def send(self, msg: EmailMessage) -> str:
        """Send one message. A server that took a second or more to be found unreachable (a
        connect timeout: a host that drops packets) is not tried again for
        `UNREACHABLE_HOLD_SECONDS`, so the other e-mails of a run fail at once instead of each
        waiting out its own timeout (25 milestones × 10 s). A refused connection costs nothing
        and is simply tried again."""
        if self._down and time.monotonic() - self._down[-1] < UNREACHABLE_HOLD_SECONDS:
            ago = time.monotonic() - self._down[-1]
            raise MailServerUnreachable(f"cannot reach {self.where}: unreachable {ago:.0f} s ago, not tried again yet")
        began = time.monotonic()
        try:
            with self.connect() as smtp:
                refused = smtp.send_message(msg)
        except MailError:
            raise
        except Exception as exc:
            error = classify_smtp_error(exc, self.where)
            if isinstance(error, MailServerUnreachable) and time.monotonic() - began >= SLOW_FAILURE_SECONDS:
                self._down[:] = [time.monotonic()]
            raise error from exc
        self._down.clear()
        if refused:
            log.warning("%s refused some recipients of %s: %s", self.where, msg["Message-ID"], sorted(refused))
        return str(msg["Message-ID"])

    @contextmanager
    def connect(self) -> Iterator[smtplib.SMTP]:
        """An open, secured and logged-in connection, closed (QUIT) afterwards."""
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                self.start_tls(smtp)
            if self.user:
                self.login(smtp)
            yield smtp

    def start_tls(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.starttls(context=ssl.create_default_context())
        except smtplib.SMTPNotSupportedError as exc:
            raise MailConfigError(
                f"{self.where} does not offer STARTTLS; set WPFLOW_SMTP_SECURITY=ssl if it is an "
                "implicit-TLS port (usually 465) or none for a plain local relay"
            ) from exc

    def login(self, smtp: smtplib.SMTP) -> None:
        assert self.user is not None and self.password is not None  # check_smtp_config
        try:
            smtp.login(self.user, self.password.get_secret_value())
        except smtplib.SMTPNotSupportedError as exc:
            raise MailConfigError(
                f"{self.where} offers no AUTH on this connection; many servers offer it only after "
                "TLS (WPFLOW_SMTP_SECURITY=starttls or ssl)"
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise MailConfigError(
                f"{self.where} rejected the login of WPFLOW_SMTP_USER={self.user!r} "
                f"({exc.smtp_code}); check WPFLOW_SMTP_USER and WPFLOW_SMTP_PASSWORD"
            ) from exc


def check_smtp_config(mailer: SmtpMailer) -> None:
    """Refuse settings that cannot work (or would leak the password) before any connection."""
    if mailer.security not in ("none", "starttls", "ssl"):
        raise MailConfigError(f"WPFLOW_SMTP_SECURITY must be none, starttls or ssl, not {mailer.security!r}")
    if bool(mailer.user) != (mailer.password is not None):
        raise MailConfigError("set both WPFLOW_SMTP_USER and WPFLOW_SMTP_PASSWORD, or neither")
    if mailer.user and mailer.security == "none" and not is_loopback(mailer.host):
        raise MailConfigError(
            f"refusing to send the SMTP password unencrypted to {mailer.host}; set WPFLOW_SMTP_SECURITY=starttls or ssl"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def classify_smtp_error(exc: Exception, where: str) -> MailError:
    """Map smtplib / socket / TLS failures to transient or permanent. Order matters:
    smtplib's exceptions and ssl.SSLError are both OSError subclasses."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        cls = TransientMailError if any(400 <= c < 500 for c in codes) else PermanentMailError
        return cls(f"{where} refused every recipient: {exc.recipients}")
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        cls = TransientMailError if 400 <= exc.smtp_code < 500 else PermanentMailError
        return cls(f"{where} answered {exc.smtp_code} {reply}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):  # connected, but it never answered
            return MailServerUnreachable(f"cannot reach {where}: it did not answer ({exc})")
        return TransientMailError(f"{where} closed the connection: {exc}")
    if isinstance(exc, ssl.SSLError):
        return MailConfigError(
            f"TLS with {where} failed ({exc.reason or exc}); is WPFLOW_SMTP_SECURITY right for this "
            "port? ssl = implicit TLS (usually 465), starttls = plain then upgrade (usually 587)"
        )
    if isinstance(exc, OSError):  # refused, reset, timed out, name not resolved
        return MailServerUnreachable(f"cannot reach {where}: {exc}")
    return PermanentMailError(f"sending through {where} failed: {exc!r}")


def mailer_from_settings(settings: Settings) -> Mailer:
    if settings.mail_transport == "smtp":
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )
    return OutboxMailer(settings.outbox_dir)
