"""The intake against a real Dovecot: a partner's reply lands in its watched folder and the
message in the processed folder; what cannot be taken in is answered once (real SMTP sink) and
held; a Message-ID is taken in once; the rate and size limits; the poller's thread stops."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from tests.intake.mails import MALMO, REMINDER_REPLY, partner_mail, sample
from tests.waiting import wait_for
from wpflow.intake.matching import open_milestones
from wpflow.intake.poller import IntakePoller, start_intake_thread
from wpflow.store.intake_log import message_key
from wpflow.workspace import Workspace, workspace

MALMO_FILE = sample("malmo", "seed_funding_malmo.csv")


def folder_files(settings, partner="malmo", milestone="WP4-M3"):
    folder = settings.inbox_root / partner / milestone
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_reply_with_an_attachment_lands_in_the_partners_folder_and_moves_to_processed(intake_settings, dovecot):
    settings = intake_settings()
    dovecot.append(partner_mail(files=[MALMO_FILE], message_id="<reply-1@malmo.example.org>"))

    [outcome] = IntakePoller([workspace()]).poll_once()

    assert (outcome.outcome, outcome.reason) == ("processed", "by subject")
    delivered = settings.inbox_root / "malmo" / "WP4-M3" / "seed_funding_malmo.csv"
    assert delivered.read_bytes() == MALMO_FILE[1]
    assert folder_files(settings) == ["seed_funding_malmo.csv"], "no temporary file left beside it"
    assert dovecot.messages("INBOX") == []
    [moved] = dovecot.messages(settings.imap_processed_folder)
    assert b"<reply-1@malmo.example.org>" in moved
    store = workspace().store
    record = store.intake_message(message_key("<reply-1@malmo.example.org>"))
    assert (record.outcome, record.partner, record.milestone) == ("processed", "malmo", "WP4-M3")
    [file] = store.intake_files(record.message_key)
    assert (file.path, file.delivered_at is not None) == ("malmo/WP4-M3/seed_funding_malmo.csv", True)


@pytest.mark.parametrize(
    ("sender", "subject", "files", "says"),
    [
        ("Someone <someone@elsewhere.example.com>", REMINDER_REPLY, [MALMO_FILE], "not a contact address"),
        (MALMO, REMINDER_REPLY, [], "it has no file attached"),
        (MALMO, "Our figures", [MALMO_FILE], 'put the milestone\'s id in the subject (for example "WP1-M1")'),
        (MALMO, "WP4-M1 and WP4-M3 files", [MALMO_FILE], "it names more than one milestone (WP4-M1, WP4-M3)"),
    ],
    ids=["unknown sender", "no attachment", "no milestone", "two milestones"],
)
def test_what_cannot_be_taken_in_is_answered_once_and_held(
    intake_settings, dovecot, smtp_server, sender, subject, files, says
):
    settings = intake_settings()
    raw = partner_mail(sender, subject, files=files, message_id="<held-1@example.com>")
    dovecot.append(raw)

    [outcome] = IntakePoller([workspace()]).poll_once()
    dovecot.append(raw)  # the same message again (a second copy, a client sending twice)
    [again] = IntakePoller([workspace()]).poll_once()

    assert outcome.outcome == "held" and outcome.reason.endswith("answered")
    assert again.outcome == "duplicate"
    [reply] = smtp_server.messages
    assert reply["To"].addresses[0].addr_spec == sender.split("<")[1].rstrip(">").lower()
    assert reply["In-Reply-To"] == "<held-1@example.com>"
    assert reply["Subject"] == f"[BaltMet Inno] Your e-mail was not taken in: {subject}"
    body = " ".join(reply.get_body(("plain",)).get_content().split())
    assert says in body
    assert "The address for files is intake@baltmet-inno.example.org." in body
    assert len(dovecot.messages(settings.imap_held_folder)) == 2 and dovecot.messages("INBOX") == []
    assert folder_files(settings) == []


def test_a_plus_address_or_the_only_open_milestone_names_the_milestone(intake_settings, dovecot, project):
    """BaltMet Inno's work packages run side by side (a partner always owes several milestones):
    a project of WP4 alone has days with one milestone open."""
    settings = intake_settings()
    ws = Workspace(settings)
    ws.project = project.model_copy(update={"work_packages": [project.work_package("WP4")]})  # type: ignore[misc]
    malmo = project.participant("malmo")
    days = (date(2005, 1, 2) + timedelta(days=n) for n in range(1100))
    day = next(d for d in days if len(open_milestones(ws.project, malmo, d)) == 1)
    [only] = open_milestones(ws.project, malmo, day)
    other = next(m.id for m in ws.project.milestones() if m.id != only.id)
    to = f"intake+{other.lower()}@baltmet-inno.example.org"  # any case, as a person types it
    dovecot.append(partner_mail(subject="Figures", to=to, files=[MALMO_FILE]))
    dovecot.append(partner_mail(subject="Figures", files=[("only.csv", b"a;b\n1;2\n")]))

    first, second = IntakePoller([ws], today=lambda: day).poll_once()

    assert (first.reason, folder_files(settings, milestone=other)) == ("by sub-address", ["seed_funding_malmo.csv"])
    assert (second.reason, folder_files(settings, milestone=only.id)) == ("by only open milestone", ["only.csv"])


def test_the_same_message_id_twice_gives_one_file(intake_settings, dovecot):
    settings = intake_settings()
    raw = partner_mail(files=[MALMO_FILE], message_id="<twice@malmo.example.org>")
    dovecot.append(raw)
    dovecot.append(raw)

    outcomes = IntakePoller([workspace()]).poll_once()

    assert [o.outcome for o in outcomes] == ["processed", "duplicate"]
    assert folder_files(settings) == ["seed_funding_malmo.csv"]
    assert len(dovecot.messages(settings.imap_processed_folder)) == 2


def test_a_sender_past_the_rate_limit_is_held_unanswered_and_a_large_message_unread(
    intake_settings, dovecot, smtp_server
):
    settings = intake_settings(imap_sender_limit_per_hour=1, imap_max_message_mb=0.01)
    dovecot.append(partner_mail(files=[MALMO_FILE]))
    dovecot.append(partner_mail(files=[MALMO_FILE]))
    dovecot.append(partner_mail("Riga <baltmet-inno@riga.example.org>", files=[("big.csv", b"x" * 20_000)]))

    outcomes = IntakePoller([workspace()]).poll_once()

    assert [(o.outcome, o.reason) for o in outcomes] == [
        ("processed", "by subject"),
        ("held", "rate-limited, not answered"),
        ("held", "too-large, answered"),
    ]
    [reply] = smtp_server.messages
    assert reply["To"].addresses[0].addr_spec == "baltmet-inno@riga.example.org"
    assert "it is larger than 0.01 MB" in " ".join(reply.get_body(("plain",)).get_content().split())
    assert folder_files(settings, "riga") == []


def test_the_poller_thread_takes_messages_in_as_they_come_and_stops_when_told(intake_settings, dovecot):
    settings = intake_settings()
    stop = threading.Event()
    thread = start_intake_thread([str(settings.project)], stop)
    try:
        dovecot.append(partner_mail(files=[MALMO_FILE]))
        wait_for(lambda: folder_files(settings), what="the attachment in malmo/WP4-M3", details=dovecot.log)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
