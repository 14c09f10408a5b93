"""The SMTP transport against real servers on loopback: delivery, failures sorted transient or
permanent, TLS and login settings."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from schemas.project import Project
from schemas.records import ReportRef
from schemas.settings import Settings
from tests.mail.messages import (
    make_project,
    parts,
    report_email,
)
from tests.smtp import SmtpSink, closed_port, running_smtp
from wpflow.cli.errors import describe_failure
from wpflow.mail.transports import (
    MailConfigError,
    OutboxMailer,
    PermanentMailError,
    SmtpMailer,
    TransientMailError,
    mailer_from_settings,
)


@pytest.fixture
def project() -> Project:  # the small project of tests/mail/messages.py, not the bundled one
    return make_project()


# -- SMTP ----------------------------------------------------------------------------------
def test_smtp_delivers_message_envelope_and_attachment(
    project: Project, report: ReportRef, smtp_server: SmtpSink
) -> None:
    msg = report_email(project, report)

    returned = SmtpMailer(smtp_server.host, smtp_server.port, timeout=5).send(msg)

    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "secretariat@baltmet.example"
    assert sorted(envelope.rcpt_tos) == ["cluster@malmo.example", "info@malmo.example"]
    (received,) = smtp_server.messages
    assert returned == received["Message-ID"] == msg["Message-ID"]
    assert received["Subject"] == "[BaltMet Inno] WP3-M2 report — Cluster mapping"
    text, html, attachment = parts(received)
    assert "Malmö stad" in text and "<li>" in html
    assert attachment.get_content() == Path(report.path).read_bytes()


def test_unreachable_server_is_transient(project: Project, report: ReportRef) -> None:
    with pytest.raises(TransientMailError, match=r"cannot reach SMTP server 127\.0\.0\.1"):
        SmtpMailer("127.0.0.1", closed_port(), timeout=3).send(report_email(project, report))


def test_a_server_that_never_greets_is_not_tried_again_at_once_but_a_refusing_one_is(
    project: Project, report: ReportRef
) -> None:
    """A host that times out costs each e-mail its timeout; the mailer holds off for a few
    seconds instead. A refused connection is instant and is simply tried again."""
    from wpflow.mail.transports import MailServerUnreachable

    with socket.socket() as silent:  # listens (the kernel completes the handshake), never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mailer = SmtpMailer("127.0.0.1", silent.getsockname()[1], timeout=1)
        with pytest.raises(MailServerUnreachable, match="timed out"):
            mailer.send(report_email(project, report))
        with pytest.raises(MailServerUnreachable, match="not tried again yet"):
            mailer.send(report_email(project, report))
    refusing = SmtpMailer("127.0.0.1", closed_port(), timeout=1)
    for _ in range(2):
        with pytest.raises(MailServerUnreachable, match="Connection refused"):
            refusing.send(report_email(project, report))


class Replying:
    """An aiosmtpd handler that answers DATA with a fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):
        return self.reply


@pytest.fixture
def replying_server(request) -> Iterator[tuple[str, int]]:
    with running_smtp(Replying(request.param)) as port:
        yield "127.0.0.1", port


@pytest.mark.parametrize(
    "replying_server, error",
    [
        ("451 4.3.0 Try again later", TransientMailError),
        ("552 5.3.4 Message too big", PermanentMailError),
    ],
    indirect=["replying_server"],
)
def test_server_replies_are_sorted_transient_or_permanent(
    project: Project,
    report: ReportRef,
    replying_server: tuple[str, int],
    error: type[Exception],
) -> None:
    host, port = replying_server
    with pytest.raises(error) as caught:
        SmtpMailer(host, port, timeout=5).send(report_email(project, report))
    assert type(caught.value) is error
    assert caught.value.args[0].split(" answered ")[1][:3] in ("451", "552")
    # the command's one line says what the server answered, not that it could not be reached
    code, line = describe_failure(caught.value)
    reply = caught.value.args[0].split(" answered ")[1]
    assert (code, line) == (2, f"the mail server did not take the e-mail: it answered {reply}")


def test_starttls_against_a_server_without_it_is_a_clear_config_error(
    project: Project,
    report: ReportRef,
    smtp_server: SmtpSink,
) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, security="starttls", timeout=5)
    with pytest.raises(MailConfigError, match="does not offer STARTTLS; set WPFLOW_SMTP_SECURITY"):
        mailer.send(report_email(project, report))
    assert smtp_server.envelopes == []


def test_ssl_against_a_plain_port_is_a_clear_config_error(
    project: Project, report: ReportRef, smtp_server: SmtpSink
) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, security="ssl", timeout=5)
    with pytest.raises(MailConfigError, match=r"TLS with SMTP server .* failed .*WPFLOW_SMTP_SECURITY"):
        mailer.send(report_email(project, report))
    assert smtp_server.envelopes == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"user": "secretariat"}, "set both WPFLOW_SMTP_USER and WPFLOW_SMTP_PASSWORD"),
        ({"password": SecretStr("hunter2")}, "set both WPFLOW_SMTP_USER and WPFLOW_SMTP_PASSWORD"),
        (
            {"host": "mail.baltmet.example", "user": "s", "password": SecretStr("hunter2")},
            "refusing to send the SMTP password unencrypted",
        ),
    ],
)
def test_impossible_smtp_settings_fail_before_connecting(kwargs: dict, message: str) -> None:
    kwargs = {"host": "127.0.0.1", "port": 25, **kwargs}
    with pytest.raises(MailConfigError, match=message) as caught:
        SmtpMailer(**kwargs)
    assert "hunter2" not in str(caught.value)


def test_password_is_never_shown() -> None:
    mailer = SmtpMailer("mail.baltmet.example", 587, security="starttls", user="s", password=SecretStr("hunter2"))
    assert "hunter2" not in repr(mailer) and "hunter2" not in str(mailer)


def test_mailer_from_settings(settings: Settings) -> None:
    outbox = mailer_from_settings(settings)
    assert isinstance(outbox, OutboxMailer) and outbox.folder == settings.outbox_dir

    smtp = mailer_from_settings(
        settings.model_copy(
            update={
                "mail_transport": "smtp",
                "smtp_host": "mail.baltmet.example",
                "smtp_port": 587,
                "smtp_security": "starttls",
                "smtp_user": "s",
                "smtp_password": SecretStr("hunter2"),
                "smtp_timeout": 3.0,
            }
        )
    )
    assert smtp == SmtpMailer("mail.baltmet.example", 587, "starttls", "s", SecretStr("hunter2"), 3.0)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"smtp_user": "s"}, "WPFLOW_SMTP_USER is set but WPFLOW_SMTP_PASSWORD is not"),
        ({"smtp_password": "hunter2"}, "WPFLOW_SMTP_PASSWORD is set but WPFLOW_SMTP_USER is not"),
    ],
)
def test_an_smtp_login_without_its_pair_is_refused_when_the_settings_are_read(given, message) -> None:
    from pydantic import ValidationError

    from schemas.settings import Settings

    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **given)
