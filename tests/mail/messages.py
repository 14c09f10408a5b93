"""A small project of the mail tests' own and the messages they compose and take apart: reports,
receipts of an invalid file, their parts and headers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from schemas.project import Milestone, Participant, Programme, Project, WorkPackage
from schemas.records import Issue, ReportRef, Submission, ValidationResult
from tests.kinds import KINDS
from wpflow.mail.compose import DOCX_TYPE
from wpflow.mail.idempotency import report_key
from wpflow.mail.reports import compose_report_email

DOCX_MIME = "/".join(DOCX_TYPE)
INJECTION = "Cluster mapping\r\nBcc: evil@example.com"


# -- a small project of our own ---------------------------------------------------------
def participant(pid: str, city: str, organisation: str, *emails: str, role: str = "partner") -> Participant:
    return Participant(
        id=pid,
        city=city,
        country="—",
        organisation=organisation,
        role=role,
        local_coordinator=True,
        emails=list(emails),
    )


def make_project(*, title: str = "Cluster mapping", riga_org: str = "Rīgas dome") -> Project:
    milestone = Milestone(
        id="WP3-M2",
        title=title,
        start=date(2006, 1, 1),
        end=date(2006, 6, 30),
        due=date(2006, 6, 15),
        inputs=[{"kind": "clusters"}],
    )
    project = Project(
        name="BaltMet Inno",
        title="Baltic Metropoles innovation strategy",
        programme=Programme(name="Interreg IIIB Baltic Sea Region"),
        start=date(2005, 1, 1),
        end=date(2007, 12, 31),
        lead="oslo",
        secretariat_email="secretariat@baltmet.example",
        participants=[
            participant("oslo", "Oslo", "Oslo kommune", "lead@oslo.example", role="lead"),
            participant("riga", "Rīga", riga_org, "wp3@riga.example"),
            participant("malmo", "Malmö", "Malmö stad", "info@malmo.example", "cluster@malmo.example"),
        ],
        work_packages=[WorkPackage(id="WP3", title="Clusters", coordinator="riga", milestones=[milestone])],
    )
    project.attach_kinds(KINDS)  # what the loader does for a project read from its folder
    return project


def report_email(project: Project, report: ReportRef, recipient: str = "malmo", **kw) -> EmailMessage:
    kw.setdefault("summary_lines", ["Status: incomplete — 2 of 3 required inputs delivered and valid."])
    person = project.participant(recipient)
    kw.setdefault("key", report_key("BaltMet Inno", "WP3-M2", person.emails[0], report.sha256))
    return compose_report_email(project, project.milestone("WP3-M2"), report, person, **kw)


def parts(msg: EmailMessage) -> tuple[str, str, EmailMessage]:
    """(text body, HTML body, the single attachment)."""
    (attachment,) = list(msg.iter_attachments())
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content(), attachment


def header_names(msg: EmailMessage) -> list[str]:
    """Every header name of the message and of each MIME part, as a parser sees them on the wire."""
    wire = message_from_bytes(bytes(msg), policy=policy.default)
    return [name.lower() for part in wire.walk() for name in part]


def submission(file_name: str = "Rīga clusters.xlsx") -> Submission:
    return Submission(
        project="BaltMet Inno",
        partner="riga",
        milestone="WP3-M2",
        file_name=file_name,
        sha256="c" * 64,
        size=2048,
        received_at=datetime(2006, 6, 1, tzinfo=UTC),
        modified_at=datetime(2006, 6, 1, tzinfo=UTC),
        version=2,
        archive_path="/a/" + "c" * 64,
    )


def invalid_result(sub: Submission) -> ValidationResult:
    return ValidationResult(
        file=sub.file_name,
        kind="clusters",
        issues=[
            Issue(
                file=sub.file_name,
                sheet="Clusters",
                row=7,
                column="D",
                field="budget_eur",
                value="12,5 k",
                message="is not a number",
            ),
            Issue(
                file=sub.file_name,
                sheet="Clusters",
                row=9,
                column="B",
                field="city",
                value="Riga",
                message="did you mean Rīga?",
                severity="warning",
            ),
        ],
    )
