"""The project definition: who takes part, which work packages, which milestones.

A project is data (`projects/<name>/project.yaml`); these models are its contract. Every
model forbids unknown keys so a typo'd key in the YAML is an error, not silently ignored.
Facts the seeds do not give are still filled in (a product needs a date) but carry
`assumed: true` and a note, so `wpflow project check` can list them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

# the policies are parts of a Project; importing them from here keeps one place to look
from schemas.deliverable import Deliverable
from schemas.final import FinalReportSources
from schemas.kinds import ProjectKinds
from schemas.policies import DEFAULT_LADDER, DeadlinePolicy, Delivery, ReportPolicy, Rung, Strict  # noqa: F401

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MILESTONE_ID_RE = re.compile(r"^WP\d+-M\d+$")
EMAIL_RE = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[a-z]{2,}")  # a plain address, no display name


def _is_month(value: str) -> str:
    if not MONTH_RE.match(value):
        raise ValueError(f"{value!r} is not a month as YYYY-MM")
    return value


def _is_milestone_id(value: str) -> str:
    if not MILESTONE_ID_RE.match(value):
        raise ValueError(f"{value!r} is not a milestone id like WP3-M2")
    return value


Month = Annotated[str, AfterValidator(_is_month), Field(description="A month as YYYY-MM")]


class Source(Strict):
    """A document the definition was taken from (a seed), cited by id elsewhere."""

    id: str = Field(description="Short id used in `source:` fields, e.g. 'wp4' or 'annex'")
    title: str = Field(description="Human title of the document")
    file: str | None = Field(None, description="File name of the seed the facts come from")


class RoleClaim(Strict):
    """What one source says a participant's role is; disagreements are reported by check."""

    source: str = Field(description="Id of the source making the claim")
    role: Literal["lead", "partner", "observer"] = Field(description="Role the source states")
    quote: str | None = Field(None, description="The source's words, for the record")


class Participant(Strict):
    """A partner or observer organisation of the consortium."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable id; also the inbox folder name")
    city: str = Field(description="Metropolis the organisation represents")
    country: str = Field(description="Country, in English")
    organisation: str = Field(description="Organisation name")
    role: Literal["lead", "partner", "observer"] = Field(description="Role in the consortium")
    local_coordinator: bool = Field(False, description="Delivers the city's local inputs (one per city that delivers)")
    emails: list[str] = Field(min_length=1, description="Contact e-mail addresses")
    region: list[str] = Field(
        default_factory=list,
        description="Other municipalities of the city's metropolitan region: a location there is not flagged",
    )
    assumed: bool = Field(False, description="True when the organisation is not named in the seeds")
    note: str | None = Field(None, description="Why an assumption was made, or other remarks")
    role_claims: list[RoleClaim] = Field(
        default_factory=list, description="Roles stated by individual sources, when they differ"
    )

    @field_validator("emails")
    @classmethod
    def _emails_look_like_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL_RE.fullmatch(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


class Meeting(Strict):
    """A meeting, workshop or conference belonging to a milestone."""

    city: str | None = Field(description="Host city; null when no source names it")
    month: Month | None = Field(description="Month it takes place; null only when unknown")
    topic: str = Field(description="What the meeting is for")
    source: str | None = Field(None, description="Source id the meeting is taken from")
    assumed: bool = Field(False, description="True when city or month were derived, not stated")
    note: str | None = Field(None, description="Remarks, e.g. how a derived month was chosen")


class MeetingSeries(Strict):
    """Meetings as a source lists them: 'in A, B, C (8/2006, 9/2006, 10/2006)'. Kept as written
    so that check can compare the two lists; the loader pairs cities and months in order. A city
    left without a month gets `fallback_month` (an assumption)."""

    series: str = Field(description="Topic shared by the meetings of the series")
    cities: list[str | None] = Field(description="Host cities in the order the source gives them")
    months: list[Month] = Field(description="Months in the order the source gives them")
    source: str = Field(description="Source id the series is taken from")
    quote: str | None = Field(None, description="The source's words")
    fallback_month: Month | None = Field(None, description="Month assumed for cities the source gives no date for")

    def expand(self) -> list[Meeting]:
        """Pair cities with months in the source's order."""
        count = max(len(self.cities), len(self.months))
        meetings = []
        for i in range(count):
            city = self.cities[i] if i < len(self.cities) else None
            month = self.months[i] if i < len(self.months) else self.fallback_month
            note = None
            if i >= len(self.months):
                note = "the source lists more cities than dates; month assumed"
            elif i >= len(self.cities):
                note = "city not stated"
            meetings.append(
                Meeting(
                    city=city,
                    month=month,
                    topic=self.series,
                    source=self.source,
                    assumed=i >= len(self.months),
                    note=note,
                )
            )
        return meetings


def _meeting_tag(value: object) -> str:
    """A YAML entry with a `series` key lists several meetings; anything else is one meeting."""
    if isinstance(value, dict):
        return "series" if "series" in value else "meeting"
    return "series" if isinstance(value, MeetingSeries) else "meeting"


MeetingEntry = Annotated[
    Annotated[Meeting, Tag("meeting")] | Annotated[MeetingSeries, Tag("series")],
    Discriminator(_meeting_tag),
]


class RequiredInput(Strict):
    """An input kind a milestone needs, and who must deliver it."""

    kind: str = Field(description="Input kind id (see `wpflow project show`), e.g. 'seed_funding'")
    from_: list[str] | Literal["partner-cities", "all-cities"] = Field(
        "partner-cities",
        alias="from",
        description=(
            "Participant ids that must deliver, or 'partner-cities' (each partner city's local "
            "coordinator) or 'all-cities' (observers too)"
        ),
    )
    note: str | None = Field(None, description="What the partner is asked for, in plain words")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Milestone(Strict):
    """A milestone of a work package: a period, a due date, meetings and required inputs."""

    id: Annotated[str, AfterValidator(_is_milestone_id)] = Field(description="Id like 'WP3-M2'")
    title: str = Field(description="Short title used in reports and e-mail subjects")
    start: date = Field(description="First day of the milestone period")
    end: date = Field(description="Last day of the milestone period")
    due: date = Field(description="Date the partners' inputs are due")
    activities: list[str] = Field(default_factory=list, description="What happens, per the seeds")
    meetings: list[MeetingEntry] = Field(
        default_factory=list, description="Meetings as listed; series are expanded on load"
    )
    inputs: list[RequiredInput] = Field(default_factory=list, description="Required partner inputs")
    template: str = Field("report.docx", description="Report template file in templates/")
    source: str | None = Field(None, description="Source id the milestone is described in")
    assumed: bool = Field(False, description="True when period or due date were derived")
    note: str | None = Field(None, description="Why something was assumed, or other remarks")

    @model_validator(mode="after")
    def _period_is_ordered(self) -> Milestone:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.due < self.start:
            raise ValueError(f"due {self.due} is before start {self.start}")
        return self

    @property
    def wp_id(self) -> str:
        return self.id.split("-")[0]

    def all_meetings(self) -> list[Meeting]:
        """Meetings with series expanded, in the order given."""
        out: list[Meeting] = []
        for item in self.meetings:
            out.extend(item.expand() if isinstance(item, MeetingSeries) else [item])
        return out


class SourceNote(Strict):
    """A remark a source makes that the definition cannot express otherwise."""

    source: str = Field(description="Source id")
    kind: Literal["contradiction", "gap", "remark"] = Field(
        "remark", description="contradiction: sources disagree; gap: a fact is missing; remark: context"
    )
    text: str = Field(description="What the source says, or what is inconsistent about it")


class StatedCount(Strict):
    """A head count a source gives, compared by check with the participants listed."""

    source: str = Field(description="Source id")
    what: str = Field(description="What is counted, in the source's words")
    roles: list[Literal["lead", "partner", "observer"]] = Field(description="Roles the count covers")
    count: int = Field(ge=0, description="The number the source states")
    quote: str | None = Field(None, description="The source's words")


class WorkPackage(Strict):
    """A work package (WP1…WP5) with its coordinator and milestones."""

    id: str = Field(pattern=r"^WP\d+$", description="Id like 'WP3'")
    title: str = Field(description="Title of the work package")
    theme: str | None = Field(None, description="Theme as the overview names it")
    coordinator: str = Field(description="Participant id of the WP co-ordinator")
    coordinator_assumed: bool = Field(False, description="True when the seeds do not name the coordinator")
    milestones: list[Milestone] = Field(description="Milestones in order")
    notes: list[SourceNote] = Field(default_factory=list, description="Remarks from the sources")
    compiles: bool = Field(False, description="Compiles the other WPs' work: its chapter closes the joint final report")


class Programme(Strict):
    """Funding programme of the project."""

    name: str = Field(description="Programme, e.g. 'Interreg IIIB Baltic Sea Region'")
    period: str | None = Field(None, description="Programming period, e.g. '2000-2006'")


class Project(Strict, ProjectKinds):
    """A cooperation project: the root of `project.yaml`."""

    name: str = Field(description="Short name used in subjects and titles")
    title: str = Field(description="Full title")
    programme: Programme = Field(description="Funding programme")
    start: date = Field(description="Project start")
    end: date = Field(description="Project end")
    lead: str = Field(description="Participant id of the lead partner")
    secretariat_email: str = Field(description="Sender address of wpflow's e-mails")
    sources: list[Source] = Field(default_factory=list, description="Documents the definition cites")
    stated_counts: list[StatedCount] = Field(default_factory=list, description="Head counts the sources state")
    participants: list[Participant] = Field(description="Partners and observers")
    work_packages: list[WorkPackage] = Field(description="Work packages in order")
    notes: list[SourceNote] = Field(default_factory=list, description="Project-level remarks")
    deadlines: DeadlinePolicy = Field(default_factory=DeadlinePolicy, description="Reminder ladder and grace")
    reports: ReportPolicy = Field(default_factory=ReportPolicy, description="When reports go out and to whom")
    delivery: Delivery = Field(default_factory=Delivery, description="How partners deliver, where replies go")
    deliverable: Deliverable = Field(
        default_factory=Deliverable, description="Publicity, authorship, currencies and definitions of the reports"
    )
    final_report: FinalReportSources = Field(
        default_factory=FinalReportSources, description="Objectives, outputs, follow-up and budget: the final reports'"
    )

    @model_validator(mode="after")
    def _period_is_ordered(self) -> Project:
        if self.end < self.start:
            raise ValueError(f"project end {self.end} is before start {self.start}")
        return self

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Dangling or duplicate references, each with the path of the offending field.

        Kept out of validation so the loader can point at the YAML line of each problem.
        """
        problems: list[tuple[tuple[str | int, ...], str]] = []
        ids = [p.id for p in self.participants]
        for i, pid in _duplicates(ids):
            problems.append((("participants", i, "id"), f"duplicate participant id {pid!r}"))
        for i, wid in _duplicates([wp.id for wp in self.work_packages]):
            problems.append((("work_packages", i, "id"), f"duplicate work package id {wid!r}"))
        seen_ms: set[str] = set()
        known = set(ids)
        cities = {p.city for p in self.participants}
        source_ids = {s.id for s in self.sources}
        if self.lead not in known:
            problems.append((("lead",), f"lead {self.lead!r} is not a participant"))
        for w, wp in enumerate(self.work_packages):
            at = ("work_packages", w)
            if wp.coordinator not in known:
                problems.append(((*at, "coordinator"), f"coordinator {wp.coordinator!r} is not a participant"))
            for k, m in enumerate(wp.milestones):
                mat = (*at, "milestones", k)
                if m.id in seen_ms:
                    problems.append(((*mat, "id"), f"duplicate milestone id {m.id!r}"))
                seen_ms.add(m.id)
                if not m.id.startswith(wp.id + "-"):
                    problems.append(((*mat, "id"), f"milestone {m.id} is listed under {wp.id}"))
                if m.source and source_ids and m.source not in source_ids:
                    problems.append(((*mat, "source"), f"unknown source {m.source!r}"))
                for j, item in enumerate(m.meetings):
                    listed = item.cities if isinstance(item, MeetingSeries) else [item.city]
                    field = "cities" if isinstance(item, MeetingSeries) else "city"
                    for city in listed:
                        if city is not None and city not in cities:
                            problems.append(
                                (
                                    (*mat, "meetings", j, field),
                                    (
                                        f"meeting city {city!r} is not a participant's city "
                                        f"(known: {', '.join(sorted(cities))})"
                                    ),
                                )
                            )
                    if item.source and source_ids and item.source not in source_ids:
                        problems.append(((*mat, "meetings", j, "source"), f"unknown source {item.source!r}"))
                for j, req in enumerate(m.inputs):
                    if isinstance(req.from_, list):
                        for pid in req.from_:
                            if pid not in known:
                                problems.append(
                                    ((*mat, "inputs", j, "from"), f"input {req.kind!r} from unknown partner {pid!r}")
                                )
        for field in ("author", "coordinator"):
            pid = getattr(self.deliverable.authorship, field)
            if pid not in ("wp-coordinator", "lead") and pid not in known:
                problems.append((("deliverable", "authorship", field), f"{field} {pid!r} is not a participant"))
        for i, p in enumerate(self.participants):
            for j, claim in enumerate(p.role_claims):
                if source_ids and claim.source not in source_ids:
                    problems.append(
                        (("participants", i, "role_claims", j, "source"), f"unknown source {claim.source!r}")
                    )
        return problems

    # -- lookups -------------------------------------------------------------------------
    def participant(self, pid: str) -> Participant:
        for p in self.participants:
            if p.id == pid:
                return p
        raise KeyError(pid)

    def milestones(self) -> list[Milestone]:
        return [m for wp in self.work_packages for m in wp.milestones]

    def milestone(self, milestone_id: str) -> Milestone:
        for m in self.milestones():
            if m.id.lower() == milestone_id.lower():
                return m
        raise KeyError(milestone_id)

    def work_package(self, wp_id: str) -> WorkPackage:
        for wp in self.work_packages:
            if wp.id == wp_id:
                return wp
        raise KeyError(wp_id)

    def deliverers(self, req: RequiredInput) -> list[Participant]:
        """Participants that must deliver a required input, in definition order."""
        if isinstance(req.from_, list):
            return [self.participant(pid) for pid in req.from_]
        roles = {"lead", "partner"} if req.from_ == "partner-cities" else {"lead", "partner", "observer"}
        return [p for p in self.participants if p.local_coordinator and p.role in roles]

    def recipients(self, milestone: Milestone) -> list[Participant]:
        """Who receives a milestone's report: every participant asked for an input, plus
        the WP coordinator, in definition order; observers only when `reports.observers`."""
        wp = self.work_package(milestone.wp_id)
        wanted = {wp.coordinator}
        for req in milestone.inputs:
            wanted.update(p.id for p in self.deliverers(req))
        return [
            p
            for p in self.participants
            if p.id in wanted and (p.role != "observer" or self.reports.observers or p.id == wp.coordinator)
        ]


def _duplicates(values: list[str]) -> list[tuple[int, str]]:
    """(index, value) of every repeat after its first occurrence."""
    seen: set[str] = set()
    repeats = []
    for i, v in enumerate(values):
        if v in seen:
            repeats.append((i, v))
        seen.add(v)
    return repeats
