"""`wpflow project check`: where the sources contradict each other, what they leave open, and
what the definition assumes — computed from the project's own data, so nothing is hidden.

These are the coordinator's notes on the sources: a milestone report, a deliverable the
partners and the secretariat read, marks what is assumed but never prints the findings;
this command does."""

from __future__ import annotations

from itertools import combinations
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.project import MeetingSeries, Milestone, Project


class Finding(BaseModel):
    """Something `wpflow project check` reports."""

    model_config = ConfigDict(extra="forbid")

    severity: Literal["warning", "info"] = Field(description="warning: contradiction or gap; info: assumption")
    kind: Literal["contradiction", "gap", "assumption"] = Field(description="What sort of finding")
    where: str = Field(description="Project, participant, WP or milestone it concerns")
    message: str = Field(description="What is wrong or assumed")
    source: str | None = Field(None, description="Source id(s) involved")


def check_project(project: Project) -> list[Finding]:
    """Every contradiction, gap and assumption in the definition, warnings first."""
    findings: list[Finding] = []
    findings += _role_contradictions(project)
    findings += _count_contradictions(project)
    findings += _recorded_notes(project)
    for wp in project.work_packages:
        for m in wp.milestones:
            findings += _meeting_findings(project, m)
        findings += _meetings_out_of_order(wp.milestones)
        findings += _meetings_in_two_milestones(wp.milestones)
    findings += _assumptions(project)
    findings += _deliverable_assumptions(project)
    order = {"warning": 0, "info": 1}
    return sorted(findings, key=lambda f: order[f.severity])


def _role_contradictions(project: Project) -> list[Finding]:
    out = []
    for p in project.participants:
        roles = {c.role for c in p.role_claims} | {p.role}
        if len(roles) > 1:
            claims = "; ".join(f"{c.source}: {c.role}" for c in p.role_claims)
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where=p.id,
                    message=f"{p.city} is listed as {' and '.join(sorted(roles))} ({claims}); "
                    f"the definition uses {p.role}",
                    source=",".join(c.source for c in p.role_claims),
                )
            )
    return out


def _count_contradictions(project: Project) -> list[Finding]:
    out = []
    for stated in project.stated_counts:
        listed = sum(1 for p in project.participants if p.role in stated.roles)
        if listed != stated.count:
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where="participants",
                    message=(
                        f"{stated.source} states {stated.count} {stated.what}; the definition lists "
                        f"{listed} with role {'/'.join(stated.roles)}"
                    ),
                    source=stated.source,
                )
            )
    return out


def _recorded_notes(project: Project) -> list[Finding]:
    out = []
    scoped = [(project.name, n) for n in project.notes]
    scoped += [(wp.id, n) for wp in project.work_packages for n in wp.notes]
    for where, note in scoped:
        if note.kind != "remark":
            out.append(Finding(severity="warning", kind=note.kind, where=where, message=note.text, source=note.source))
    return out


def _meeting_findings(project: Project, m: Milestone) -> list[Finding]:
    out = []
    for item in m.meetings:
        if isinstance(item, MeetingSeries):
            if not item.cities:
                out.append(
                    Finding(
                        severity="warning",
                        kind="gap",
                        where=m.id,
                        message=f"'{item.series}': {len(item.months)} dates but no host cities are stated",
                        source=item.source,
                    )
                )
            elif len(item.cities) != len(item.months):
                out.append(
                    Finding(
                        severity="warning",
                        kind="contradiction",
                        where=m.id,
                        message=(
                            f"'{item.series}': the meeting list names {len(item.cities)} cities "
                            f"({', '.join(c or '?' for c in item.cities)}) but {len(item.months)} dates "
                            f"({', '.join(item.months)})"
                        ),
                        source=item.source,
                    )
                )
    for meeting in m.all_meetings():
        if meeting.city is None and meeting.month is not None and not _series_without_cities(m):
            out.append(
                Finding(
                    severity="warning",
                    kind="gap",
                    where=m.id,
                    message=f"'{meeting.topic}' ({meeting.month}): host city not stated",
                    source=meeting.source,
                )
            )
        if meeting.month and not (_month(m.start) <= meeting.month <= _month(m.end)):
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where=m.id,
                    message=(
                        f"'{meeting.topic}' in {meeting.city or 'an unstated city'} ({meeting.month}) falls outside "
                        f"the milestone period {m.start} – {m.end}"
                    ),
                    source=meeting.source,
                )
            )
    return out


def _series_without_cities(m: Milestone) -> bool:
    return any(isinstance(x, MeetingSeries) and not x.cities for x in m.meetings)


def _meetings_out_of_order(milestones: list[Milestone]) -> list[Finding]:
    """A later milestone whose meetings come before an earlier milestone's: dates run backwards."""
    out = []
    dated = [(m, sorted(x.month for x in m.all_meetings() if x.month)) for m in milestones]
    for (earlier, e_months), (later, l_months) in combinations(dated, 2):
        if e_months and l_months and e_months[-1] > l_months[0]:
            out.append(
                Finding(
                    severity="warning",
                    kind="contradiction",
                    where=f"{earlier.id}/{later.id}",
                    message=(
                        f"meeting dates run backwards: {earlier.id}'s meetings run to {e_months[-1]} but "
                        f"{later.id}'s start in {l_months[0]}"
                    ),
                    source=earlier.source,
                )
            )
    return out


def _meetings_in_two_milestones(milestones: list[Milestone]) -> list[Finding]:
    out = []
    seen: dict[tuple[str, str], str] = {}
    for m in milestones:
        for x in m.all_meetings():
            if x.city and x.month:
                key = (x.city, x.month)
                if key in seen and seen[key] != m.id:
                    out.append(
                        Finding(
                            severity="warning",
                            kind="contradiction",
                            where=f"{seen[key]}/{m.id}",
                            message=f"a meeting in {x.city} ({x.month}) belongs to both {seen[key]} and {m.id}",
                            source=x.source,
                        )
                    )
                seen.setdefault(key, m.id)
    return out


def _assumptions(project: Project) -> list[Finding]:
    """Every fact the project definition fills in where the sources are silent, where it stands."""
    facts: list[tuple[str, str]] = [
        (p.id, f"{p.organisation}: {p.note or 'not named in the sources'}") for p in project.participants if p.assumed
    ]
    for wp in project.work_packages:
        if wp.coordinator_assumed:
            facts.append((wp.id, f"coordinator {wp.coordinator} is not named in the sources"))
        for m in wp.milestones:
            if m.assumed:
                facts.append((m.id, m.note or "period or due date derived"))
            facts += [
                (m.id, f"'{x.topic}' in {x.city or '?'} ({x.month}): {x.note or 'derived'}")
                for x in m.all_meetings()
                if x.assumed
            ]
    return [Finding(severity="info", kind="assumption", where=where, message=message) for where, message in facts]


def _deliverable_assumptions(project: Project) -> list[Finding]:
    """The reports' publicity wording, conversion rates and definitions the seeds do not give."""
    d = project.deliverable
    facts: list[tuple[str, str | None]] = []
    if d.publicity is not None and d.publicity.assumed:
        facts.append((f"publicity line '{d.publicity.line}'", d.publicity.note))
    facts += [(f"rate {r.per_eur:g} {r.currency} per EUR ({r.source})", r.note) for r in d.rates if r.assumed]
    facts += [(f"definition of '{x.term}'", x.note) for x in d.definitions if x.assumed]
    return [
        Finding(
            severity="info", kind="assumption", where="deliverable", message=f"{what}: {note or 'not in the sources'}"
        )
        for what, note in facts
    ]


def _month(d) -> str:
    return f"{d.year:04d}-{d.month:02d}"
