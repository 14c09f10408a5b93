"""The shapes of the reports above the milestones: a work package's final report and the
project's joint final report, built from what the store kept of the milestone reports."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from schemas.deliverable import ReportFrame
from schemas.policies import Strict
from schemas.records import ComparativeTable, Record


# -- the project's source material for its final reports (`final_report:` in project.yaml) ------
class Objective(Strict):
    """One objective of the project, as a seed states it."""

    text: str = Field(description="The objective, one sentence")
    source: str | None = Field(None, description="Source id it is taken from")
    assumed: bool = Field(False, description="True when worded from the seeds rather than stated in them")


class ExpectedOutput(Strict):
    """An output the work plan expects from one milestone."""

    milestone: str = Field(description="Milestone id, e.g. 'WP4-M3'")
    output: str = Field(description="What the work plan expects the milestone to deliver")


class WPOutcomes(Strict):
    """A work package's objective, expected outputs and reported achievements."""

    wp: str = Field(description="Work package id, e.g. 'WP4'")
    objective: str = Field(description="The WP's objective in one sentence")
    source: str | None = Field(None, description="Source id of the objective and outputs")
    assumed: bool = Field(False, description="True when the seeds hold no work plan of this WP")
    note: str | None = Field(None, description="Where the wording comes from")
    outputs: list[ExpectedOutput] = Field(default_factory=list, description="Expected outputs per milestone")
    achievements: list[str] = Field(default_factory=list, description="Achievements as the overview reports them")


class FocusAreas(Strict):
    """The areas the project names for future cooperation."""

    items: list[str] = Field(default_factory=list, description="The focus areas")
    source: str | None = Field(None, description="Source id")
    note: str | None = Field(None, description="Where the source is not exact")


class FollowUpInitiative(Strict):
    """A follow-up or related initiative of the partner cities (Annex I)."""

    name: str = Field(description="Name of the initiative or project")
    objective: str = Field(description="The strategic objective it serves, as the annex groups it")
    status: str = Field(description="Its status or financing instrument, as the annex says")
    summary: str = Field(description="What it does, in one sentence")
    partners: str = Field(description="Cities and other partners involved, as the annex lists them")
    builds_on_project: bool = Field(False, description="True when the annex says it builds on this project's results")
    source: str | None = Field(None, description="Source id")


class Budget(Strict):
    """The project's budget as the seeds give it."""

    total_eur: float = Field(gt=0, description="Total budget in euro")
    erdf_rate: float = Field(gt=0, le=1, description="EU (ERDF) co-financing rate, 0.611 for 61.1 %")
    source: str | None = Field(None, description="Source id")
    quote: str | None = Field(None, description="The seed's words")
    assumed: bool = Field(False, description="True when the seed's figures are interpreted")
    note: str | None = Field(None, description="How the figures are read")


class FinalReportSources(Strict):
    """What the final reports say beyond the milestones' data (`final_report:` in project.yaml)."""

    objectives: list[Objective] = Field(default_factory=list, description="The project's objectives")
    horizontal_themes: list[str] = Field(default_factory=list, description="Horizontal themes of the project")
    work_packages: list[WPOutcomes] = Field(default_factory=list, description="Per WP: objective, outputs, results")
    focus_areas: FocusAreas | None = Field(None, description="Areas named for future cooperation")
    follow_up: list[FollowUpInitiative] = Field(default_factory=list, description="Follow-up initiatives")
    budget: Budget | None = Field(None, description="Total budget and ERDF rate; None when not given")
    reporting_sources: list[str] = Field(
        default_factory=list, description="Source ids that report what happened (as against work plans)"
    )

    def outcomes(self, wp_id: str) -> WPOutcomes | None:
        return next((w for w in self.work_packages if w.wp == wp_id), None)


MilestoneStanding = Literal["reported", "nothing arrived", "not reported", "not yet due"]


class InputDelivery(Record):
    """What one partner delivered (or owed) for one required input of a milestone."""

    partner: str = Field(description="Participant id")
    organisation: str = Field(description="Organisation name, as reports show a partner")
    city: str = Field(description="City")
    kind: str = Field(description="Input kind id")
    status: str = Field(description="on time, late, missing, invalid, or open (not yet due)")
    file_name: str | None = Field(None, description="File the report used (or the newest considered)")
    version: int | None = Field(None, description="Version of that file")
    sha256: str | None = Field(None, description="SHA-256 of that file")
    arrived: date | None = Field(None, description="The day the file arrived (its modification day)")


class MilestoneChapter(Record):
    """One milestone as its WP report tells it: the report in force and who delivered what, when."""

    milestone_id: str = Field(description="Milestone id")
    title: str = Field(description="Milestone title")
    start: date = Field(description="Period start")
    end: date = Field(description="Period end")
    due: date = Field(description="Due date of the inputs")
    activities: list[str] = Field(description="Activities of the milestone, per the project definition")
    standing: MilestoneStanding = Field(description="Whether a report was in force on the as-of day, and why not")
    report_version: int | None = Field(None, description="The milestone report version in force, if any")
    report_as_of: date | None = Field(None, description="The day that version describes")
    report_status: str | None = Field(None, description="complete / incomplete, as that version said")
    fingerprint: str | None = Field(None, description="Content fingerprint of that version")
    summary_kept: bool = Field(
        True, description="False when the version predates stored summaries: tables from its totals only"
    )
    deliveries: list[InputDelivery] = Field(description="Every required input and where it stood")
    kind_titles: dict[str, str] = Field(default_factory=dict, description="Title of each input kind asked for, by id")
    expected_outputs: list[str] = Field(default_factory=list, description="What the work plan expects it to deliver")
    key_figures: list[str] = Field(
        default_factory=list, description="Sentences computed from the kept summary of the report in force"
    )


class MergedTable(Record):
    """A comparative table of one input kind, merged across the WP's milestones that ask for it."""

    milestones: list[str] = Field(description="Milestones whose reports the rows come from")
    table: ComparativeTable = Field(description="One row per city (per city and milestone when several share the kind)")


class TimelineMeeting(Record):
    """A meeting of the project on its timeline."""

    month: str = Field(description="YYYY-MM, or 'not stated'")
    city: str = Field(description="Host city, or 'not stated'")
    topic: str = Field(description="What the meeting is for")
    wp_id: str = Field(description="Work package")
    milestone_id: str = Field(description="Milestone the meeting belongs to")
    assumed: bool = Field(description="Derived rather than stated in the sources")
    reported: bool = Field(False, description="Reported as held by a source that tells what happened, not a plan")


class InputUsed(Record):
    """The provenance of one partner file a milestone report used."""

    milestone_id: str = Field(description="Milestone id")
    partner: str = Field(description="Participant id")
    organisation: str = Field(description="Organisation name")
    kind: str = Field(description="Input kind id")
    file_name: str = Field(description="File name as the partner sent it")
    version: int = Field(description="Version of the partner's file")
    sha256: str = Field(description="SHA-256 of the file's bytes (its archive key)")
    report_version: int = Field(description="The milestone report version that used it")


class WPStory(Record):
    """Everything a work package's final report says, read from the store as of one day."""

    project: str = Field(description="Project name")
    project_title: str = Field(description="Project full title")
    programme: str = Field(description="Funding programme")
    wp_id: str = Field(description="Work package id")
    wp_title: str = Field(description="Work package title")
    objective: str = Field(description="The WP's theme, as the objective the report opens with")
    coordinator: str = Field(description="Organisation and city of the WP co-ordinator")
    start: date = Field(description="First day of the WP's first milestone")
    end: date = Field(description="Last day of the WP's last milestone: when its final report is due")
    as_of: date = Field(description="The day the story describes")
    milestones: list[MilestoneChapter] = Field(description="The WP's milestones in order")
    tables: list[MergedTable] = Field(description="Comparative tables merged across milestones, one per row kind")
    meetings: list[TimelineMeeting] = Field(description="The WP's meetings, in month order")
    source_notes: list[str] = Field(description="Contradictions and gaps in the sources about this WP")
    inputs: list[InputUsed] = Field(description="Every partner file the milestone reports used")
    status: Literal["final", "draft"] = Field(description="final from the WP's end on; a draft before")
    objective_assumed: bool = Field(False, description="True when the seeds hold no work plan of this WP")
    achievements: list[str] = Field(default_factory=list, description="The WP's achievements as a source reports them")
    frame: ReportFrame | None = Field(None, description="Publicity, authorship and the coordinator's narrative")


class ConsortiumMember(Record):
    """A participant as the final report lists it."""

    organisation: str = Field(description="Organisation name")
    city: str = Field(description="City")
    country: str = Field(description="Country")
    role: str = Field(description="lead, partner or observer, as the definition uses it")
    disputed: str | None = Field(None, description="What the sources say when they disagree on the role")
    assumed: bool = Field(False, description="True when the seeds do not name the organisation")


class CityWPCell(Record):
    """How one city stood across one WP's milestones: a count per status (`wpflow status`'s cells)."""

    city: str = Field(description="City")
    partner: str = Field(description="Participant id of the city's local co-ordinator")
    wp_id: str = Field(description="Work package id")
    counts: dict[str, int] = Field(description="Status → number of milestones (worst status per milestone)")


class SentVersion(Record):
    """One report version issued, for the annex."""

    report: str = Field(description="Milestone id, WP id, or 'final'")
    version: int = Field(description="Version number")
    as_of: date = Field(description="The day it describes")
    status: str = Field(description="complete / incomplete / final")
    recipients: int = Field(description="How many e-mails carried it")
    fingerprint: str = Field(description="Content fingerprint")


class ProjectStory(Record):
    """Everything the joint final report says: the consortium, a chapter per WP, the cities."""

    project: str = Field(description="Project name")
    project_title: str = Field(description="Project full title")
    programme: str = Field(description="Funding programme")
    start: date = Field(description="Project start")
    end: date = Field(description="Project end: when the final report is due")
    as_of: date = Field(description="The day the story describes")
    lead: str = Field(description="Organisation and city of the lead partner")
    members: list[ConsortiumMember] = Field(description="Partners and observers")
    consortium_notes: list[str] = Field(description="Where the sources disagree about the consortium or the project")
    wps: list[WPStory] = Field(description="One chapter per WP; the compiling WP comes last")
    compiler: str | None = Field(None, description="The WP that compiles the others (its chapter comes last)")
    cities: list[str] = Field(description="The cities (local co-ordinators' partners), in project order")
    matrix: list[CityWPCell] = Field(description="City × WP: milestones per status, as `wpflow status` counts them")
    meetings: list[TimelineMeeting] = Field(description="Every meeting of the project, in month order")
    versions: list[SentVersion] = Field(description="Every milestone and WP report version issued")
    status: Literal["final", "draft"] = Field(description="final from the project's end on; a draft before")
    material: FinalReportSources = Field(
        default_factory=FinalReportSources, description="Objectives, follow-up and budget from the project"
    )
    frame: ReportFrame | None = Field(None, description="Publicity, authorship and the coordinator's narrative")


class FinalIssue(Record):
    """A WP or final report version as issued: its identity and where it was written."""

    report: str = Field(description="WP id or 'final'")
    release: Literal["report", "draft"] = Field(description="Issued (and sent) or a draft (nothing sent)")
    version: int | None = Field(None, description="Version number; None for a draft")
    new_version: bool = Field(False, description="True when this run issued the version")
    fingerprint: str = Field(description="Content fingerprint")
    path: str = Field(description="The DOCX in force (reports/<id>.docx, or the draft)")
    pdf_path: str | None = Field(None, description="The PDF beside it, when LibreOffice made one")
    message: str = Field(description="One line for the run's state and the terminal")
