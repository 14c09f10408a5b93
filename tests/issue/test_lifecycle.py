"""The one lifecycle of an issued document, for each kind: a milestone report, a WP report and
the joint final report. Content, not the day, is a version; each version goes to each of its
recipients once, through a real SMTP server, with the store on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date

import pytest

from tests.conftest import SmtpSink
from wpflow.issue import lifecycle
from wpflow.issue.lifecycle import Document
from wpflow.workspace import Workspace

DAY = date(2008, 1, 31)  # every milestone and WP past its end


@pytest.fixture
def ws(settings, db_url, smtp_server: SmtpSink) -> Workspace:
    """The bundled project with its store at `db_url`, sending to the SMTP sink, no PDFs."""
    return Workspace(
        settings.model_copy(
            update={
                "database_url": db_url,
                "mail_transport": "smtp",
                "smtp_port": smtp_server.port,
                "report_pdf": False,
            }
        )
    )


def milestone_report(ws: Workspace, variant: str) -> Document:
    """WP4-M3's report with nothing delivered ("A"), or with Riga's file delivered invalid ("B")."""
    from schemas.records import PartnerStatus
    from wpflow.milestone.merge import merge_summary
    from wpflow.milestone.report_stage import MilestoneReport

    milestone = ws.milestone("WP4-M3")
    summary = merge_summary(ws.project, milestone, [], DAY)
    if variant == "B":
        partners = [
            s.model_copy(update={"status": PartnerStatus.invalid, "file_name": "seed_funding_riga.csv"})
            if s.partner == "riga"
            else s
            for s in summary.partners
        ]
        summary = summary.model_copy(update={"partners": partners})
    return MilestoneReport(ws, milestone, summary)


def wp_report(ws: Workspace, variant: str) -> Document:
    """WP4's final report as the store tells it, or with a note on its sources added ("B")."""
    from wpflow.final.issue import FinalReport
    from wpflow.final.stages import wp_story_stage

    story = wp_story_stage(ws, "WP4", DAY)
    if variant == "B":
        story = story.model_copy(update={"source_notes": [*story.source_notes, "A note only B has."]})
    return FinalReport(ws, story)


def joint_report(ws: Workspace, variant: str) -> Document:
    """The joint final report, or with a note on the consortium added ("B")."""
    from wpflow.final.issue import FinalReport
    from wpflow.final.stages import project_story_stage

    story = project_story_stage(ws, DAY)
    if variant == "B":
        story = story.model_copy(update={"consortium_notes": [*story.consortium_notes, "A note only B has."]})
    return FinalReport(ws, story)


KINDS: dict[str, Callable[[Workspace, str], Document]] = {
    "milestone report": milestone_report,
    "WP report": wp_report,
    "joint final report": joint_report,
}
SUBJECT_VERSION = re.compile(r"(?:report|Report) (v\d+)")


def issue_and_send(doc: Document) -> tuple[int, bool, int]:
    """Issue the document, send its version: (version, new, e-mails sent now)."""
    version, new = lifecycle.issue(doc)
    notices = lifecycle.send(doc, version)
    return version.version, new, sum(1 for n in notices if n.sent)


def received(sink: SmtpSink) -> dict[str, list[str]]:
    """The versions each addressee received, in order."""
    got: dict[str, list[str]] = {}
    for msg in sink.messages:
        match = SUBJECT_VERSION.search(str(msg["Subject"]))
        assert match, msg["Subject"]
        got.setdefault(msg["To"].addresses[0].addr_spec, []).append(match[1])
    return got


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_content_twice_is_one_version_sent_once(ws, smtp_server, kind):
    doc = KINDS[kind](ws, "A")
    recipients = [p.emails[0] for p in doc.recipients()]
    assert len(recipients) >= 2

    assert issue_and_send(doc) == (1, True, len(recipients))
    again = KINDS[kind](ws, "A")  # read and built again, as the next day's run does
    assert issue_and_send(again) == (1, False, 0)

    assert received(smtp_server) == {email: ["v1"] for email in recipients}
    reports = ws.settings.reports_dir
    rid = doc.report_id
    assert (reports / f"{rid}.docx").read_bytes() == (reports / "history" / f"{rid}.v1.docx").read_bytes()
    assert [v.version for v in ws.store.versions(ws.project.name, rid)] == [1]


@pytest.mark.parametrize("kind", KINDS)
def test_new_content_is_the_next_version_sent_again_and_a_to_b_to_a_is_v3(ws, smtp_server, kind):
    build = KINDS[kind]
    recipients = [p.emails[0] for p in build(ws, "A").recipients()]

    assert issue_and_send(build(ws, "A")) == (1, True, len(recipients))
    assert issue_and_send(build(ws, "B")) == (2, True, len(recipients))
    assert issue_and_send(build(ws, "A")) == (3, True, len(recipients))  # what nobody has now
    assert issue_and_send(build(ws, "A")) == (3, False, 0)

    assert received(smtp_server) == {email: ["v1", "v2", "v3"] for email in recipients}
    assert Counter(m["Message-ID"] for m in smtp_server.messages).most_common(1)[0][1] == 1
    rid = build(ws, "A").report_id
    versions = ws.store.versions(ws.project.name, rid)
    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[0].fingerprint == versions[2].fingerprint != versions[1].fingerprint
    reports = ws.settings.reports_dir
    assert (reports / f"{rid}.docx").read_bytes() == (reports / "history" / f"{rid}.v3.docx").read_bytes()
    assert sorted(p.name for p in (reports / "history").glob(f"{rid}.v*.docx")) == [
        f"{rid}.v1.docx",
        f"{rid}.v2.docx",
        f"{rid}.v3.docx",
    ]
    v2 = next(m for m in smtp_server.messages if " v2" in str(m["Subject"]))
    assert "(updated)" in str(v2["Subject"])
    assert "v1 of 31 January 2008" in v2.get_body(("plain",)).get_content()
    # v2 and v3 thread under the v1 the same person got; each message has an id of its own
    first = {m["To"].addresses[0].addr_spec: m["Message-ID"] for m in smtp_server.messages if " v1" in m["Subject"]}
    later = [m for m in smtp_server.messages if " v1" not in m["Subject"]]
    assert later and all(m["In-Reply-To"] == m["References"] == first[m["To"].addresses[0].addr_spec] for m in later)
    assert all(m["In-Reply-To"] is None for m in smtp_server.messages if " v1" in m["Subject"])


def test_a_milestone_report_says_what_changed_in_the_document_and_the_e_mail(ws, smtp_server):
    from docx import Document as Docx

    issue_and_send(milestone_report(ws, "A"))
    issue_and_send(milestone_report(ws, "B"))
    changed = "the newest file (seed_funding_riga.csv) has errors to correct."
    v2 = Docx(str(ws.settings.reports_dir / "history" / "WP4-M3.v2.docx"))
    assert any(changed in p.text for p in v2.paragraphs)
    mail = next(m for m in smtp_server.messages if " v2" in str(m["Subject"]))
    assert changed in mail.get_body(("plain",)).get_content()
