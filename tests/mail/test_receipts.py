"""Receipts and reminders as e-mails, and the keys that make each one once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from schemas.project import Project
from schemas.records import ValidationResult
from tests.mail.messages import (
    invalid_result,
    make_project,
    submission,
)
from wpflow.mail.compose import (
    compose_reminder_email,
)
from wpflow.mail.idempotency import ladder_key, receipt_key, report_key
from wpflow.mail.receipts import compose_receipt_email


@pytest.fixture
def project() -> Project:  # the small project of tests/mail/messages.py, not the bundled one
    return make_project()


# -- receipts and reminders ---------------------------------------------------------------
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
    assert (
        "It is accepted: it passed all checks. It will be in the updated WP3-M2 report, v2."
        in msg.get_body(("plain",)).get_content()
    )
    assert list(msg.iter_attachments()) == []


@pytest.mark.parametrize(
    "as_of, phrase",
    [
        (date(2006, 6, 1), "are due in 14 days, on 15 June 2006"),
        (date(2006, 6, 14), "are due in 1 day, on 15 June 2006"),
        (date(2006, 6, 15), "are due today, 15 June 2006"),
        (date(2006, 6, 16), "were due on 15 June 2006, 1 day ago"),
    ],
)
def test_reminder_says_when_and_what(project: Project, as_of: date, phrase: str) -> None:
    msg = compose_reminder_email(
        project,
        project.milestone("WP3-M2"),
        project.participant("malmo"),
        key=ladder_key("BaltMet Inno", "WP3-M2", "info@malmo.example", "reminder", "T-14"),
        step="T-14",
        missing=["pre_phase_clusters"],
        as_of=as_of,
    )

    body = msg.get_body(("plain",)).get_content()
    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 reminder — inputs due 15 June 2006"
    assert phrase in body
    assert "  - Pre-phase clusters\n" in body  # the input's title, never its id
    assert "in your folder inbox/malmo/WP3-M2/ on the project's shared drive" in body


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
        missing=["Malmö (malmo): pre_phase_clusters", "Rīga (riga): seed_funding (invalid)"],
        as_of=as_of,
        kind=kind,
    )

    body = msg.get_body(("plain",)).get_content()
    assert msg["Subject"] == "[BaltMet Inno] WP3-M2 overdue inputs — 2 outstanding"
    assert days in body and closing in body
    assert (
        "  - Malmö stad: Pre-phase clusters\n  - Rīgas dome: Public seed-funding schemes (sent, but not usable" in body
    )


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
