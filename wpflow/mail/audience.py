"""What a milestone report's e-mail says to each reader beyond the report: the paragraphs that
differ between a partner, the WP co-ordinator and the lead partner.

A partner reads whether its own input is in, missing or invalid and, if not in, by when and
how to send it; the co-ordinator reads who is missing and a sentence to forward to them; the
lead reads where the work package stands and who received this version. One person can be all
three (a lead partner that coordinates a WP and delivers inputs): it gets each paragraph once,
in one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schemas.project import Milestone, Participant, Project
from schemas.records import PartnerState, PartnerStatus, WPSummary
from wpflow.mail.words import how_to_deliver, names, send_by, who
from wpflow.report.plain_words import kind_title, long_date


@dataclass(frozen=True)
class Audience:
    """Who one report e-mail is for, and what its reader-specific paragraphs say."""

    roles: tuple[str, ...]  # "partner", "coordinator", "lead", in that order
    paragraphs: tuple[str, ...]
    forward: tuple[str, ...] = ()  # ready sentences for the co-ordinator to forward


def own_paragraph(
    project: Project, milestone: Milestone, states: list[PartnerState], as_of: date, person: Participant
) -> str:
    """'Your input is in' — or what is missing or invalid, by when and how to send it."""
    if all(s.status.delivered for s in states):
        inputs = ", ".join(kind_title(s.kind, project.kind_titles) for s in states)
        return f"Your input is in ({inputs}): thank you."
    owed = [s for s in states if not s.status.delivered]
    parts = []
    for s in owed:
        if s.status == PartnerStatus.invalid:
            file = f' (your file "{s.file_name}")' if s.file_name else ""
            title = kind_title(s.kind, project.kind_titles)
            parts.append(f"your input ({title}){file} could not be used: see the receipt for what to fix")
        else:
            parts.append(f"your input ({kind_title(s.kind, project.kind_titles)}) is missing")
    by = long_date(send_by(project, milestone, as_of))
    sentence = "; ".join(parts)
    return (
        f"{sentence[0].upper()}{sentence[1:]}. Please send it by {by}. "
        f"{how_to_deliver(project, person, milestone.id)} The report will be updated with it."
    )


def forward_sentence(
    project: Project, milestone: Milestone, partner: Participant, states: list[PartnerState], as_of: date
) -> str:
    """A sentence the WP co-ordinator can forward to a late partner as it is."""
    what = ", ".join(kind_title(s.kind, project.kind_titles) for s in states)
    return (
        f"To {who(partner)}: the {milestone.id} report \u201c{milestone.title}\u201d went out without your input "
        f"({what}). Please send it by {long_date(send_by(project, milestone, as_of))}. "
        f"{how_to_deliver(project, partner, milestone.id)}"
    )


def audience(
    project: Project, milestone: Milestone, summary: WPSummary, person: Participant, received: list[Participant]
) -> Audience:
    """The paragraphs of `person`'s copy; `received`: everyone this version goes to."""
    wp = project.work_package(milestone.wp_id)
    roles: list[str] = []
    paragraphs: list[str] = []
    forward: list[str] = []
    own = [s for s in summary.partners if s.partner == person.id]
    if own:
        roles.append("partner")
        paragraphs.append(own_paragraph(project, milestone, own, summary.as_of, person))
    late: dict[str, list[PartnerState]] = {}
    for s in summary.partners:
        if not s.status.delivered:
            late.setdefault(s.partner, []).append(s)
    delivered = sum(1 for s in summary.partners if s.status.delivered)
    standing = f"{delivered} of {len(summary.partners)} required inputs are in"
    if late:
        standing += "; still to come: " + names([project.participant(pid) for pid in late])
    if person.id == wp.coordinator:
        roles.append("coordinator")
        if late:
            paragraphs.append(f"As {wp.id} co-ordinator: {standing}. Below, a sentence for each of them to forward.")
            forward.extend(
                forward_sentence(project, milestone, project.participant(p), s, summary.as_of) for p, s in late.items()
            )
        else:
            paragraphs.append(f"As {wp.id} co-ordinator: every required input is in.")
    if person.id == project.lead:
        roles.append("lead")
        paragraphs.append(f"As lead partner: {wp.id} \u201c{wp.title}\u201d, {milestone.id}: {standing}.")
    if "coordinator" in roles or "lead" in roles:
        others = [p for p in received if p.id != person.id]
        if others:
            paragraphs.append(f"This version also went to {names(others)}.")
    return Audience(tuple(roles), tuple(paragraphs), tuple(forward))
