"""Deadlines: who is told what on which day, as pure functions of the date and the deliveries.

The ladder is project data (`deadlines:` in project.yaml). A rung is *current* from its day
until the audience's next rung (or for `CATCH_UP_DAYS` after the last one), so a daily run that
was down for a day or two still sends it; the idempotency key in the store makes sure each
notice goes out at most once however often the daily flow runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.project import Milestone, Project, Rung
from wpflow.merge import Delivery, partner_states

__all__ = ["Action", "Delivery", "actions_on", "current_rungs", "outstanding_on"]

CATCH_UP_DAYS = 14


class Action(BaseModel):
    """Something the deadline flow does on a day: a notice to send or a pipeline to run."""

    model_config = ConfigDict(extra="forbid")

    day: date = Field(description="Day the action is due")
    milestone: str = Field(description="Milestone id")
    action: Literal["reminder", "notice", "escalation", "run"] = Field(description="What happens")
    rung: str = Field(description="Ladder step like T-14, or why a run happens (deadline / complete)")
    recipients: list[str] = Field(default_factory=list, description="Participant ids to notify")
    outstanding: dict[str, list[str]] = Field(
        default_factory=dict, description="partner id → input kinds missing or invalid ('kind (invalid)')"
    )

    @property
    def key(self) -> str:
        """Idempotency key: one per milestone, step and recipient set."""
        return f"{self.action}:{self.milestone}:{self.rung}"


def rung_label(rung: Rung) -> str:
    return f"T{rung.offset_days:+d}"


def outstanding_on(project: Project, milestone: Milestone, deliveries: Iterable[Delivery], day: date) -> dict[str, list[str]]:
    """Required inputs not delivered valid by `day`, per partner, in definition order."""
    out: dict[str, list[str]] = {}
    for state in partner_states(project, milestone, [d for d in deliveries if d.arrived <= day]):
        if state.status in ("missing", "invalid"):
            label = state.kind + (" (invalid)" if state.status == "invalid" else "")
            out.setdefault(state.partner, []).append(label)
    return out


def current_rungs(project: Project, milestone: Milestone, day: date) -> list[Rung]:
    """Per audience, the rung in force on `day` (at most one each)."""
    current = []
    for audience in ("partners", "coordinator", "lead"):
        rungs = sorted((r for r in project.deadlines.ladder if r.to == audience), key=lambda r: r.offset_days)
        for i, rung in enumerate(rungs):
            start = milestone.due + timedelta(days=rung.offset_days)
            stop = (milestone.due + timedelta(days=rungs[i + 1].offset_days)) if i + 1 < len(rungs) \
                else start + timedelta(days=CATCH_UP_DAYS)
            if rung.offset_days < 0:  # "due in 3 days" makes no sense once the day has passed
                stop = min(stop, milestone.due + timedelta(days=1))
            if start <= day < stop:
                current.append(rung)
    return current


def actions_on(project: Project, milestone: Milestone, deliveries: Iterable[Delivery], day: date) -> list[Action]:
    """What the deadline flow should do for one milestone on one day (before idempotency)."""
    deliveries = list(deliveries)
    outstanding = outstanding_on(project, milestone, deliveries, day)
    actions = []
    wp = project.work_package(milestone.wp_id)
    for rung in current_rungs(project, milestone, day):
        if not outstanding:
            continue
        recipients = {"partners": list(outstanding), "coordinator": [wp.coordinator], "lead": [project.lead]}[rung.to]
        actions.append(Action(day=day, milestone=milestone.id, action=rung.action, rung=rung_label(rung),
                              recipients=recipients, outstanding=outstanding))
    run_day = milestone.due + timedelta(days=project.deadlines.grace_days)
    if run_day <= day < run_day + timedelta(days=CATCH_UP_DAYS):
        actions.append(Action(day=day, milestone=milestone.id, action="run", rung="deadline", outstanding=outstanding))
    elif not outstanding and milestone.inputs and day < run_day and _ladder_started(project, milestone, day):
        actions.append(Action(day=day, milestone=milestone.id, action="run", rung="complete"))
    return actions


def _ladder_started(project: Project, milestone: Milestone, day: date) -> bool:
    """An early 'all inputs valid' run only within the milestone's active window."""
    first = min((r.offset_days for r in project.deadlines.ladder), default=0)
    return day >= min(milestone.start, milestone.due + timedelta(days=first))
