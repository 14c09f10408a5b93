"""People's words for e-mails: how to deliver as the project configures it, by when, whom a
reply reaches, a rehearsal said first, and a Message-ID per send that a retry keeps."""

from __future__ import annotations

from datetime import date

from schemas.policies import Delivery
from schemas.project import Project
from tests.mail.messages import make_project
from wpflow.mail.compose import compose_reminder_email, message_id_for
from wpflow.mail.words import how_to_deliver, rehearsal_note, reply_person, send_by, who


def with_delivery(**kw) -> Project:
    return make_project().model_copy(update={"delivery": Delivery(**kw)})


def test_delivery_names_the_partners_own_folder_by_default() -> None:
    project = make_project()
    malmo = project.participant("malmo")

    assert how_to_deliver(project, malmo, "WP3-M2") == (
        "Put the file in your folder inbox/malmo/WP3-M2/ on the project's shared drive."
    )


def test_delivery_gives_every_configured_way() -> None:
    project = with_delivery(
        upload_link="https://baltmet.example/upload/{partner}/{milestone}", intake_email="files@baltmet.example"
    )

    sentence = how_to_deliver(project, project.participant("riga"), "WP3-M2")

    assert sentence.startswith("Put the file in your folder inbox/riga/WP3-M2/")
    assert ", upload it at https://baltmet.example/upload/riga/WP3-M2, or e-mail it as an attachment to " in sentence
    assert sentence.endswith("files@baltmet.example with WP3-M2 in the subject.")


def test_send_by_is_the_due_date_then_the_last_rung_then_a_week_on() -> None:
    project = make_project()
    milestone = project.milestone("WP3-M2")  # due 15 June 2006; the ladder's last rung is T+7

    assert send_by(project, milestone, date(2006, 6, 1)) == date(2006, 6, 15)
    assert send_by(project, milestone, date(2006, 6, 16)) == date(2006, 6, 22)
    assert send_by(project, milestone, date(2006, 7, 1)) == date(2006, 7, 8)


def test_replies_reach_whom_the_project_says() -> None:
    assert reply_person(make_project(), "WP3").id == "riga"  # the WP co-ordinator
    assert reply_person(make_project(), None).id == "oslo"  # no WP: the lead
    assert reply_person(with_delivery(reply_to="lead"), "WP3").id == "oslo"
    assert reply_person(with_delivery(reply_to="secretariat"), "WP3") is None

    project = with_delivery(reply_to="secretariat")
    msg = compose_reminder_email(
        project,
        project.milestone("WP3-M2"),
        project.participant("malmo"),
        key="k",
        step="T-3",
        missing=["pre_phase_clusters"],
        as_of=date(2006, 6, 12),
    )
    assert msg["Reply-To"] is None


def test_a_rehearsal_is_said_only_for_a_day_before_the_machines() -> None:
    today = date(2026, 12, 7)
    assert rehearsal_note(date(2006, 6, 30), today) == (
        "Rehearsal: this message was made as the project stood on 30 June 2006, not today."
    )
    assert rehearsal_note(today, today) is None and rehearsal_note(None, today) is None


def test_organisations_are_not_followed_by_a_city_they_name() -> None:
    project = make_project(riga_org="City Development Department")
    assert who(project.participant("malmo")) == "Malmö stad"
    assert who(project.participant("riga")) == "City Development Department, Rīga"


def test_a_message_id_is_per_key_and_version_and_stable_across_retries() -> None:
    first = message_id_for("k" * 64, "secretariat@baltmet.example", 1)

    assert first == message_id_for("k" * 64, "secretariat@baltmet.example", 1)  # a retry
    assert first != message_id_for("k" * 64, "secretariat@baltmet.example", 2)  # same content, v2 elsewhere
    assert first == f"<{'k' * 64}.v1@baltmet.example>"
