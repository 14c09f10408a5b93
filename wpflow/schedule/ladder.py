"""Deadlines: who is told what on which day, as pure functions of the date and the deliveries.

The ladder is project data (`deadlines:` in project.yaml). A rung is *current* from its day
until the next rung of its audience takes over — for an audience's last rung, until the
ladder's next later rung of anyone (a last call is no last call once the lead has been told),
and for the ladder's last rung `CATCH_UP_DAYS` — so a rung whose day the daily run missed goes
out on the next run while it still makes sense. A reminder before the due date stops at the due
date ("due in 3 days" is false after it), and nobody is chased for a milestone once every
partner has delivered. The idempotency key in the store makes sure each rung goes out at most
once per recipient however often the daily flow runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.project import Milestone, Project, Rung
from schemas.records import PartnerState, PartnerStatus
from wpflow.issue.content import Release, inputs_digest, release_day, release_decision
from wpflow.mail.idempotency import run_key
from wpflow.milestone.merge import Delivery, partner_states

__all__ = ["Action", "Delivery", "actions_on", "current_rungs", "in_daily_order", "outstanding_on", "run_action"]

CATCH_UP_DAYS = 14


class Action(BaseModel):
    """Something the deadline flow does on a day: a notice to send or a pipeline to run."""

    model_config = ConfigDict(extra="forbid")

    day: date = Field(description="Day the action is due")
    milestone: str = Field(description="Milestone id")
    action: Literal["reminder", "overdue", "last_call", "notice", "escalation", "run"] = Field(
        description="What happens: a rung's message (schemas.policies.Rung) or a pipeline run"
    )
    rung: str = Field(description="Ladder step like T-14, or why a run happens (due / complete)")
    recipients: list[str] = Field(default_factory=list, description="Participant ids to notify")
    outstanding: dict[str, list[str]] = Field(
        default_factory=dict, description="partner id → input kinds missing or invalid ('kind (invalid)')"
    )
    release: Literal["report", "empty"] | None = Field(
        None, description="For a run: a report version, or the 'nothing arrived' notice (versions.Release)"
    )
    digest: str | None = Field(None, description="For a run: the content of the inputs it runs on")

    @property
    def key(self) -> str:
        """Idempotency key: a run once per content of the inputs, a notice once per rung."""
        if self.action == "run" and self.digest is not None:
            return run_key(self.milestone, self.digest)
        return f"{self.action}:{self.milestone}:{self.rung}"


def rung_label(rung: Rung) -> str:
    return f"T{rung.offset_days:+d}"


def outstanding_on(
    project: Project, milestone: Milestone, deliveries: Iterable[Delivery], day: date
) -> dict[str, list[str]]:
    """Required inputs not delivered valid by `day`, per partner, in definition order."""
    return outstanding_in(states_on(project, milestone, deliveries, day))


def states_on(project: Project, milestone: Milestone, deliveries: Iterable[Delivery], day: date) -> list[PartnerState]:
    """Each partner's state for each required input, from what had arrived by `day`."""
    return partner_states(project, milestone, [d for d in deliveries if d.arrived <= day])


def outstanding_in(states: Iterable[PartnerState]) -> dict[str, list[str]]:
    """The inputs of `states` not delivered valid, per partner, in definition order."""
    out: dict[str, list[str]] = {}
    for state in states:
        if not state.status.delivered:
            label = state.kind + (" (invalid)" if state.status == PartnerStatus.invalid else "")
            out.setdefault(state.partner, []).append(label)
    return out


def current_rungs(project: Project, milestone: Milestone, day: date) -> list[Rung]:
    """The rungs in force on `day`: per audience at most one, in ladder order."""
    ladder = list(project.deadlines.ladder)
    current = [rung for rung in ladder if rung_window(ladder, rung, milestone.due)[0] <= day]
    return [rung for rung in current if day < rung_window(ladder, rung, milestone.due)[1]]


def rung_window(ladder: list[Rung], rung: Rung, due: date) -> tuple[date, date]:
    """[first, stop): the days on which `rung` is sent — its own day, or a later run catching up."""
    later = sorted({r.offset_days for r in ladder if r.offset_days > rung.offset_days})
    same = [r.offset_days for r in ladder if r.to == rung.to and r.offset_days > rung.offset_days]
    start = due + timedelta(days=rung.offset_days)
    if same:  # the audience's next letter says all this one would have said
        stop = due + timedelta(days=min(same))
    elif later:  # the audience's last letter: sensible until the ladder moves on
        stop = due + timedelta(days=later[0])
    else:
        stop = start + timedelta(days=CATCH_UP_DAYS)
    if rung.offset_days < 0:  # "due in 3 days" makes no sense once the day has passed
        stop = min(stop, due + timedelta(days=1))
    return start, stop


def actions_on(project: Project, milestone: Milestone, deliveries: Iterable[Delivery], day: date) -> list[Action]:
    """What the deadline flow should do for one milestone on one day (before idempotency)."""
    states = states_on(project, milestone, deliveries, day)  # once: the daily ladder asks for 25 milestones
    outstanding = outstanding_in(states)
    actions = []
    wp = project.work_package(milestone.wp_id)
    for rung in current_rungs(project, milestone, day):
        if not outstanding:
            continue
        recipients = {"partners": list(outstanding), "coordinator": [wp.coordinator], "lead": [project.lead]}[rung.to]
        actions.append(
            Action(
                day=day,
                milestone=milestone.id,
                action=rung.action,
                rung=rung_label(rung),
                recipients=recipients,
                outstanding=outstanding,
            )
        )
    run = release_action(project, milestone, states, day)
    if run is not None:
        actions.append(run)
    return actions


def in_daily_order(actions: Iterable[Action]) -> list[Action]:
    """A day's actions as the daily run carries them out: the pipeline run first, so that a
    letter of the same day can say the report went out (and a rehearsal lists them the same)."""
    return sorted(actions, key=lambda a: a.action != "run")


def run_action(project: Project, milestone: Milestone, deliveries: Iterable[Delivery], day: date) -> Action | None:
    """A pipeline run whenever the release rule says a report (or the "nothing arrived" notice)
    is due: from the due date on, or earlier once complete. Its key is the content of the
    inputs, so it runs once per content — a late or corrected file is a new content, a new run."""
    return release_action(project, milestone, states_on(project, milestone, deliveries, day), day)


def release_action(project: Project, milestone: Milestone, states: list[PartnerState], day: date) -> Action | None:
    """`run_action` from the partners' states on `day`."""
    decision = release_decision(project, milestone, states, day)
    if decision is Release.WAIT:
        return None
    rung = "due" if day >= release_day(project, milestone) else "complete"
    outstanding = outstanding_in(states)
    return Action(
        day=day,
        milestone=milestone.id,
        action="run",
        rung=rung,
        outstanding=outstanding,
        release=decision.value,
        digest=inputs_digest(states),
    )
