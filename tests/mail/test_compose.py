"""Composing report e-mails from the templates, the outbox, and their headers: injection, non-ASCII."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from schemas.project import Project
from schemas.records import ReportRef
from tests.conftest import parse_eml
from tests.mail.messages import (
    DOCX_MIME,
    INJECTION,
    header_names,
    invalid_result,
    make_project,
    parts,
    report_email,
    submission,
)
from tests.smtp import SmtpSink
from wpflow.mail.compose import (
    header_text,
)
from wpflow.mail.idempotency import receipt_key, report_key
from wpflow.mail.receipts import compose_receipt_email
from wpflow.mail.transports import (
    OutboxMailer,
    SmtpMailer,
)


@pytest.fixture
def project() -> Project:  # the small project of tests/mail/messages.py, not the bundled one
    return make_project()


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
    assert parsed["Cc"] is None  # the lead gets a message of its own, not a copy of each partner's
    assert [(a.display_name, a.addr_spec) for a in parsed["Reply-To"].addresses] == [("Rīgas dome", "wp3@riga.example")]
    assert parsed["Message-ID"] == f"<{key}@baltmet.example>"
    assert parsed["Date"].datetime.tzinfo is not None
    text, html, attachment = parts(parsed)
    assert "Dear colleagues at Malmö stad," in text
    assert 'report "Cluster mapping" of BaltMet Inno' in text
    assert "- Status: incomplete — 2 of 3 required inputs delivered and valid." in text
    assert report.sha256 not in text and "UTC" not in text and "as the project stood on 1 July 2006" in text
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
    assert "<li>Still missing: Rīga.</li>" in html and "WP3-M2 Cluster mapping.docx, version 2" in text


def test_reply_to_names_the_coordinator_except_to_the_coordinator(project: Project, report: ReportRef) -> None:
    to_coordinator = report_email(project, report, recipient="riga")

    assert to_coordinator["Reply-To"] is None  # a reply reaches the secretariat, the sender
    assert [a.addr_spec for a in to_coordinator["To"].addresses] == ["wp3@riga.example"]


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
    assert received == [{"wp3@riga.example"}, {"wp3@riga.example"}]
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
    assert "Dear colleagues at Rīgas dome," in parsed.get_body(("plain",)).get_content()


def test_address_with_line_break_is_refused(project: Project) -> None:
    sub = submission()
    for cc in ("lead@oslo.example\r\nBcc: evil@example.com", "a@oslo.example, evil@example.com"):
        with pytest.raises(ValueError, match="not a single e-mail address"):
            compose_receipt_email(
                project,
                project.milestone("WP3-M2"),
                sub,
                invalid_result(sub),
                project.participant("riga"),
                key="k",
                cc=[cc],
            )


def test_long_display_names_with_commas_survive_the_round_trip(tmp_path: Path) -> None:
    """Regression: folding a long quoted display name split it into three addresses."""

    from wpflow.mail.compose import MAIL_POLICY, mailbox

    name = "City of St. Petersburg, Committee for Economic Development, Industrial Policy and Trade"
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["To"] = [mailbox("baltmet-inno@spb.example.org", name)]
    msg.set_content("x")
    (tmp_path / "m.eml").write_bytes(msg.as_bytes())
    parsed = parse_eml(tmp_path / "m.eml")
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [(name, "baltmet-inno@spb.example.org")]
