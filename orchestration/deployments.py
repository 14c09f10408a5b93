"""Which deployments exist: one place that prefect.yaml, `wpflow deploy` and `wpflow serve` read.

The milestones are data (project.yaml), so the deployments are generated, for every project of
the installation: per project a pipeline per milestone, its final reports and its inbox
watcher, named `<project-slug>-<what>` (`baltmet-inno-wp4-m3`: a deployment name cannot hold
the '/' of `baltmet-inno/WP4-M3`) and tagged with the slug; and one daily deadline ladder
(cron, 07:00) whose run covers every project — one per time zone when the projects' differ.
Each carries its project's folder as the `project` parameter (`projects` for the ladder),
relative to the checkout when inside it: prefect.yaml holds no machine's absolute path.
`render_prefect_yaml` writes them for `prefect deploy`; a test keeps the committed prefect.yaml
equal to that text. Prefect is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from flows.starts import deployment_name
from schemas.project import Project
from schemas.settings import ROOT
from wpflow.workspace import slug_of

PREFECT_YAML = ROOT / "prefect.yaml"
DEADLINE_CRON = "0 7 * * *"
FINAL_REPORT_HOUR = 8
WORK_POOL = "wpflow-process"
LADDER_ENTRYPOINT = "flows/deadlines.py:deadline_ladder"
WATCHER_ENTRYPOINT = "flows/watcher.py:inbox_watcher"

# (the project, its folder as a `project` parameter value)
ProjectRef = tuple[Project, str]


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment, independent of how it is registered (prefect.yaml, serve, deploy)."""

    name: str
    entrypoint: str  # "flows/milestone.py:milestone_pipeline", relative to the repository
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    cron: str | None = None
    rrule: str | None = None  # a one-off day (RFC 5545), e.g. a WP's end: its final report
    timezone: str | None = None

    @property
    def module_and_flow(self) -> tuple[str, str]:
        path, _, func = self.entrypoint.partition(":")
        return path.removesuffix(".py").replace("/", "."), func

    def load_flow(self):
        module, func = self.module_and_flow
        return getattr(importlib.import_module(module), func)


def installation_specs(projects: list[ProjectRef]) -> list[DeploymentSpec]:
    """Every deployment of the installation: each project's, in the order given, then the
    daily ladder covering them all."""
    return [spec for project, ref in projects for spec in deployment_specs(project, ref)] + ladder_specs(projects)


def deployment_specs(project: Project, ref: str) -> list[DeploymentSpec]:
    """The deployments of one project (`ref`: its folder as a `project` parameter value):
    milestones in project order, its final reports, its inbox watcher."""
    tag = slug_of(ref)  # the project's slug
    specs = [
        DeploymentSpec(
            name=deployment_name(ref, m.id),
            entrypoint="flows/milestone.py:milestone_pipeline",
            description=f"{project.name} · {m.id} {m.title} (due {m.due})",
            parameters={"milestone_id": m.id, "project": ref},
            tags=(tag, m.wp_id.lower(), "milestone"),
        )
        for m in project.milestones()
    ]
    specs += final_report_specs(project, ref, tag)
    specs.append(
        DeploymentSpec(
            name=deployment_name(ref, "inbox"),
            entrypoint=WATCHER_ENTRYPOINT,
            description=f"{project.name} · watch the partners' folders: a receipt per upload, pipelines when complete.",
            parameters={"project": ref},
            tags=(tag, "watcher"),
        )
    )
    return specs


def ladder_specs(projects: list[ProjectRef]) -> list[DeploymentSpec]:
    """The daily ladder at 07:00: one run for every project (`daily`); when the projects keep
    different time zones, one per zone (`daily-europe-berlin`), each at 07:00 there."""
    zones: dict[str, list[ProjectRef]] = {}
    for project, ref in projects:
        zones.setdefault(project.deadlines.timezone, []).append((project, ref))
    return [
        DeploymentSpec(
            name="daily" if len(zones) == 1 else f"daily-{re.sub(r'[^a-z0-9]+', '-', zone.lower())}",
            entrypoint=LADDER_ENTRYPOINT,
            description="Deadline ladder of "
            + ", ".join(project.name for project, _ in members)
            + ": reminders, notices, escalations and pipeline runs due today.",
            parameters={"projects": [ref for _, ref in members]},
            tags=(*(slug_of(ref) for _, ref in members), "deadlines"),
            cron=DEADLINE_CRON,
            timezone=zone,
        )
        for zone, members in zones.items()
    ]


def once_at(day: date) -> str:
    """An RRULE that fires once, at 08:00 on `day` (after the 07:00 ladder ran that day's milestones)."""
    return f"DTSTART:{day:%Y%m%d}T{FINAL_REPORT_HOUR:02d}0000\nRRULE:FREQ=DAILY;COUNT=1"


def final_report_specs(project: Project, ref: str, tag: str) -> list[DeploymentSpec]:
    """A WP's final report at its end date, the joint final report at the project's end. A
    later change (a late file, a corrected one) is a run by hand: `wpflow report` or "Run" in
    the UI; it sends only a new version."""
    from wpflow.final.project_story import project_release_day
    from wpflow.final.wp_story import wp_release_day

    specs = [
        DeploymentSpec(
            name=deployment_name(ref, f"{wp.id}-final-report"),
            entrypoint="flows/final_report.py:wp_final_report",
            description=f"{project.name} · {wp.id} {wp.title}: the WP's final report (at its end, "
            f"{wp_release_day(project, wp)})",
            parameters={"wp_id": wp.id, "project": ref},
            tags=(tag, wp.id.lower(), "final-report"),
            rrule=once_at(wp_release_day(project, wp)),
            timezone=project.deadlines.timezone,
        )
        for wp in project.work_packages
    ]
    specs.append(
        DeploymentSpec(
            name=deployment_name(ref, "final-report"),
            entrypoint="flows/final_report.py:final_report",
            description=f"{project.name} · the joint final report: every WP's, then the project's (at its end, "
            f"{project_release_day(project)})",
            parameters={"project": ref},
            tags=(tag, "final-report"),
            rrule=once_at(project_release_day(project)),
            timezone=project.deadlines.timezone,
        )
    )
    return specs


# -- prefect.yaml ------------------------------------------------------------------------
def render_prefect_yaml(projects: list[ProjectRef], *, work_pool: str = WORK_POOL) -> str:
    """The text of prefect.yaml for `prefect deploy --all` with a process work pool.

    No pull step is written: `prefect deploy` then records the directory it was run from,
    so the committed file holds no machine's absolute path.
    """
    import prefect

    deployments = []
    for spec in installation_specs(projects):
        entry: dict[str, Any] = {
            "name": spec.name,
            "description": spec.description,
            "entrypoint": spec.entrypoint,
            "tags": list(spec.tags),
            "parameters": dict(spec.parameters),
            "enforce_parameter_schema": True,
        }
        if spec.cron:
            entry["schedules"] = [{"cron": spec.cron, "timezone": spec.timezone, "active": True}]
        elif spec.rrule:
            entry["schedules"] = [{"rrule": spec.rrule, "timezone": spec.timezone, "active": True}]
        entry["work_pool"] = {"name": work_pool}
        deployments.append(entry)
    names = ", ".join(project.name for project, _ in projects)
    header = (
        f"# Generated from the project.yaml of {names} by `wpflow deploy --write`; do not edit by hand\n"
        "# (tests/orchestration/test_serve.py fails when this file and the projects disagree).\n"
        f"# Use: prefect work-pool create {work_pool} --type process && prefect deploy --all\n"
        f"#      && prefect worker start --pool {work_pool}   (or simply: wpflow serve)\n"
    )
    body = {"name": "wpflow", "prefect-version": prefect.__version__, "deployments": deployments}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def runner_deployments(
    projects: list[ProjectRef],
    *,
    milestones: list[str] | None = None,
    watcher: bool = False,
    work_pool: str | None = None,
) -> list[Any]:
    """`flow.to_deployment(...)` for each spec: the daily ladder always, the milestones (or only
    those named), the watchers only when asked (`wpflow serve` runs them in threads instead)."""
    from prefect.schedules import Cron, RRule

    wanted = {m.lower() for m in milestones} if milestones is not None else None
    out = []
    for spec in installation_specs(projects):
        milestone_id = spec.parameters.get("milestone_id")
        if milestone_id is not None and wanted is not None and milestone_id.lower() not in wanted:
            continue
        if spec.entrypoint == WATCHER_ENTRYPOINT and not watcher:
            continue
        schedules = (
            [Cron(spec.cron, timezone=spec.timezone)]
            if spec.cron
            else [RRule(spec.rrule, timezone=spec.timezone)]
            if spec.rrule
            else None
        )
        with contextlib.chdir(ROOT):  # entrypoints relative to the checkout, wherever we were started
            deployment = spec.load_flow().to_deployment(
                name=spec.name,
                description=spec.description,
                parameters=dict(spec.parameters),
                tags=list(spec.tags),
                schedules=schedules,
                enforce_parameter_schema=True,
                work_pool_name=work_pool,
                # a process worker otherwise runs each flow in an empty temporary folder, where the
                # entrypoint (flows/milestone.py) is not found: run it from this checkout
                job_variables={"working_dir": str(ROOT)} if work_pool else None,
            )
        out.append(deployment)
    return out
