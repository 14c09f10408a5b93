"""The demo's e-mails read as their recipients read them, from the bytes in the outbox: one copy
per person per event, headers that identify and answer right, both parts, each reader's own
paragraph and where to deliver — in people's words, never ids, hashes or a clock's time zone."""

from __future__ import annotations

import re
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from schemas.project import Project
from tests.conftest import parse_eml
from tests.kinds import KINDS

LEAD = "baltmet-inno@helsinki.example.org"


@pytest.fixture(scope="module")
def mails(demo_outputs: tuple[Path, Any]) -> list[EmailMessage]:
    outputs, _ = demo_outputs
    return [parse_eml(p) for p in sorted((outputs / "outbox" / "baltmet-inno").glob("*.eml"))]


def readers(msg: EmailMessage) -> list[str]:
    return [a.addr_spec for h in ("To", "Cc") if msg[h] for a in msg[h].addresses]


def text(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def event(msg: EmailMessage) -> str:
    """What a message is about: one report version, one notice, one receipt — its subject says
    so, the same for every reader of the event."""
    subject = str(msg["Subject"])
    if " receipt — " in subject:
        return "receipt"
    if "no inputs by the due date" in subject:
        return "notice"
    return "report version"


def test_each_person_gets_one_copy_per_event(mails: list[EmailMessage]) -> None:
    copies = Counter((str(m["Subject"]), reader) for m in mails for reader in readers(m))
    assert max(copies.values()) == 1, [k for k, n in copies.items() if n > 1][:5]
    assert all(m["Cc"] is None for m in mails)  # nobody reads someone else's copy

    # the lead: at most one message per event, and every report version and notice once
    lead = Counter(event(m) for m in mails if LEAD in readers(m))
    events = Counter(event(m) for m in {str(m["Subject"]): m for m in mails if event(m) != "receipt"}.values())
    assert lead["report version"] == events["report version"]
    assert lead["notice"] == events["notice"]
    own_files = sum(1 for m in mails if event(m) == "receipt" and readers(m) == [LEAD])
    assert lead["receipt"] == own_files
    # before: 132 of 191, one Cc per partner's copy of every version
    assert sum(lead.values()) == 38 and len(mails) == 191


def test_headers_name_everyone_thread_and_identify(mails: list[EmailMessage], project: Project) -> None:
    ids = [m["Message-ID"] for m in mails]
    assert len(set(ids)) == len(ids)
    answering = {project.lead} | {wp.coordinator for wp in project.work_packages}
    answerers = {project.participant(pid).emails[0] for pid in answering}
    for msg in mails:
        for header in ("From", "To", "Reply-To"):
            if msg[header] is not None:
                assert all(a.display_name for a in msg[header].addresses), (header, str(msg[header]))
        if msg["Reply-To"] is None:  # only to whom a reply would otherwise reach itself
            assert readers(msg)[0] in answerers, msg["Subject"]
    to_malmo = next(m for m in mails if "WP4-M3 report v1" in m["Subject"] and "malmo" in readers(m)[0])
    assert [a.display_name for a in to_malmo["Reply-To"].addresses] == ["City of Stockholm, City Executive Office"]
    assert to_malmo["From"].addresses[0].display_name == "BaltMet Inno secretariat"


def test_every_kind_has_an_html_part_saying_what_the_text_says(mails: list[EmailMessage]) -> None:
    for msg in mails:
        html = msg.get_body(("html",))
        assert html is not None, msg["Subject"]
        paragraphs = text(msg).split("\n\n")
        greeting = paragraphs[1 if paragraphs[0].startswith("Rehearsal") else 0]
        assert f"<p>{escape(greeting)}</p>" in html.get_content().replace("\r\n", "\n")
        assert "<li>" in html.get_content() or "  - " not in text(msg)


def test_a_rehearsal_says_so_first(mails: list[EmailMessage]) -> None:
    """Every message of the demo — receipts too: the run that sent them rehearsed 31 January 2008."""
    for msg in mails:
        assert text(msg).startswith("Rehearsal: this message was made as the project stood on 31 January 2008"), msg[
            "Subject"
        ]


def test_each_reader_gets_its_own_paragraph(mails: list[EmailMessage]) -> None:
    wp4m3 = {readers(m)[0]: text(m) for m in mails if "WP4-M3 report v1" in m["Subject"]}
    spb = wp4m3["baltmet-inno@spb.example.org"]
    assert "Your input (Public seed-funding schemes) is missing. Please send it by 7 February 2008." in spb
    assert "Put the file in your folder inbox/st-petersburg/WP4-M3/ on the project's shared drive." in spb
    assert "Your input is in (Public seed-funding schemes)" in wp4m3["baltmet-inno@malmo.example.org"]
    coordinator = wp4m3["baltmet-inno@stockholm.example.org"]
    assert "As WP4 co-ordinator: 7 of 8 required inputs are in" in coordinator
    assert "To forward:\n  - To City of St. Petersburg" in coordinator
    lead = wp4m3[LEAD]
    assert "As lead partner: WP4" in lead and "This version also went to" in lead
    assert "City of Malmö, Business Development" in lead


def test_a_refused_file_says_where_to_resend_and_by_when(mails: list[EmailMessage]) -> None:
    riga = next(m for m in mails if "seed_funding_riga_v1.csv: 2 problems" in m["Subject"])
    body = text(riga)
    assert "Please send the corrected file by 30 June 2006." in body
    assert "in your folder inbox/riga/WP4-M3/" in body
    assert "workbook" not in body.replace("(as an Excel workbook)", "")  # a CSV is a file


def test_bodies_are_in_peoples_words(mails: list[EmailMessage], project: Project) -> None:
    ids = "|".join(re.escape(p.id) for p in project.participants)
    kinds = "|".join(KINDS)
    machine = {
        "a hash": re.compile(r"\b[0-9a-f]{12,}\b"),
        "a time zone": re.compile(r"\bUTC\b"),
        "a participant id": re.compile(rf"\((?:{ids})\)"),
        "an input kind's id": re.compile(rf"(?<![\w/.-])(?:{kinds})(?![\w.])"),
        "a date as digits": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
        "a byte count": re.compile(r"\d bytes\b"),
        "an organisation with its city in brackets": re.compile(r"Dear colleagues at [^\n]*\)"),
    }
    for msg in mails:
        for part in (text(msg), msg.get_body(("html",)).get_content()):
            for what, pattern in machine.items():
                found = pattern.search(part)
                assert found is None, f"{what} in {msg['Subject']}: {found and found.group()!r}"
