"""The heading every issued document opens with — the project, its title and its programme —
named once, so a milestone report, a WP report and the joint final report always agree."""

from __future__ import annotations

from typing import TypedDict

from schemas.project import Project


class Header(TypedDict):
    """The fields `WPSummary`, `WPStory` and `ProjectStory` share, as keyword arguments."""

    project: str
    project_title: str
    programme: str


def document_header(project: Project) -> Header:
    """The project's heading; the programme followed by its period in brackets when one is stated."""
    period = project.programme.period
    return Header(
        project=project.name,
        project_title=project.title,
        programme=project.programme.name + (f" ({period})" if period else ""),
    )
