"""Polling the intake mailbox: each message taken in once, its files into the watched folders.

Per message, in this order, each step recorded in the store before the next:
1. its headers and size only (FETCH RFC822.SIZE and the header block): a Message-ID taken in
   before is moved to where it went then, nothing delivered twice; a message over
   `imap_max_message_mb`, past the sender's `imap_sender_limit_per_hour`, or from an unknown
   address is held without its body being read;
2. the message recorded (`intake_messages`) with its partner and milestone (`matching`);
3. per attachment: recorded as planned, written beside the milestone folder and renamed in
   (`wpflow.inbox.deliver.deliver_file`, exactly as a dropped file), recorded as delivered;
4. the message moved to the processed folder, then recorded as processed.

A crash anywhere leaves the message in the intake folder; the next poll finds its record and
goes on from there: an attachment recorded as delivered is not written again, one renamed in
but not yet recorded is written again with the same bytes under the same name — the watcher
sees the same bytes and the store keeps one submission per content, so nothing is lost or doubled.
A message that cannot be taken in gets its reply (`replies`, once) and goes to the held folder.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import cast

from schemas.project import Participant
from wpflow.file_names import shown_name
from wpflow.inbox.deliver import deliver_file, safe_file_name
from wpflow.intake.mailbox import IntakeMailboxError, Mailbox, Waiting, connect
from wpflow.intake.matching import (
    Envelope,
    Held,
    HeldReason,
    Match,
    answering_project,
    envelope_of,
    match,
    partners_of,
)
from wpflow.intake.replies import answer
from wpflow.store.intake_log import message_key
from wpflow.store.orm import IntakeMessage, utcnow
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(hours=1)


@dataclass
class Outcome:
    """What became of one message, for the log and the tests."""

    message_id: str
    sender: str
    outcome: str  # "processed", "held", "duplicate" or "failed"
    reason: str | None = None
    files: list[Path] = field(default_factory=list)


class IntakePoller:
    """Takes in what waits in the intake mailbox for the projects of `workspaces` (the mailbox,
    its settings and the store are the installation's: the first workspace's)."""

    def __init__(self, workspaces: list[Workspace], *, today: Callable[[], date] = date.today) -> None:
        self.workspaces = workspaces
        self.settings = workspaces[0].settings
        self.store = workspaces[0].store
        self.today = today
        # called between renaming an attachment in and recording it: a test's crash point
        self.after_rename: Callable[[str, int], None] = lambda key, position: None
        self._files: tuple[int, list[tuple[str, bytes]]] | None = None

    def run(self, stop: threading.Event) -> None:
        """Poll every `imap_poll_seconds` until `stop` is set; a poll that fails is logged and
        tried again at the next one (the messages wait in the mailbox)."""
        while not stop.is_set():
            try:
                self.poll_once(stop)
            except IntakeMailboxError as exc:
                log.warning("intake: %s; trying again in %g s", exc, self.settings.imap_poll_seconds)
            except Exception:
                log.exception("intake: the poll failed; trying again in %g s", self.settings.imap_poll_seconds)
            stop.wait(self.settings.imap_poll_seconds)
        log.info("intake poller stopped")

    def poll_once(self, stop: threading.Event | None = None) -> list[Outcome]:
        """Take in every message waiting now; one `Outcome` per message."""
        outcomes = []
        with connect(self.settings) as box:
            for item in box.waiting():
                if stop is not None and stop.is_set():
                    break
                outcomes.append(self.take_or_leave(box, item))
        return outcomes

    # one message ---------------------------------------------------------------------------
    def take_or_leave(self, box: Mailbox, item: Waiting) -> Outcome:
        envelope = envelope_of(item.headers)
        try:
            outcome = self.take(box, item, envelope)
        except IntakeMailboxError:
            raise
        except Exception as exc:  # this message waits for the next poll; the others go on
            log.exception("intake: %s from %s left for the next poll", shown_name(envelope.message_id), envelope.sender)
            outcome = Outcome(envelope.message_id, envelope.sender, "failed", f"{type(exc).__name__}: {exc}")
        log.info(
            "intake: %s from %s %r (%d bytes): %s%s%s",
            shown_name(envelope.message_id),
            shown_name(envelope.sender),
            shown_name(envelope.subject),
            item.size,
            outcome.outcome,
            f" ({outcome.reason})" if outcome.reason else "",
            f" → {', '.join(shown_name(self.relative(p)) for p in outcome.files)}" if outcome.files else "",
        )
        return outcome

    def take(self, box: Mailbox, item: Waiting, envelope: Envelope) -> Outcome:
        self._files = None
        key = message_key(envelope.message_id)
        known = self.store.intake_message(key)
        if known is not None and known.outcome in ("processed", "held"):
            box.move(item.uid, self.folder_for(known.outcome))
            return Outcome(envelope.message_id, envelope.sender, "duplicate", f"{known.outcome} before")
        resumed = self.resumed(known) if known is not None else None
        decision = resumed or self.decide(box, item, envelope, counted=known is not None)
        if isinstance(decision, Held):
            return self.hold(box, item, envelope, decision)
        return self.deliver(box, item, envelope, decision)

    def decide(self, box: Mailbox, item: Waiting, envelope: Envelope, *, counted: bool) -> Match | Held:
        """Size, rate and sender from the headers; the body is read only for a known partner."""
        known = partners_of(envelope.sender, self.workspaces)
        first = known[0] if known else None
        if item.size > self.settings.imap_max_message_mb * 1024 * 1024:
            return self.held_for("too-large", envelope, first)
        if not counted and self.store.intake_messages_since(envelope.sender, utcnow() - RATE_WINDOW) >= (
            self.settings.imap_sender_limit_per_hour
        ):
            return self.held_for("rate-limited", envelope, first)
        if not known:
            return match(envelope, 0, self.workspaces, self.today())
        files = self.files_of(box, item)
        if any(len(data) > self.settings.max_file_bytes for _, data in files):
            return self.held_for("too-large", envelope, first)
        return match(envelope, len(files), self.workspaces, self.today())

    def held_for(self, reason: HeldReason, envelope: Envelope, known: tuple[Workspace, Participant] | None) -> Held:
        if known is None:
            return Held(reason, answering_project(envelope, self.workspaces), None)
        return Held(reason, known[0], known[1].id)

    def resumed(self, known: IntakeMessage) -> Match | None:
        """The match recorded before a crash: a resumed message goes where it was going."""
        if known.project is None or known.partner is None or known.milestone is None:
            return None
        for ws in self.workspaces:
            if ws.project.name == known.project:
                return Match(ws, known.partner, known.milestone, "recorded before a restart")
        return None

    def deliver(self, box: Mailbox, item: Waiting, envelope: Envelope, found: Match) -> Outcome:
        record, _ = self.store.open_intake_message(
            envelope.message_id,
            sender=envelope.sender,
            subject=envelope.subject,
            project=found.ws.project.name,
            partner=found.partner,
            milestone=found.milestone,
        )
        key = record.message_key
        done = {f.position for f in self.store.intake_files(key) if f.delivered_at is not None}
        paths = []
        for position, (name, data) in enumerate(self.files_of(box, item)):
            if position in done:
                continue
            self.store.plan_intake_file(key, position, name, hashlib.sha256(data).hexdigest())
            path = deliver_file(found.ws.settings, found.partner, found.milestone, name, data)
            self.after_rename(key, position)
            self.store.mark_intake_file_delivered(key, position, self.relative(path, found.ws))
            paths.append(path)
        box.move(item.uid, self.settings.imap_processed_folder)
        self.store.close_intake_message(key, "processed")
        return Outcome(envelope.message_id, envelope.sender, "processed", f"by {found.how}", paths)

    def hold(self, box: Mailbox, item: Waiting, envelope: Envelope, held: Held) -> Outcome:
        record, _ = self.store.open_intake_message(
            envelope.message_id,
            sender=envelope.sender,
            subject=envelope.subject,
            project=held.ws.project.name,
            partner=held.partner,
            milestone=None,
        )
        notice = answer(envelope, held)  # a failed send raises: the message waits for the next poll
        box.move(item.uid, self.settings.imap_held_folder)
        self.store.close_intake_message(record.message_key, "held", held.reason)
        answered = "answered" if notice is not None and notice.sent else "not answered"
        return Outcome(envelope.message_id, envelope.sender, "held", f"{held.reason}, {answered}")

    def files_of(self, box: Mailbox, item: Waiting) -> list[tuple[str, bytes]]:
        """The message's attached files, read once per message (deciding and delivering share them)."""
        if self._files is None or self._files[0] != item.uid:
            self._files = (item.uid, attachments(parse(box.body(item.uid))))
        return self._files[1]

    def folder_for(self, outcome: str) -> str:
        return self.settings.imap_processed_folder if outcome == "processed" else self.settings.imap_held_folder

    def relative(self, path: Path, ws: Workspace | None = None) -> str:
        root = (ws or self.workspaces[0]).settings.inbox_root
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))


def attachments(msg: EmailMessage) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every part that carries a file name, in order; a name used twice
    in one message gets ` (2)` so neither replaces the other in the folder."""
    found: list[tuple[str, bytes]] = []
    used: set[str] = set()
    for part in walk_files(msg):
        name = safe_file_name(part.get_filename() or "attachment")
        stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
        count = 1
        while name.lower() in used:
            count += 1
            name = f"{stem} ({count}){dot}{suffix}"
        used.add(name.lower())
        payload = part.get_payload(decode=True)
        found.append((name, payload if isinstance(payload, bytes) else b""))
    return found


def walk_files(msg: EmailMessage) -> Iterator[EmailMessage]:
    """The parts that are files the partner attached: a part with a file name, but not a
    picture embedded in the text (a signature's logo: inline with a Content-ID), which would
    only come back as a refused file."""
    for part in msg.walk():
        if part.is_multipart() or not part.get_filename():
            continue
        if part.get_content_disposition() != "attachment" and "Content-ID" in part:
            continue
        yield cast(EmailMessage, part)


def start_intake_thread(projects: list[str], stop: threading.Event) -> threading.Thread:
    """The poller in a daemon thread for `projects` (project values), until `stop` is set."""
    from wpflow.workspace import workspace

    poller = IntakePoller([workspace(project) for project in projects])
    thread = threading.Thread(target=poller.run, args=(stop,), name="wpflow-intake", daemon=True)
    thread.start()
    return thread
