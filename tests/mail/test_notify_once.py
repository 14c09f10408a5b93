"""Sending once: `notify_once` claims a notification in the store, sends it, and releases the
claim when the send fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.project import Project
from schemas.records import ReportRef
from tests.conftest import parse_eml
from tests.mail.messages import (
    make_project,
    report_email,
)
from tests.smtp import SmtpSink, closed_port
from wpflow.mail.idempotency import report_key
from wpflow.mail.send_once import notify_once
from wpflow.mail.transports import (
    OutboxMailer,
    SmtpMailer,
    TransientMailError,
)
from wpflow.store.issued import About
from wpflow.store.store import Store


@pytest.fixture
def project() -> Project:  # the small project of tests/mail/messages.py, not the bundled one
    return make_project()


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
    assert first.to == ["info@malmo.example", "cluster@malmo.example"] and first.cc == []
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
