"""The lifecycle every issued document shares: render → fingerprint → version → store → send
once per recipient.

A milestone report, a WP report and the joint final report differ in what they say, not in
how they are issued, so the issuing is written once here and each kind of document describes
itself as a `Document`: its content (fingerprint, what a later version is compared with), how
it renders, who receives it and how their message is composed. A document's identity is its
content: the newest version's content on another day is that version, rendered once; any
other content — an earlier one come back included — is the next version, rendered saying what
changed since the one before. Each version is written to `reports/history/<id>.vN.docx`,
copied to `reports/<id>.docx` while it is the newest, and sent to each recipient once.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

from schemas.project import Participant
from schemas.records import Notice, ReportRef, ReportStatus, ReportVersion, VersionContents
from wpflow.files import file_sha256, replacing
from wpflow.issue.content import sent_as
from wpflow.report.plain_words import long_date
from wpflow.store.claim_owner import Owner

if TYPE_CHECKING:
    from wpflow.mail.send_once import Outgoing
    from wpflow.workspace import Workspace

HISTORY = "history"
DRAFTS = "drafts"
STAGING = ".rendering"


@dataclass(frozen=True)
class Edition:
    """What a rendering says about itself: its version (None for a draft), the version it
    replaces and what changed since."""

    version: int | None = None
    before: ReportVersion | None = None
    changes: tuple[str, ...] = ()

    @property
    def changes_since(self) -> str | None:
        """'v1 of 19 June 2005', as the title page's "Changes since" names the version replaced."""
        return f"v{self.before.version} of {long_date(self.before.as_of)}" if self.before else None


class Particulars(TypedDict):
    """What one recipient's e-mail of a version says beyond the document: its once-key, the
    version it replaces and what changed, the files attached beside the DOCX, everyone the
    version goes to, its number, and the Message-ID of the first version this recipient got
    (so that v2 and v3 thread under it)."""

    key: str
    since: str | None
    changes: list[str]
    attach: list[Path]
    received: list[Participant]
    version: int
    thread: str | None


class Document(Protocol):
    """One kind of issued document, for one content: what the lifecycle needs to know of it."""

    @property
    def ws(self) -> Workspace: ...

    @property
    def report_id(self) -> str:
        """The id its versions are stored under: "WP4-M3", "WP4", "final"."""

    @property
    def mail_kind(self) -> str:
        """What the store calls its e-mails: "report", "wp-report", "final-report"."""

    @property
    def status(self) -> ReportStatus: ...

    @property
    def as_of(self) -> date: ...

    @property
    def template(self) -> Path: ...

    def fingerprint(self, template_sha256: str) -> str:
        """Its content identity: never the day it was made on."""

    def contents(self) -> VersionContents:
        """What the next version is compared with."""

    def changes(self, before: VersionContents, after: VersionContents) -> list[str]:
        """What changed from one version to the next, one sentence per line."""

    def keep(self, version: ReportVersion) -> None:
        """What the store keeps beside a version about to be rendered."""

    def render(self, edition: Edition, out: Path) -> ReportRef:
        """Write the DOCX (and a PDF beside it, as the settings say) as `out`, or beside it
        under a name of the renderer's own."""

    def recipients(self) -> list[Participant]: ...

    def key(self, email: str, content: str) -> str:
        """The idempotency key of its e-mail to `email` carrying `content` (see `sent_as`)."""

    def compose(self, person: Participant, report: ReportRef, particulars: Particulars) -> EmailMessage:
        """The version's e-mail to `person`, the document `report` attached."""


# -- versions -----------------------------------------------------------------------------
class IssuedElsewhere(Exception):
    """Another run, alive, holds the claim on rendering this version: it renders and sends it,
    and this run has nothing to do for the document (two runs of one milestone at once)."""

    def __init__(self, version: ReportVersion, holder: str | None) -> None:
        owner = Owner.parse(holder or "")
        by = f" (process {owner.pid} on {owner.host})" if owner is not None else ""
        super().__init__(f"v{version.version} already issued by the run that holds the claim{by}")
        self.version = version


def issue(doc: Document) -> tuple[ReportVersion, bool]:
    """The version for the document's content, and whether it is new (rendered now). A version
    whose render was interrupted is rendered again.

    The store decides the version's number; who renders it is decided by a claim on that
    version, so two runs at once (processes, workers, a person and the ladder) never both
    render and send it: the one without the claim raises `IssuedElsewhere` while the holder is
    alive (or for `store.claim_timeout` when it cannot be checked), and takes the render over
    when the holder provably died."""
    ws = doc.ws
    version, new = ws.store.issue_version(
        ws.project.name,
        doc.report_id,
        fingerprint=doc.fingerprint(file_sha256(doc.template)),
        status=doc.status,
        as_of=doc.as_of,
        contents=doc.contents(),
    )
    if rendered(version):
        return version, new
    store, project = ws.store, ws.project.name
    key = render_key(project, doc.report_id, version.version)
    held = store.claim_timeout  # a holder on another machine cannot be checked: the clock decides
    if not store.claim(key, project=project, milestone=doc.report_id, purpose="render", stale_after=held):
        now = store.version(project, doc.report_id, version.version)
        if now is not None and rendered(now):  # the holder finished in between
            return now, False
        raise IssuedElsewhere(version, store.claim_holder(key))
    try:
        now = store.version(project, doc.report_id, version.version)
        if now is not None and rendered(now):  # rendered by a run that released its claim just now
            return now, False
        return render_version(doc, version), True
    finally:
        store.release_claim(key)  # a later run renders again only if the file went missing


def rendered(version: ReportVersion) -> bool:
    """True when the version's DOCX was written and is still there."""
    return version.report is not None and Path(version.report.path).is_file()


def render_key(project: str, report_id: str, version: int) -> str:
    """The claim on rendering one version (hashed: a project's name has no length limit)."""
    return "render:" + hashlib.sha256(f"{project}\n{report_id}\n{version}".encode()).hexdigest()[:40]


def earlier_versions(ws: Workspace, version: ReportVersion) -> list[ReportVersion]:
    """The versions of the same document issued before this one, oldest first."""
    return [v for v in ws.store.versions(ws.project.name, version.milestone_id) if v.version < version.version]


def what_changed(doc: Document, version: ReportVersion) -> Edition:
    """The version before this one and what changed since (none for v1): what the document
    and its e-mail both say."""
    earlier = earlier_versions(doc.ws, version) if version.version > 1 else []
    if not earlier:
        return Edition(version.version)
    before = earlier[-1]
    return Edition(version.version, before, tuple(doc.changes(before.contents, version.contents)))


def render_version(doc: Document, version: ReportVersion) -> ReportVersion:
    """Version N into `history/<id>.vN.docx`, saying what changed since N-1; stored with the
    version, and copied to `<id>.docx` (with its PDF) while it is the newest."""
    ws, rid = doc.ws, doc.report_id
    doc.keep(version)
    reports = ws.settings.reports_dir
    target = version_file(reports, rid, version.version)
    ref = write(doc, what_changed(doc, version), target.parent, target.name)
    ref = ref.model_copy(update={"version": version.version, "fingerprint": version.fingerprint})
    latest = ws.store.latest_version(ws.project.name, rid)
    if latest is not None and latest.version == version.version:
        for made in Path(ref.path).parent.glob(f"{rid}.v{version.version}.*"):
            with replacing(reports / f"{rid}{made.suffix}") as tmp:  # a reader never sees half a copy
                shutil.copyfile(made, tmp)
    # stored once the newest copies are written: a copy the disk could not take is made by the
    # next run, which renders a version without a stored report again
    return ws.store.set_version_report(ws.project.name, rid, version.version, ref)


def version_file(reports: Path, report_id: str, version: int) -> Path:
    """Where version N of a document is kept: `reports/history/<id>.vN.docx`."""
    return reports / HISTORY / f"{report_id}.v{version}.docx"


def draft(doc: Document) -> ReportRef:
    """A draft in `reports/drafts/<id>.docx`: no version, sent to nobody."""
    return write(doc, Edition(), doc.ws.settings.reports_dir / DRAFTS, f"{doc.report_id}.docx")


STALE_STAGING_SECONDS = 3600.0  # a render takes seconds; a folder this old was left by a killed run


def sweep_stale_staging(staging_root: Path, older_than: float = STALE_STAGING_SECONDS) -> None:
    """Remove staging folders a killed run left behind (kill -9 mid-render skips its cleanup):
    those untouched for `older_than` seconds, never a render in progress."""
    cutoff = time.time() - older_than
    for folder in staging_root.iterdir():
        with contextlib.suppress(OSError):  # gone meanwhile, or another run sweeping too
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)


def write(doc: Document, edition: Edition, folder: Path, name: str) -> ReportRef:
    """Render in a staging folder of its own, then move the DOCX (and whatever was made beside
    it, e.g. a PDF) to `folder/name`: a half-written file never has the final name."""
    # a folder per writer: two runs of one milestone at once (two workers, a person and the
    # ladder) render the same name, and the first to finish would delete the other's staging
    staging_root = doc.ws.settings.reports_dir / STAGING
    staging_root.mkdir(parents=True, exist_ok=True)
    sweep_stale_staging(staging_root)
    staging = Path(tempfile.mkdtemp(dir=staging_root, prefix=f"{doc.report_id}.{name}."))
    try:
        ref = doc.render(edition, staging / name)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        for made in staging.glob(f"{Path(ref.path).stem}.*"):
            made.replace(target.with_suffix(made.suffix))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    pdf = target.with_suffix(".pdf")
    return ref.model_copy(
        update={"path": str(target), "pdf_path": str(pdf) if ref.pdf_path and pdf.is_file() else None}
    )


# -- sending ------------------------------------------------------------------------------
def recipients(doc: Document) -> list[Participant]:
    """Whom a version goes to: the document's recipients, and the lead partner with a message
    of its own when the project says so (`reports.lead_in_copy`) — one per version, never a Cc
    on each partner's copy, which had the lead read the same version once per partner."""
    project = doc.ws.project
    people = doc.recipients()
    if project.reports.lead_in_copy and all(p.id != project.lead for p in people):
        people.append(project.participant(project.lead))
    return people


def first_message_ids(doc: Document) -> dict[str, str]:
    """The Message-ID of the first version each address was sent, as the store recorded it."""
    ws = doc.ws
    first: dict[str, str] = {}
    for sent in ws.store.notifications(ws.project.name, doc.report_id):
        if sent.kind == doc.mail_kind and sent.message_id and sent.recipient not in first:
            first[sent.recipient] = sent.message_id
    return first


def send(doc: Document, version: ReportVersion) -> list[Notice]:
    """The version to each recipient once per content; one notice per recipient (sent now, or
    before)."""
    from wpflow.mail.send_once import send_once

    ws = doc.ws
    edition = what_changed(doc, version)
    content = sent_as(version, earlier_versions(ws, version))
    people = recipients(doc)
    threads = first_message_ids(doc) if version.version > 1 else {}
    outgoing = [message(doc, version, edition, content, person, people, threads) for person in people]
    return send_once(ws.store, ws.mailer, ws.project.name, outgoing)


def message(
    doc: Document,
    version: ReportVersion,
    edition: Edition,
    content: str,
    person: Participant,
    people: list[Participant],
    threads: dict[str, str],
) -> Outgoing:
    """The version's e-mail to one recipient; `content`: what its key says it carries."""
    from wpflow.mail.send_once import Outgoing
    from wpflow.store.issued import About

    report = version.report
    assert report is not None, "a version is rendered before it is sent"
    project = doc.ws.project
    email = person.emails[0]
    key = doc.key(email, content)
    return Outgoing(
        key=key,
        recipient=email,
        kind=doc.mail_kind,
        milestone=doc.report_id,
        about=About(report_version=version.version, fingerprint=version.fingerprint),
        compose=lambda: doc.compose(
            person,
            report,
            Particulars(
                key=key,
                since=edition.changes_since,
                changes=list(edition.changes),
                attach=[Path(report.pdf_path)] if project.reports.attach_pdf and report.pdf_path else [],
                received=people,
                version=version.version,
                thread=threads.get(email),
            ),
        ),
    )


def sent_line(message: str, notices: list[Notice]) -> str:
    """What issuing did, in one line: `message`, then how many e-mails went and how many had
    gone before."""
    sent = sum(1 for n in notices if n.sent)
    if sent:
        skipped = len(notices) - sent
        return f"{message}; {sent} e-mail(s) sent" + (f", {skipped} already sent" if skipped else "")
    return f"{message}, nothing sent" if notices else message
