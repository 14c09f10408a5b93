"""Matching a message to its partner and milestone from its headers alone, and the intake's
settings: the cases as a table, on the bundled project."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from schemas.settings import Settings
from tests.intake.mails import MALMO, REMINDER_REPLY, partner_mail
from wpflow.intake.matching import Held, Match, envelope_of, match, names_milestone
from wpflow.workspace import Workspace

TODAY = date(2026, 12, 7)  # long after the project: no milestone is open


@pytest.fixture
def ws(settings: Settings) -> Workspace:
    return Workspace(settings.model_copy(update={"intake_address": "intake@baltmet-inno.example.org"}))


def headers(raw: bytes) -> bytes:
    return raw.split(b"\n\n", 1)[0] + b"\n\n"


@pytest.mark.parametrize(
    ("sender", "subject", "to", "files", "expected"),
    [
        (MALMO, REMINDER_REPLY, "intake@baltmet-inno.example.org", 1, ("malmo", "WP4-M3", "subject")),
        ("baltmet-inno@riga.example.org", "[BaltMet Inno WP4-M3]", "x@y.org", 2, ("riga", "WP4-M3", "subject")),
        (MALMO, "Fwd: figures wp2-m1", "intake@baltmet-inno.example.org", 1, ("malmo", "WP2-M1", "subject")),
        (MALMO, "Figures", "Intake <intake+WP5-M3@baltmet-inno.example.org>", 1, ("malmo", "WP5-M3", "sub-address")),
        (MALMO, "WP4-M30 figures", "intake@baltmet-inno.example.org", 1, "no-milestone"),
        (MALMO, "Figures", "other+WP5-M3@example.org", 1, "no-milestone"),  # not the intake's sub-address
        (MALMO, "WP4-M1 or WP4-M3?", "intake@baltmet-inno.example.org", 1, "no-milestone"),
        (MALMO, REMINDER_REPLY, "intake@baltmet-inno.example.org", 0, "no-attachment"),
        ("Mallory <baltmet-inno@malmo.example.org.evil>", REMINDER_REPLY, "x@y.org", 1, "unknown-sender"),
    ],
)
def test_a_message_is_matched_by_subject_sub_address_or_held(ws, sender, subject, to, files, expected):
    envelope = envelope_of(headers(partner_mail(sender, subject, to=to)))
    found = match(envelope, files, [ws], TODAY)
    if isinstance(expected, str):
        assert isinstance(found, Held) and found.reason == expected
    else:
        assert isinstance(found, Match) and (found.partner, found.milestone, found.how) == expected


def test_the_envelope_reads_addresses_without_display_names_and_marks_robots():
    raw = partner_mail(
        MALMO,
        "=?utf-8?q?Re=3A_WP4-M3_Malm=C3=B6?=",
        message_id="<a@b>",
        headers={"Auto-Submitted": "auto-replied", "Delivered-To": "Intake+WP4-M3@BaltMet-Inno.example.org"},
    )
    envelope = envelope_of(headers(raw))
    assert envelope.sender == "baltmet-inno@malmo.example.org"
    assert envelope.subject == "Re: WP4-M3 Malmö"
    assert envelope.message_id == "<a@b>"
    assert "intake+wp4-m3@baltmet-inno.example.org" in envelope.recipients
    assert envelope.automatic
    assert not envelope_of(headers(partner_mail())).automatic


def test_a_message_without_a_message_id_gets_one_from_its_headers():
    raw = b"From: a@b.org\r\nSubject: x\r\n\r\n"
    assert envelope_of(raw).message_id == envelope_of(raw).message_id != envelope_of(raw + b"X: y\r\n").message_id
    assert envelope_of(raw).message_id.endswith("@wpflow.intake>")


@pytest.mark.parametrize(
    ("subject", "named"), [("Re: WP4-M3", True), ("wp4-m3.xlsx", True), ("WP4-M30", False), ("XWP4-M3", False)]
)
def test_a_milestone_is_named_as_a_word_of_the_subject(subject, named):
    assert names_milestone(subject, "WP4-M3") is named


def test_an_intake_mailbox_needs_its_login():
    with pytest.raises(ValidationError, match="WPFLOW_IMAP_HOST is set: set WPFLOW_IMAP_USER and WPFLOW_IMAP_PASSWORD"):
        Settings(imap_host="imap.example.org", imap_user="intake", _env_file=None)


def test_the_files_of_a_message_are_its_attachments_not_its_signatures_pictures():
    from email import message_from_bytes, policy

    from wpflow.intake.poller import attachments

    raw = partner_mail(files=[("figures.csv", b"a;b\n"), ("figures.csv", b"c;d\n"), ("../../etc/passwd", b"x")])
    msg = message_from_bytes(raw, policy=policy.default)
    msg.get_body(("plain",)).make_related()
    logo = {"cid": "<logo@m>", "filename": "image001.png", "disposition": "inline"}  # as Outlook signs
    msg.get_body(("plain",)).add_related(b"\x89PNG", maintype="image", subtype="png", **logo)
    assert attachments(msg) == [("figures.csv", b"a;b\n"), ("figures (2).csv", b"c;d\n"), ("passwd", b"x")]
