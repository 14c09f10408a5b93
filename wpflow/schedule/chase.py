"""Chasing deadlines: the ladder of `wpflow.schedule.ladder` applied to the store, for real or rehearsed.

`chase_day` is what the daily deadline flow does, as plain Python: per milestone, the
deliveries in the store → `actions_on` → e-mails through `send_once` and pipeline runs, each
at most once. `simulate` replays a whole timeline against an inbox in memory — no store, no
mail, no Prefect — so a secretariat can see in seconds what 2005–2007 would have looked like.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from schemas.project import Milestone, Project
from schemas.records import CheckedSubmission, Notice, Submission, SubmissionStatus, ValidationResult
from wpflow.mail.idempotency import in_project
from wpflow.schedule.ladder import Action, Delivery, actions_on, in_daily_order, run_action
from wpflow.workspace import Workspace

if TYPE_CHECKING:
    from email.message import EmailMessage

    from wpflow.inputs.safety import InputLimits
    from wpflow.mail.send_once import Outgoing

log = logging.getLogger(__name__)

# Starts a milestone pipeline for (milestone id, as of) and returns what identifies the run:
# a flow run id when a deployment was triggered, the report path when it ran in-process.
PipelineStarter = Callable[[str, date | None], str | None]


class ActionResult(BaseModel):
    """What the deadline flow did about one `Action` on one day."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(description="The project's name (the ladder may run for several)")
    action: Action = Field(description="The ladder's action")
    sent: list[Notice] = Field(default_factory=list, description="E-mails sent now")
    skipped: list[str] = Field(default_factory=list, description="Addresses already notified for this step")
    started: str | None = Field(None, description="Run started now: flow run id or report path")


class LadderFailed(Exception):
    """Some projects' ladders failed: what the others did (`results`) and why each failed
    (`errors`, by project), the first error as the cause, so a command reports it in one line."""

    def __init__(self, results: list[ActionResult], errors: dict[str, BaseException]):
        super().__init__(f"{len(errors)} project(s) failed: {', '.join(errors)}")
        self.results = results
        self.errors = errors
        self.__cause__ = next(iter(errors.values()), None)

    def __reduce__(self) -> tuple:  # kept as a run's result: rebuilt from its two parts
        return (LadderFailed, (self.results, self.errors))


# -- once-only pipeline runs -------------------------------------------------------------
def run_once(ws: Workspace, key: str, milestone_id: str, start: Callable[[], str | None]) -> str | None:
    """Call `start` unless a run for `key` was already started; return what it returned.

    The store's claims table makes this race-safe across the watcher, the daily flow and a
    second machine; a failed start releases the claim so the next attempt may try again.
    """
    store = ws.store
    key = in_project(ws.project.name, key)
    if not store.claim(key, project=ws.project.name, milestone=milestone_id, purpose="run"):
        return None
    try:
        started = start()
    except BaseException:
        store.release_claim(key)
        raise
    store.finish_claim(key, started)
    return started or ""


def direct_starter(ws: Workspace) -> PipelineStarter:
    """Run pipelines in this process without Prefect (`wpflow deadlines --direct`, tests)."""
    from wpflow.milestone.direct_run import run_direct

    def start(milestone_id: str, as_of: date | None) -> str | None:
        outcome = run_direct(ws, milestone_id, as_of)
        return outcome.report.path if outcome.report else outcome.message

    return start


def due_run(ws: Workspace, milestone: Milestone, day: date) -> Action | None:
    """The pipeline run the release rule calls for on `day`, from the store's deliveries
    (None while the milestone waits). Its key is the content of the inputs."""
    from wpflow.milestone.status import deliveries_from_store

    return run_action(ws.project, milestone, deliveries_from_store(ws.store, ws.project, milestone.id, day), day)


# -- the daily ladder --------------------------------------------------------------------
def collect_inbox(ws: Workspace, day: date | None = None) -> list[CheckedSubmission]:
    """Archive, validate and acknowledge inbox files the watcher has not seen (it was down, or
    there is none): only never-validated submissions are checked.

    A milestone is skipped when the store already holds every file its folder shows (same
    partner, name, size and arrival) and none of its submissions awaits validation. The
    decision is the store's, so it holds in every process (a deployed ladder run is a fresh one
    each day), and a daily run over an unchanged inbox reads no file's bytes: hashing every file
    of every milestone to find nothing new was the run's cost."""
    from wpflow.milestone.stages import collect_stage, send_receipts, validate_stage

    checked: list[CheckedSubmission] = []
    states = inbox_states(ws, day)
    held, waiting = recorded_files(ws)
    for milestone in ws.project.milestones():
        visible = states.get(milestone.id, frozenset())
        if visible <= held and milestone.id not in waiting:
            continue
        fresh = [s for s in collect_stage(ws, milestone, day) if s.status == SubmissionStatus.received]
        if fresh:
            done = validate_stage(ws, milestone, fresh)
            send_receipts(ws, milestone, done, as_of=day)
            checked += done
    return checked


InboxEntry = tuple[str, str, str, int, int]  # partner, milestone, file name, size, arrival (whole seconds, UTC)


def inbox_states(ws: Workspace, day: date | None) -> dict[str, frozenset[InboxEntry]]:
    """Per milestone folder: every file that has arrived by `day`, as the store records it."""
    from wpflow.milestone.collect import arrival_time, list_whole_inbox, load_arrivals

    arrivals = load_arrivals(ws.settings.inbox_root)
    partners = [p.id for p in ws.project.participants]
    states = {}
    for milestone_id, items in list_whole_inbox(ws.settings.inbox_root, partners).items():
        seen = set()
        for item in items:
            try:
                st = item.path.stat()
            except FileNotFoundError:
                continue
            arrived = arrival_time(item, st, arrivals)
            if day is None or arrived.date() <= day:
                seen.add((item.partner, item.milestone, item.path.name, st.st_size, whole_seconds(arrived)))
        states[milestone_id] = frozenset(seen)
    return states


def recorded_files(ws: Workspace) -> tuple[frozenset[InboxEntry], set[str]]:
    """Every submission the store holds for the project, as `inbox_states` sees a file, and the
    milestones with a submission not validated yet."""
    subs = ws.store.submissions(ws.project.name)
    held = frozenset((s.partner, s.milestone, s.file_name, s.size, whole_seconds(s.modified_at)) for s in subs)
    return held, {s.milestone for s in subs if s.status == SubmissionStatus.received}


def whole_seconds(moment: datetime) -> int:
    """A moment as whole seconds since the epoch (a naive one is UTC, as the store keeps it)."""
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def chase_day(ws: Workspace, day: date, *, start_pipeline: PipelineStarter | None = None) -> list[ActionResult]:
    """Carry out every ladder action of `day` for every milestone, each e-mail and run once.

    Deliveries come from the store (run `collect_inbox` first to include the inbox), read once
    for all milestones, as are the runs already done (every day after its due date a milestone
    asks for the run of its inputs' content again). Pipelines run in-process without Prefect
    unless a starter is given (the deadline flow passes one).
    """
    from wpflow.milestone.status import deliveries_by_milestone

    start = start_pipeline or direct_starter(ws)
    results = []
    delivered = deliveries_by_milestone(ws.store, ws.project, day)
    done = ws.store.finished_claims(ws.project.name)
    for milestone in ws.project.milestones():
        failed: Exception | None = None
        for action in in_daily_order(actions_on(ws.project, milestone, delivered.get(milestone.id, []), day)):
            if action.action == "run":
                run = partial(start, milestone.id, day)
                scoped = in_project(ws.project.name, action.key)  # as run_once keys its claim
                try:
                    started = None if scoped in done else run_once(ws, action.key, milestone.id, run)
                except Exception as exc:
                    # the run goes first so the day's letters can tell of its report; a failed
                    # one must not keep the late partners from being told (its claim is released,
                    # the next run retries), so the error is raised after the letters
                    failed = exc
                    continue
                results.append(ActionResult(project=ws.project.name, action=action, started=started))
            else:
                results.append(send_ladder_notices(ws, milestone, action))
        if failed is not None:
            raise failed
    return results


def send_ladder_notices(ws: Workspace, milestone: Milestone, action: Action) -> ActionResult:
    """One e-mail per recipient of a reminder, notice or escalation; a step already sent to
    someone (an earlier day of the same rung, a re-run) is skipped."""
    from wpflow.mail.send_once import send_once

    outgoing = [ladder_message(ws, milestone, action, pid) for pid in action.recipients]
    result = ActionResult(project=ws.project.name, action=action)
    for out, notice in zip(outgoing, send_once(ws.store, ws.mailer, ws.project.name, outgoing), strict=True):
        (result.sent.append(notice) if notice.sent else result.skipped.append(out.recipient))
    return result


def ladder_message(ws: Workspace, milestone: Milestone, action: Action, pid: str) -> Outgoing:
    """The ladder step's e-mail to one participant: a partner's reminder, overdue notice or last
    call lists what it owes; the coordinator's notice and the lead's escalation who owes what.
    Letters after the due date say what happened to the report so far (the store's versions)."""
    from wpflow.mail.compose import compose_reminder_email
    from wpflow.mail.idempotency import ladder_key
    from wpflow.mail.send_once import Outgoing
    from wpflow.schedule.messages import compose_ladder_letter, owed_templates
    from wpflow.store.issued import About

    assert action.action != "run", "runs are started, not mailed"
    kind = action.action
    project = ws.project
    person = project.participant(pid)
    email = person.emails[0]
    key = ladder_key(project.name, milestone.id, email, kind, action.rung)

    def compose() -> EmailMessage:
        if kind in ("overdue", "last_call") or (kind == "escalation" and pid == project.lead):
            versions = ws.store.versions(project.name, milestone.id)  # read only when it is composed
            return compose_ladder_letter(
                project,
                milestone,
                person,
                kind=kind,
                key=key,
                outstanding=action.outstanding,
                versions=versions,
                day=action.day,
            )
        assert kind in ("reminder", "notice", "escalation"), kind  # the coordinator's notice (the lead's is above)
        # a partner is reminded of its own inputs; the coordinator is told who owes what
        missing = (
            action.outstanding.get(pid, []) if kind == "reminder" else outstanding_lines(project, action.outstanding)
        )
        templates = owed_templates(project, milestone, person, missing) if kind == "reminder" else []
        return compose_reminder_email(
            project,
            milestone,
            person,
            key=key,
            step=action.rung,
            missing=missing,
            as_of=action.day,
            kind=kind,
            attachments=templates,
        )

    return Outgoing(
        key=key, recipient=email, kind=kind, milestone=milestone.id, about=About(rung=action.rung), compose=compose
    )


def outstanding_lines(project: Project, outstanding: dict[str, list[str]]) -> list[str]:
    """`Riga: seed_funding (invalid)` — who is late with what, for the coordinator and lead."""
    return [f"{project.participant(pid).city} ({pid}): {', '.join(kinds)}" for pid, kinds in outstanding.items()]


# -- rehearsal ---------------------------------------------------------------------------
def inbox_deliveries(
    project: Project, inbox_root: Path, *, max_bytes: int | None = None, limits: InputLimits | None = None
) -> dict[str, list[Delivery]]:
    """Every file of the inbox validated once, as deliveries per milestone (arrival dates from
    `arrivals.yaml` or file times; versions numbered in arrival order per partner and kind).

    Validates the inbox copy in place: a rehearsal archives, stores and sends nothing.
    """
    from wpflow.inputs.validate import validate_file
    from wpflow.milestone.collect import arrival_time, list_inbox, load_arrivals, submission_for

    arrivals = load_arrivals(inbox_root)
    partners = [p.id for p in project.participants]
    out: dict[str, list[Delivery]] = {}
    for milestone in project.milestones():
        expected = [r.kind for r in milestone.inputs]
        found: list[tuple[Submission, ValidationResult]] = []
        for item in list_inbox(inbox_root, partners, milestone.id):
            arrived = arrival_time(item, item.path.stat(), arrivals)
            result = validate_file(
                item.path,
                kinds=project.input_kinds,
                expected=expected,
                city=project.participant(item.partner).city,
                max_bytes=max_bytes,
                limits=limits,
            )
            if result.kind is not None:
                found.append((submission_for(project, item, None, arrived), result))
        versions: dict[tuple[str, str | None], int] = defaultdict(int)
        deliveries = []
        for sub, result in sorted(found, key=lambda f: (f[0].modified_at.date(), f[0].file_name)):
            versions[(sub.partner, result.kind)] += 1
            numbered = sub.model_copy(update={"version": versions[(sub.partner, result.kind)]})
            deliveries.append(Delivery.of(numbered, result))
        out[milestone.id] = deliveries
    return out


def days(start: date, end: date) -> Iterator[date]:
    """Every day from `start` to `end`, both included."""
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


def simulate(project: Project, deliveries: dict[str, list[Delivery]], start: date, end: date) -> list[Action]:
    """What the daily deadline flow would have done from `start` to `end`, day by day.

    Same rules as `chase_day`, with an in-memory set of sent keys instead of the store: each
    notice goes to a recipient once per rung, each run key (a content of the inputs) runs once.
    A run that issues a report after an earlier one is labelled "update" (its next version). A
    returned action's `recipients` are the ones notified *that day*.
    """
    sent: set[tuple[str, str]] = set()
    reported: set[str] = set()
    timeline: list[Action] = []
    windows = {m.id: active_window(project, m) for m in project.milestones()}
    arrival_days = {m.id: {d.arrived for d in deliveries.get(m.id, [])} for m in project.milestones()}
    for day in days(start, end):
        for milestone in project.milestones():
            first, last = windows[milestone.id]
            if not first <= day <= last and day not in arrival_days[milestone.id]:
                continue  # nothing can change on this day: no rung, no new content
            for action in in_daily_order(actions_on(project, milestone, deliveries.get(milestone.id, []), day)):
                if action.action == "run":
                    if (action.key, "") not in sent:
                        sent.add((action.key, ""))
                        if action.release == "report" and milestone.id in reported:
                            action = action.model_copy(update={"rung": "update"})
                        if action.release == "report":
                            reported.add(milestone.id)
                        timeline.append(action)
                    continue
                new = [r for r in action.recipients if (action.key, r) not in sent]
                sent.update((action.key, r) for r in new)
                if new:
                    timeline.append(action.model_copy(update={"recipients": new}))
    return timeline


def active_window(project: Project, milestone: Milestone) -> tuple[date, date]:
    """The days on which `actions_on` can return anything for the milestone (a superset):
    skipping the others makes a three-year replay ~20× faster and changes nothing."""
    from wpflow.schedule.ladder import CATCH_UP_DAYS

    offsets = [r.offset_days for r in project.deadlines.ladder] or [0]
    run_day = milestone.due + timedelta(days=project.deadlines.grace_days)
    first = min(milestone.start, milestone.due + timedelta(days=min(offsets)), run_day)
    last = max(milestone.due + timedelta(days=max(offsets)), run_day) + timedelta(days=CATCH_UP_DAYS)
    return first, last


def timeline_rows(actions: Iterable[Action]) -> list[dict]:
    """The JSON form: `{day, milestone, action, rung, recipients, outstanding}` per entry."""
    return [a.model_dump(mode="json") for a in actions]
