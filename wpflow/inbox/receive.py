"""The plain receiving path of one inbox file: archive by hash → validate → store → receipt.

`receive_file` is what the watcher does per file without Prefect (tests' bulk cases,
benchmarks); `flows.watcher` wraps the same steps as one Prefect flow run per upload. Split out
of `wpflow.inbox.watch` (which re-exports these names) to keep each module short.
"""

from __future__ import annotations

import logging
from datetime import date

from schemas.records import CheckedSubmission, Notice, Submission, SubmissionStatus
from wpflow.milestone.collect import InboxFile
from wpflow.schedule.chase import PipelineStarter
from wpflow.workspace import Workspace

log = logging.getLogger("wpflow.inbox.watch")  # one logger for everything the watcher does


def archive_upload(ws: Workspace, item: InboxFile) -> Submission:
    """Archive by hash and record; the same bytes again return the stored submission."""
    from wpflow.milestone.collect import arrival_time, load_arrivals, submission_for

    arrived = arrival_time(item, item.path.stat(), load_arrivals(ws.settings.inbox_root))
    stored, _ = ws.store.add_submission(submission_for(ws.project, item, ws.settings.archive_dir, arrived))
    return stored


def check_upload(ws: Workspace, sub: Submission) -> CheckedSubmission:
    from wpflow.milestone.stages import expected_kinds, validate_submission

    return validate_submission(ws, sub, expected_kinds(ws.project, ws.milestone(sub.milestone)))


def send_upload_receipt(ws: Workspace, checked: CheckedSubmission) -> list[Notice]:
    from wpflow.milestone.stages import send_receipts

    return send_receipts(ws, ws.milestone(checked.submission.milestone), [checked])


def trigger_if_due(ws: Workspace, milestone_id: str, start: PipelineStarter | None = None) -> str | None:
    """Start the milestone's pipeline when the release rule calls for a report today — complete
    before the due date, or anything new after it (a late or corrected file brings the next
    version) — once per distinct content of the inputs."""
    from wpflow.schedule.chase import direct_starter, due_run, run_once

    action = due_run(ws, ws.milestone(milestone_id), date.today())
    if action is None:
        return None
    starter = start or direct_starter(ws)
    started = run_once(ws, action.key, milestone_id, lambda: starter(milestone_id, None))
    if started is not None:
        log.info("%s: inputs changed (%s); pipeline started (%s)", milestone_id, action.rung, started or "in process")
    return started


def receive_file(ws: Workspace, item: InboxFile) -> CheckedSubmission:
    """Archive → validate → store → receipt, without Prefect; the validated file (its receipt is
    in the store's notifications). The pipeline is the watcher's business afterwards
    (`InboxWatcher.note_upload`): once per quiet milestone, not per file."""
    checked = check_upload(ws, archive_upload(ws, item))
    send_upload_receipt(ws, checked)
    return checked


def warm_up(ws: Workspace) -> None:
    """Open the store, load the project and compile the receipt template before the first file
    arrives: otherwise the first receipt after a start pays ~0.3 s of one-time set-up."""
    from wpflow.inputs.validate import (
        validate_file,  # noqa: F401 - imported for its side effect: loaded
    )
    from wpflow.mail.compose import EMAIL_TEMPLATES, email_environment

    ws.store, ws.project, ws.mailer  # noqa: B018 - cached properties, built here once
    email_environment(EMAIL_TEMPLATES).get_template("receipt.txt.j2")


def already_received(ws: Workspace, item: InboxFile) -> bool:
    """True when these bytes from this partner are stored, validated and their receipt went out to
    this partner — so a restart's scan does not start a receive-upload run for every file of the
    inbox again, and the same bytes from two partners get two receipts."""
    from wpflow.files import file_sha256

    sha = file_sha256(item.path)
    project = ws.project.name
    stored = [
        s for s in ws.store.submissions(project, milestone=item.milestone, partner=item.partner) if s.sha256 == sha
    ]
    if not stored or stored[0].status == SubmissionStatus.received:
        return False
    # the receipt to this partner: another partner's receipt for the same bytes is not one
    partner_email = ws.project.participant(item.partner).emails[0]
    return any(
        n.kind == "receipt" and n.submission_sha256 == sha and n.recipient == partner_email
        for n in ws.store.notifications(project, item.milestone)
    )
