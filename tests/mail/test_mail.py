"""Composing e-mails from the templates, the outbox and SMTP transports, and sending once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from schemas.project import Milestone, Participant, Programme, Project, WorkPackage
from schemas.records import Issue, ReportRef, Submission, ValidationResult
from schemas.settings import Settings
from tests.conftest import SmtpSink, parse_eml, running_smtp
from wpflow.mail.compose import (
    DOCX_TYPE,
    compose_receipt_email,
    compose_reminder_email,
    compose_report_email,
    header_text,
)
from wpflow.mail.idempotency import ladder_key, receipt_key, report_key
from wpflow.mail.transports import (
    MailConfigError,
    OutboxMailer,
    PermanentMailError,
    SmtpMailer,
    TransientMailError,
    mailer_from_settings,
    notify_once,
)
from wpflow.store.issued import About
from wpflow.store.store import Store

DOCX_MIME = "/".join(DOCX_TYPE)
INJECTION = "Cluster mapping\r\nBcc: evil@example.com"


# -- a small project of our own ---------------------------------------------------------
def participant(pid: str, city: str, organisation: str, *emails: str, role: str = "partner") -> Participant:
    return Participant(
        id=pid,
        city=city,
        country="—",
        organisation=organisation,
        role=role,
        local_coordinator=True,
        emails=list(emails),
    )


def make_project(*, title: str = "Cluster mapping", riga_org: str = "Rīgas dome") -> Project:
    milestone = Milestone(
        id="WP3-M2",
        title=title,
        start=date(2006, 1, 1),
        end=date(2006, 6, 30),
        due=date(2006, 6, 15),
        inputs=[{"kind": "clusters"}],
    )
    return Project(
        name="BaltMet Inno",
        title="Baltic Metropoles innovation strategy",
        programme=Programme(name="Interreg IIIB Baltic Sea Region"),
        start=date(2005, 1, 1),
        end=date(2007, 12, 31),
        lead="oslo",
        secretariat_email="secretariat@baltmet.example",
        participants=[
            participant("oslo", "Oslo", "Oslo kommune", "lead@oslo.example", role="lead"),
            participant("riga", "Rīga", riga_org, "wp3@riga.example"),
            participant("malmo", "Malmö", "Malmö stad", "info@malmo.example", "cluster@malmo.example"),
        ],
        work_packages=[WorkPackage(id="WP3", title="Clusters", coordinator="riga", milestones=[milestone])],
    )


@pytest.fixture
def project() -> Project:  # shadows the conftest's bundled project on purpose: not ours to depend on
    return make_project()


@pytest.fixture
def report(tmp_path: Path) -> ReportRef:
    path = tmp_path / "WP3-M2 Cluster mapping.docx"
    path.write_bytes(b"PK\x03\x04 fake docx \x00\xff" * 50)
    return ReportRef(
        milestone_id="WP3-M2",
        path=str(path),
        sha256="a" * 64,
        template_sha256="b" * 64,
        generated_at=datetime(2006, 7, 1, 8, 0, tzinfo=UTC),
    )


def report_email(project: Project, report: ReportRef, recipient: str = "malmo", **kw) -> EmailMessage:
    kw.setdefault("cc", ["lead@oslo.example"])
    kw.setdefault("summary_lines", ["Status: incomplete — 2 of 3 required inputs delivered and valid."])
    person = project.participant(recipient)
    kw.setdefault("key", report_key("BaltMet Inno", "WP3-M2", person.emails[0], report.sha256))
    return compose_report_email(project, project.milestone("WP3-M2"), report, person, **kw)


def parts(msg: EmailMessage) -> tuple[str, str, EmailMessage]:
    """(text body, HTML body, the single attachment)."""
    (attachment,) = list(msg.iter_attachments())
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content(), attachment


def header_names(msg: EmailMessage) -> list[str]:
    """Every header name of the message and of each MIME part, as a parser sees them on the wire."""
    wire = message_from_bytes(bytes(msg), policy=policy.default)
    return [name.lower() for part in wire.walk() for name in part]


# -- a real SMTP server on loopback ----------------------------------------------------------
# -- composing and the outbox -------------------------------------------------------------
def test_outbox_writes_a_parseable_eml_with_everything(project: Project, report: ReportRef, tmp_path: Path) -> None:
    msg = report_email(project, report)
    key = report_key("BaltMet Inno", "WP3-M2", "info@malmo.example", report.sha256)

    path = Path(OutboxMailer(tmp_path / "outbox").send(msg))

    assert path == tmp_path / "outbox" / f"{key}.eml"
    parsed = parse_eml(path)
    assert parsed["Subject"] == "[BaltMet Inno] WP3-M2 report — Cluster mapping"
    assert parsed["From"].addresses[0].addr_spec == "secretariat@baltmet.example"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["info@malmo.example", "cluster@malmo.example"]
    assert parsed["To"].addresses[0].display_name == "Malmö stad"
    assert [a.addr_spec for a in parsed["Cc"].addresses] == ["lead@oslo.example"]
    assert parsed["Message-ID"] == f"<{key}@baltmet.example>"
    assert parsed["Date"].datetime.tzinfo is not None
    text, html, attachment = parts(parsed)
    assert "Dear colleagues at Malmö stad (Malmö)" in text
    assert 'report "Cluster mapping" of BaltMet Inno' in text
    assert "- Status: incomplete — 2 of 3 required inputs delivered and valid." in text
    assert report.sha256 in text and "2006-07-01 08:00 UTC" in text
    assert "<li>Status: incomplete — 2 of 3 required inputs delivered and valid.</li>" in html
    assert attachment.get_content_type() == DOCX_MIME
    assert attachment.get_filename() == "WP3-M2 Cluster mapping.docx"
    assert attachment.get_content() == Path(report.path).read_bytes()


def test_outbox_rewrite_of_the_same_notification_is_one_file(
    project: Project, report: ReportRef, tmp_path: Path
) -> None:
    outbox = OutboxMailer(tmp_path / "outbox")
    first = outbox.send(report_email(project, report))
    second = outbox.send(report_email(project, report))
    other = outbox.send(report_email(project, report, recipient="riga"))

    assert first == second != other
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted({Path(first).name, Path(other).name})


def test_an_update_names_its_version_what_it_replaces_and_what_changed(project: Project, report: ReportRef) -> None:
    v2 = report.model_copy(update={"version": 2, "fingerprint": "f" * 64})
    msg = report_email(
        project,
        v2,
        since="v1 of 2006-06-15",
        changes=["Malmö (Pre-phase clusters): new, clusters.xlsx delivered late.", "Still missing: Rīga."],
    )

    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 report v2 (updated) — Cluster mapping"
    text, html, _ = parts(msg)
    assert "has changed since v1 of 2006-06-15" in text and "attached version 2" in text
    assert "  - Malmö (Pre-phase clusters): new, clusters.xlsx delivered late.\n  - Still missing: Rīga." in text
    assert "<li>Still missing: Rīga.</li>" in html and "Version:    2" in text


def test_cc_does_not_repeat_the_recipient(project: Project, report: ReportRef) -> None:
    msg = report_email(project, report, recipient="oslo", cc=["lead@oslo.example"])

    assert msg["Cc"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["lead@oslo.example"]


def test_html_body_is_autoescaped(report: ReportRef) -> None:
    project = make_project(title="<b>Clusters</b> & co", riga_org="<script>alert(1)</script>")
    msg = report_email(project, report, recipient="riga", summary_lines=["<img src=x onerror=alert(1)>"])

    text, html, _ = parts(msg)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;Clusters&lt;/b&gt; &amp; co" in html
    assert "<script>alert(1)</script>" in text  # plain text shows it as typed


# -- headers: injection and non-ASCII -----------------------------------------------------
@pytest.mark.parametrize(
    "value, cleaned",
    [
        ("Cluster mapping\r\nBcc: evil@example.com", "Cluster mapping Bcc: evil@example.com"),
        ("a\nb\rc\x00d\x1be", "a b c d e"),
        ("Rīga\u2028Malmö\u202e", "Rīga Malmö"),
        ("  spaced   out\t", "spaced out"),
    ],
)
def test_header_text_removes_line_breaks_and_controls(value: str, cleaned: str) -> None:
    assert header_text(value) == cleaned


def test_header_injection_through_title_organisation_and_file_name_is_impossible(
    report: ReportRef,
    tmp_path: Path,
    smtp_server: SmtpSink,
) -> None:
    project = make_project(title=INJECTION, riga_org="Rīgas dome\r\nBcc: evil@example.com")
    report_path = Path(report.path).with_name("report\r\nBcc: evil@example.com.docx")
    Path(report.path).rename(report_path)
    report = report.model_copy(update={"path": str(report_path)})
    sub = submission(file_name="clusters.xlsx\r\nBcc: evil@example.com")
    messages = [
        report_email(project, report, recipient="riga"),
        compose_receipt_email(
            project,
            project.milestone("WP3-M2"),
            sub,
            invalid_result(sub),
            project.participant("riga"),
            key=receipt_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", sub.sha256),
        ),
    ]

    mailer = SmtpMailer(smtp_server.host, smtp_server.port)
    for msg in messages:
        top_block = bytes(msg).split(b"\r\n\r\n", 1)[0]
        assert b"\r\nBcc:" not in top_block and not top_block.startswith(b"Bcc:")
        assert "bcc" not in header_names(msg)
        assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
        assert "Bcc: evil@example.com" in msg["Subject"]  # harmless text inside the one subject line
        mailer.send(msg)

    received = [set(e.rcpt_tos) for e in smtp_server.envelopes]
    assert received == [{"wp3@riga.example", "lead@oslo.example"}, {"wp3@riga.example"}]
    assert all(m["Bcc"] is None for m in smtp_server.messages)
    report_msg = smtp_server.messages[0]
    assert report_msg["Subject"] == "[BaltMet Inno] WP3-M2 report — Cluster mapping Bcc: evil@example.com"
    assert report_msg["To"].addresses[0].display_name == "Rīgas dome Bcc: evil@example.com"
    assert next(report_msg.iter_attachments()).get_filename() == "report Bcc: evil@example.com.docx"


def test_non_ascii_names_are_encoded_and_decode_back(project: Project, report: ReportRef) -> None:
    project = make_project(title="Klasteri Rīgā un Malmö")
    msg = report_email(project, report, recipient="riga")

    raw = bytes(msg)
    raw.decode("ascii")  # every header and every part is 7-bit on the wire
    assert b"=?utf-8?" in raw
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "[BaltMet Inno] WP3-M2 report — Klasteri Rīgā un Malmö"
    assert parsed["To"].addresses[0].display_name == "Rīgas dome"
    assert "Dear colleagues at Rīgas dome (Rīga)" in parsed.get_body(("plain",)).get_content()


def test_address_with_line_break_is_refused(project: Project, report: ReportRef) -> None:
    with pytest.raises(ValueError, match="not a single e-mail address"):
        report_email(project, report, cc=["lead@oslo.example\r\nBcc: evil@example.com"])
    with pytest.raises(ValueError, match="not a single e-mail address"):
        report_email(project, report, cc=["a@oslo.example, evil@example.com"])


# -- receipts and reminders ---------------------------------------------------------------
def submission(file_name: str = "Rīga clusters.xlsx") -> Submission:
    return Submission(
        project="BaltMet Inno",
        partner="riga",
        milestone="WP3-M2",
        file_name=file_name,
        sha256="c" * 64,
        size=2048,
        received_at=datetime(2006, 6, 1, tzinfo=UTC),
        modified_at=datetime(2006, 6, 1, tzinfo=UTC),
        version=2,
        archive_path="/a/" + "c" * 64,
    )


def invalid_result(sub: Submission) -> ValidationResult:
    return ValidationResult(
        file=sub.file_name,
        kind="clusters",
        issues=[
            Issue(
                file=sub.file_name,
                sheet="Clusters",
                row=7,
                column="D",
                field="budget_eur",
                value="12,5 k",
                message="is not a number",
            ),
            Issue(
                file=sub.file_name,
                sheet="Clusters",
                row=9,
                column="B",
                field="city",
                value="Riga",
                message="did you mean Rīga?",
                severity="warning",
            ),
        ],
    )


def test_receipt_lists_the_issues_and_attaches_the_annotated_copy(project: Project, tmp_path: Path) -> None:
    sub = submission()
    annotated = tmp_path / "annotated.xlsx"
    annotated.write_bytes(b"PK annotated workbook")

    msg = compose_receipt_email(
        project,
        project.milestone("WP3-M2"),
        sub,
        invalid_result(sub),
        project.participant("riga"),
        annotated=annotated,
        key=receipt_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", sub.sha256),
    )

    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 receipt — Rīga clusters.xlsx: 1 problem to fix"
    body = msg.get_body(("plain",)).get_content()
    assert "- Rīga clusters.xlsx, sheet Clusters, row 7, column D (budget_eur): '12,5 k' is not a number" in body
    assert "Please also check" in body and "row 9, column B (city): 'Riga' did you mean Rīga?" in body
    assert "version 2" in body and "marks every problem cell" in body
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "Rīga clusters (annotated).xlsx"
    assert attachment.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert attachment.get_content() == b"PK annotated workbook"
    assert (
        msg["Message-ID"] == f"<{receipt_key('BaltMet Inno', 'WP3-M2', 'wp3@riga.example', 'c' * 64)}@baltmet.example>"
    )


def test_receipt_for_a_valid_file(project: Project) -> None:
    sub = submission()
    ok = ValidationResult(file=sub.file_name, kind="clusters")

    msg = compose_receipt_email(
        project,
        project.milestone("WP3-M2"),
        sub,
        ok,
        project.participant("riga"),
        key=receipt_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", sub.sha256),
        promise="It will be in the updated WP3-M2 report, v2.",
    )

    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 receipt — Rīga clusters.xlsx: accepted"
    assert "It passed all checks. It will be in the updated WP3-M2 report, v2." in msg.get_content()
    assert list(msg.iter_attachments()) == []


@pytest.mark.parametrize(
    "as_of, phrase",
    [
        (date(2006, 6, 1), "are due in 14 days, on 2006-06-15"),
        (date(2006, 6, 14), "are due in 1 day, on 2006-06-15"),
        (date(2006, 6, 15), "are due today, 2006-06-15"),
        (date(2006, 6, 16), "were due on 2006-06-15, 1 day ago"),
    ],
)
def test_reminder_says_when_and_what(project: Project, as_of: date, phrase: str) -> None:
    msg = compose_reminder_email(
        project,
        project.milestone("WP3-M2"),
        project.participant("malmo"),
        key=ladder_key("BaltMet Inno", "WP3-M2", "info@malmo.example", "reminder", "T-14"),
        step="T-14",
        missing=["Pre-phase clusters (clusters)"],
        as_of=as_of,
    )

    body = msg.get_content()
    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 reminder — inputs due 2006-06-15"
    assert phrase in body
    assert "  - Pre-phase clusters (clusters)" in body


@pytest.mark.parametrize(
    "kind, recipient, step, as_of, days, closing",
    [
        (
            "notice",
            "riga",
            "T+1",
            date(2006, 6, 16),
            "(1 day after the due date)",
            "As WP co-ordinator, please contact them",
        ),
        (
            "escalation",
            "oslo",
            "T+7",
            date(2006, 6, 22),
            "(7 days after the due date)",
            "As lead partner, please take this up",
        ),
    ],
)
def test_notice_and_escalation_list_who_is_late(
    project: Project,
    kind: str,
    recipient: str,
    step: str,
    as_of: date,
    days: str,
    closing: str,
) -> None:
    msg = compose_reminder_email(
        project,
        project.milestone("WP3-M2"),
        project.participant(recipient),
        step=step,
        key=ladder_key("BaltMet Inno", "WP3-M2", project.participant(recipient).emails[0], kind, step),
        missing=["Malmö: clusters", "Rīga: seed_funding (invalid)"],
        as_of=as_of,
        kind=kind,
    )

    body = msg.get_content()
    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 overdue inputs — 2 outstanding"
    assert days in body and closing in body
    assert "  - Malmö: clusters\n  - Rīga: seed_funding (invalid)" in body


def test_reminder_keys_differ_per_step_and_kind(project: Project) -> None:
    milestone, malmo = project.milestone("WP3-M2"), project.participant("malmo")
    ids = {
        compose_reminder_email(
            project,
            milestone,
            malmo,
            step=step,
            missing=["x"],
            as_of=date(2006, 6, 1),
            kind=kind,
            key=ladder_key("BaltMet Inno", milestone.id, malmo.emails[0], kind, step),
        )["Message-ID"]
        for step in ("T-14", "T-3")
        for kind in ("reminder", "notice", "escalation")
    }
    assert len(ids) == 6


def test_keys_are_stable_and_sensitive_to_each_part() -> None:
    key = report_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", "a" * 64)

    assert key == report_key("BaltMet Inno", "WP3-M2", " WP3@Riga.example", "a" * 64)
    assert len(key) == 64 and int(key, 16) >= 0
    assert (
        len(
            {
                key,
                report_key("BaltMet Inno", "WP3-M3", "wp3@riga.example", "a" * 64),
                report_key("BaltMet Inno", "WP3-M2", "info@malmo.example", "a" * 64),
                report_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", "b" * 64),
                receipt_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", "a" * 64),
                ladder_key("BaltMet Inno", "WP3-M2", "wp3@riga.example", "reminder", "a" * 64),
                report_key("Other Inno", "WP3-M2", "wp3@riga.example", "a" * 64),  # one person, another project
            }
        )
        == 7
    )


# -- SMTP ----------------------------------------------------------------------------------
def test_smtp_delivers_message_envelope_and_attachment(
    project: Project, report: ReportRef, smtp_server: SmtpSink
) -> None:
    msg = report_email(project, report)

    returned = SmtpMailer(smtp_server.host, smtp_server.port, timeout=5).send(msg)

    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "secretariat@baltmet.example"
    assert sorted(envelope.rcpt_tos) == ["cluster@malmo.example", "info@malmo.example", "lead@oslo.example"]
    (received,) = smtp_server.messages
    assert returned == received["Message-ID"] == msg["Message-ID"]
    assert received["Subject"] == "[BaltMet Inno] WP3-M2 report — Cluster mapping"
    text, html, attachment = parts(received)
    assert "Malmö stad" in text and "<li>" in html
    assert attachment.get_content() == Path(report.path).read_bytes()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


# -- sending once ----------------------------------------------------------------------------
def send_report(store: Store, mailer, project: Project, report: ReportRef, *, update: bool = False):
    malmo = project.participant("malmo")
    msg = report_email(
        project,
        report,
        since="v1 of 2006-07-01" if update else None,
        changes=["Malmö (Pre-phase clusters): new."] if update else None,
    )
    return notify_once(
        store,
        mailer,
        msg,
        key=report_key("BaltMet Inno", "WP3-M2", malmo.emails[0], report.sha256),
        project=project.name,
        milestone="WP3-M2",
        recipient=malmo.emails[0],
        kind="report",
        about=About(fingerprint=report.sha256),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'wpflow.db'}") as s:
        yield s


def test_notify_once_sends_once_and_again_for_a_changed_report(
    store: Store,
    project: Project,
    report: ReportRef,
    smtp_server: SmtpSink,
) -> None:
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, timeout=5)

    first = send_report(store, mailer, project, report)
    repeat = send_report(store, mailer, project, report)
    changed = report.model_copy(update={"sha256": "e" * 64})
    update = send_report(store, mailer, project, changed, update=True)

    assert (first.sent, repeat.sent, update.sent) == (True, False, True)
    assert first.key == repeat.key != update.key
    assert first.to == ["info@malmo.example", "cluster@malmo.example"] and first.cc == ["lead@oslo.example"]
    assert first.path is None  # SMTP: no outbox file
    assert [m["Subject"] for m in smtp_server.messages] == [
        "[BaltMet Inno] WP3-M2 report — Cluster mapping",
        "[BaltMet Inno] WP3-M2 report (updated) — Cluster mapping",
    ]
    sent = store.notifications("BaltMet Inno", "WP3-M2")
    assert [(n.fingerprint, n.transport, n.message_id) for n in sent] == [
        ("a" * 64, "smtp", smtp_server.messages[0]["Message-ID"]),
        ("e" * 64, "smtp", smtp_server.messages[1]["Message-ID"]),
    ]


def test_notify_once_through_the_outbox_reports_the_file(
    store: Store, project: Project, report: ReportRef, tmp_path: Path
) -> None:
    notice = send_report(store, OutboxMailer(tmp_path / "outbox"), project, report)

    assert notice.sent is True
    assert notice.path is not None and parse_eml(Path(notice.path))["Subject"] == notice.subject
    assert store.was_sent(notice.key)


def test_failed_send_releases_the_claim_for_the_retry(
    store: Store,
    project: Project,
    report: ReportRef,
    smtp_server: SmtpSink,
) -> None:
    with pytest.raises(TransientMailError):
        send_report(store, SmtpMailer("127.0.0.1", closed_port(), timeout=3), project, report)
    key = report_key("BaltMet Inno", "WP3-M2", "info@malmo.example", report.sha256)
    assert store.was_sent(key) is False

    retry = send_report(store, SmtpMailer(smtp_server.host, smtp_server.port, timeout=5), project, report)

    assert retry.sent is True
    assert len(smtp_server.messages) == 1


def test_long_display_names_with_commas_survive_the_round_trip(tmp_path: Path) -> None:
    """Regression: folding a long quoted display name split it into three addresses."""
    from email.message import EmailMessage

    from wpflow.mail.compose import MAIL_POLICY, mailbox

    name = "City of St. Petersburg, Committee for Economic Development, Industrial Policy and Trade"
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["To"] = [mailbox("baltmet-inno@spb.example.org", name)]
    msg.set_content("x")
    (tmp_path / "m.eml").write_bytes(msg.as_bytes())
    parsed = parse_eml(tmp_path / "m.eml")
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [(name, "baltmet-inno@spb.example.org")]


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
