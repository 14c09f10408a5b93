"""The shapes of the reports above the milestones: a work package's final report and the
project's joint final report, built from what the store kept of the milestone reports."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from schemas.records import ComparativeTable, Record

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


class ConsortiumMember(Record):
    """A participant as the final report lists it."""

    organisation: str = Field(description="Organisation name")
    city: str = Field(description="City")
    country: str = Field(description="Country")
    role: str = Field(description="lead, partner or observer, as the definition uses it")
    disputed: str | None = Field(None, description="What the sources say when they disagree on the role")


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
