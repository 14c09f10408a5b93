"""How a project is run, as data: the deadline ladder and when reports go out (project.yaml's
`deadlines:` and `reports:`), and the strict base every definition model shares."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    """Base for definition models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


RungAction = Literal["reminder", "overdue", "last_call", "notice", "escalation"]
# What a partner is told (about its own inputs) and what the coordinator or the lead is told
# (about who owes what) are different letters: a rung may not send one to the other.
PARTNER_ACTIONS = frozenset({"reminder", "overdue", "last_call"})


class Rung(Strict):
    """One step of the deadline ladder: on due date + offset, tell someone what is missing."""

    offset_days: int = Field(description="Days relative to the due date (negative: before)")
    action: RungAction = Field(
        description="reminder (before the due date), overdue (after it), last_call (the last word before "
        "the lead is told): to the late partners themselves; notice, escalation: to the coordinator or lead"
    )
    to: Literal["partners", "coordinator", "lead"] = Field(
        description="partners: those with required inputs missing or invalid; coordinator: the WP "
        "co-ordinator; lead: the lead partner"
    )

    @model_validator(mode="after")
    def _letter_fits_reader(self) -> Rung:
        if (self.action in PARTNER_ACTIONS) != (self.to == "partners"):
            audience = "the partners" if self.action in PARTNER_ACTIONS else "the coordinator or the lead"
            raise ValueError(f"a {self.action} goes to {audience}, not to {self.to}")
        return self


DEFAULT_LADDER = (
    Rung(offset_days=-14, action="reminder", to="partners"),
    Rung(offset_days=-3, action="reminder", to="partners"),
    Rung(offset_days=1, action="overdue", to="partners"),
    Rung(offset_days=1, action="notice", to="coordinator"),
    Rung(offset_days=5, action="last_call", to="partners"),
    Rung(offset_days=7, action="escalation", to="lead"),
)


class DeadlinePolicy(Strict):
    """How deadlines are chased: the ladder, and when the pipeline runs with what is there."""

    ladder: list[Rung] = Field(default_factory=lambda: list(DEFAULT_LADDER), description="Ladder steps")
    grace_days: int = Field(
        0, ge=0, description="Days after the due date before the pipeline runs with what has arrived"
    )
    timezone: str = Field("Europe/Helsinki", description="Time zone the daily deadline run uses")


class ReportPolicy(Strict):
    """When a milestone report goes out and to whom (`reports:` in project.yaml)."""

    release: Literal["due-or-complete", "due"] = Field(
        "due-or-complete",
        description="due: at the due date (plus grace days) with whatever has arrived, marked incomplete; "
        "due-or-complete: also earlier, as soon as every required input is valid",
    )
    observers: bool = Field(
        False,
        description="Observers receive reports too (by default only partners asked for inputs and the "
        "WP coordinator do)",
    )
    lead_in_copy: bool = Field(
        True, description="The lead partner gets its own copy of every report version (one message, not a Cc)"
    )
    attach_pdf: bool = Field(False, description="Attach the PDF beside the DOCX when one was made")


class Delivery(Strict):
    """How partners deliver their files and whom a reply reaches (`delivery:` in project.yaml).

    Every e-mail to a partner says how to deliver, so this is data the messages quote; each
    pattern may name `{partner}` (the participant id, its inbox folder) and `{milestone}`.
    """

    folder: str = Field(
        "inbox/{partner}/{milestone}/",
        description="The watched folder as partners see it (on the shared drive); always named",
    )
    upload_link: str | None = Field(None, description="A partner's upload page, when the project has one")
    intake_email: str | None = Field(
        None, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[a-z]{2,}$", description="An address partners may mail files to"
    )
    pages: dict[str, str] = Field(
        default_factory=dict,
        description="Each partner's own page link (partner id → URL): filled in by wpflow from WPFLOW_PARTNER_URL "
        "and the links `wpflow partners links` made, not written in project.yaml",
    )
    reply_to: Literal["wp-coordinator", "lead", "secretariat"] = Field(
        "wp-coordinator", description="Whom a reply to wpflow's e-mails reaches: the people who can answer it"
    )
