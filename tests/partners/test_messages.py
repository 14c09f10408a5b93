"""Messages say where to deliver and link to the partner's page when the pages are configured:
reminders, receipts and report e-mails, through the workspace's project."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from schemas.records import ReportRef, ValidationResult
from tests.mail.messages import submission
from wpflow.mail.compose import compose_reminder_email
from wpflow.mail.receipts import compose_receipt_email
from wpflow.mail.reports import compose_report_email
from wpflow.partners.links import partner_links
from wpflow.workspace import Workspace


def body(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def test_reminders_receipts_and_reports_link_to_the_partner_s_page(partner_settings, tmp_path: Path) -> None:
    urls = partner_links(Workspace(partner_settings))  # made by `wpflow partners links`
    settings = partner_settings.model_copy(update={"intake_address": "files@baltmet.example"})
    project = Workspace(settings).project  # a process started after the links were made
    riga, milestone = project.participant("riga"), project.milestone("WP4-M3")
    assert project.delivery.pages["riga"] == urls["riga"]

    reminder = body(
        compose_reminder_email(
            project, milestone, riga, key="k", step="T-14", missing=["seed_funding"], as_of=date(2006, 6, 16)
        )
    )
    assert "inbox/riga/WP4-M3/" in reminder  # where, always
    assert f"upload it on your page {urls['riga']}" in reminder
    assert "e-mail it as an attachment to files@baltmet.example with WP4-M3 in the subject" in reminder

    sub = submission("seed.csv").model_copy(update={"partner": "riga", "milestone": "WP4-M3"})
    receipt = body(
        compose_receipt_email(project, milestone, sub, ValidationResult(file="seed.csv", kind=None), riga, key="r")
    )
    assert urls["riga"] in receipt and urls["tallinn"] not in receipt

    docx = tmp_path / "WP4-M3.docx"
    docx.write_bytes(b"PK")
    ref = ReportRef(
        milestone_id="WP4-M3",
        path=str(docx),
        sha256="0" * 64,
        template_sha256="",
        generated_at=datetime.now(UTC),
        version=1,
    )
    report = body(compose_report_email(project, milestone, ref, riga, key="x"))
    assert f"Your page (what you delivered, every report sent to you, your templates): {urls['riga']}" in report


def test_without_the_pages_messages_name_the_folder_only(settings) -> None:
    project = Workspace(settings).project
    riga = project.participant("riga")
    reminder = body(
        compose_reminder_email(
            project,
            project.milestone("WP4-M3"),
            riga,
            key="k",
            step="T-14",
            missing=["seed_funding"],
            as_of=date(2006, 6, 16),
        )
    )
    assert "Put the file in your folder inbox/riga/WP4-M3/ on the project's shared drive." in reminder
    assert "/p/" not in reminder and "Your page" not in reminder
