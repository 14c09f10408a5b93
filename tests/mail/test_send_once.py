"""The one send-once loop (`wpflow.mail.send_once`), as each kind of e-mail uses it: receipts,
ladder reminders, milestone reports and the "nothing arrived" notice. A second call sends
nothing; a server failing midway leaves the rest to the retry, which sends only those — each
recipient exactly once. A real SMTP server on loopback; the store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import SmtpSink, running_smtp
from wpflow.mail.transports import TransientMailError
from wpflow.workspace import Workspace

MILESTONE = "WP4-M3"  # due 2006-06-30; seed funding from every partner city; WP4 led by Stockholm
RECEIPT_PARTNERS = ["helsinki", "malmo", "riga"]

# What one call of a sender did: e-mails sent now, e-mails not sent (sent before)
Sent = tuple[int, int]


@dataclass
class FlakySink(SmtpSink):
    """An SMTP sink that answers one message (the `fail_at`-th it is handed) "451 try later"."""

    fail_at: int | None = None
    handed: int = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.handed += 1
        if self.handed == self.fail_at:
            return "451 Requested action aborted: try again later"
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[FlakySink]:
    flaky = FlakySink(host="127.0.0.1", port=0)
    with running_smtp(flaky) as flaky.port:
        yield flaky


@pytest.fixture
def ws(settings, db_url, sink: FlakySink, tmp_path: Path) -> Workspace:
    inbox = tmp_path / "inbox"
    for partner in RECEIPT_PARTNERS:
        folder = inbox / partner / MILESTONE
        folder.mkdir(parents=True)
        (folder / f"seed_funding_{partner}.csv").write_bytes(
            (
                "name;provider;level;instrument;budget_eur;ticket_min_eur;ticket_max_eur;since\n"
                f"{partner.title()} Seed;City;municipal;grant;2 000 000,00;;;\n"
            ).encode("cp1252")
        )
    update = {
        "database_url": db_url,
        "mail_transport": "smtp",
        "smtp_port": sink.port,
        "report_pdf": False,
        "inbox": inbox,
        "stable_seconds": 0,
    }
    return Workspace(settings.model_copy(update=update))


# -- each kind of e-mail, through the sender the pipeline uses ---------------------------------
def receipts(ws: Workspace) -> tuple[Callable[[], Sent], list[str]]:
    from wpflow.milestone.stages import collect_stage, send_receipts, validate_stage

    milestone = ws.milestone(MILESTONE)
    checked = validate_stage(ws, milestone, collect_stage(ws, milestone, None))
    assert sorted(c.submission.partner for c in checked) == RECEIPT_PARTNERS and all(c.result.valid for c in checked)

    def send() -> Sent:
        notices = send_receipts(ws, milestone, checked)
        return sum(n.sent for n in notices), sum(not n.sent for n in notices)

    return send, [ws.project.participant(p).emails[0] for p in RECEIPT_PARTNERS]


def reminders(ws: Workspace) -> tuple[Callable[[], Sent], list[str]]:
    from wpflow.schedule.chase import send_ladder_notices
    from wpflow.schedule.ladder import actions_on

    milestone = ws.milestone(MILESTONE)
    day = milestone.due - timedelta(days=14)
    (action,) = [a for a in actions_on(ws.project, milestone, [], day) if a.action == "reminder"]

    def send() -> Sent:
        result = send_ladder_notices(ws, milestone, action)
        return len(result.sent), len(result.skipped)

    return send, [ws.project.participant(p).emails[0] for p in action.recipients]


def reports(ws: Workspace) -> tuple[Callable[[], Sent], list[str]]:
    from schemas.records import ReportOutcome
    from wpflow.issue import lifecycle
    from wpflow.milestone.merge import merge_summary
    from wpflow.milestone.report_stage import MilestoneReport, notify_stage

    milestone = ws.milestone(MILESTONE)
    summary = merge_summary(ws.project, milestone, [], date(2008, 1, 31))
    version, _ = lifecycle.issue(MilestoneReport(ws, milestone, summary))
    outcome = ReportOutcome(milestone_id=MILESTONE, release="report", version=version, message="")

    def send() -> Sent:
        notices = notify_stage(ws, milestone, summary, outcome)
        return sum(n.sent for n in notices), sum(not n.sent for n in notices)

    return send, [p.emails[0] for p in ws.project.recipients(milestone)]


def notices(ws: Workspace) -> tuple[Callable[[], Sent], list[str]]:
    from wpflow.milestone.merge import merge_summary
    from wpflow.milestone.report_stage import send_empty_notice

    milestone = ws.milestone(MILESTONE)
    summary = merge_summary(ws.project, milestone, [], date(2008, 1, 31))

    def send() -> Sent:
        sent = send_empty_notice(ws, milestone, summary)
        return sum(n.sent for n in sent), sum(not n.sent for n in sent)

    wp = ws.project.work_package(milestone.wp_id)
    return send, [ws.project.participant(p).emails[0] for p in (wp.coordinator, ws.project.lead)]


SENDERS = {"receipt": receipts, "reminder": reminders, "report": reports, "notice": notices}


def addressees(sink: SmtpSink) -> Counter[str]:
    return Counter(m["To"].addresses[0].addr_spec for m in sink.messages)


@pytest.mark.parametrize("kind", SENDERS)
def test_a_second_call_sends_nothing(ws, sink, kind):
    send, recipients = SENDERS[kind](ws)
    assert len(set(recipients)) == len(recipients) >= 2

    assert send() == (len(recipients), 0)
    assert addressees(sink) == Counter(recipients)

    sent_now, _ = send()
    assert sent_now == 0
    assert addressees(sink) == Counter(recipients)


@pytest.mark.parametrize("kind", SENDERS)
def test_a_failure_midway_leaves_only_the_rest_to_the_retry(ws, sink, kind):
    send, recipients = SENDERS[kind](ws)
    sink.fail_at = 2  # the first goes, the second is refused "try later"

    with pytest.raises(TransientMailError, match="451"):
        send()
    assert addressees(sink) == Counter(recipients[:1])

    assert send()[0] == len(recipients) - 1  # only what the failure left unsent
    assert addressees(sink) == Counter(recipients)  # each recipient exactly once
    assert len({m["Message-ID"] for m in sink.messages}) == len(recipients)
    assert send()[0] == 0
