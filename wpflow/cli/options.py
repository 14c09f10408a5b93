"""Options every command shares, so `--project`, `--as-of` and `--format` mean one thing."""

from __future__ import annotations

import enum
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from orchestration.ephemeral_api import PrefectApi

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
VERBOSE_KEY = "wpflow.verbose"  # set in the click context's meta by `--verbose` (cli_errors)


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


ProjectOpt = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-p",
        help="Project folder (holds project.yaml), or a project's slug in the folder of projects "
        "(WPFLOW_PROJECTS). Default: WPFLOW_PROJECT, else the bundled BaltMet Inno.",
    ),
]
AllProjectsOpt = Annotated[
    bool,
    typer.Option("--all-projects", help="Every project of the installation (WPFLOW_PROJECTS), one after the other."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Pretend today is this date (YYYY-MM-DD), to rehearse the timeline."),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, json for programs.")]


def parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        # exit 1, the input is invalid (2 is for what cannot be read or reached)
        raise fail(f"--as-of {value!r} is not a date as YYYY-MM-DD", EXIT_INVALID) from None


def settings_for(project: Path | None):
    """Settings from WPFLOW_* env vars, with --project overriding the project folder (and
    WPFLOW_INBOX then left to the project it belongs to, `Settings.for_project`)."""
    from schemas.settings import Settings
    from wpflow.project.installation import named_project

    settings = Settings()
    return settings.for_project(named_project(settings, project)) if project else settings


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int) -> typer.Exit:
    """Print an error to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def load_or_exit(project_dir: Path | None):
    """The project, or exit 1 with every located error (exit 2 if the file cannot be read)."""
    from wpflow.project.load import ProjectErrors, load_project_once

    settings = settings_for(project_dir)
    try:
        return settings, load_project_once(settings.project)
    except ProjectErrors as exc:
        raise project_errors_exit(exc) from None


def projects_or_exit(project_dir: Path | None, all_projects: bool) -> list[tuple[Any, Any]]:
    """(settings, project) for `--project` (or the configured one), or for every project of
    the installation with `--all-projects`; exit 1 naming every problem (two projects with one
    name or slug included), 2 when a project.yaml cannot be read."""
    if not all_projects:
        return [load_or_exit(project_dir)]
    if project_dir is not None:
        raise fail("give --project or --all-projects, not both", EXIT_INVALID)
    from schemas.settings import Settings
    from wpflow.project.installation import installation_projects, projects_folder
    from wpflow.project.load import ProjectErrors

    settings = Settings()
    try:
        found = installation_projects(settings)
    except ProjectErrors as exc:
        raise project_errors_exit(exc) from None
    if not found:
        raise fail(f"no project (a folder with a project.yaml) in {projects_folder(settings)}", EXIT_INVALID)
    return [(settings.for_project(folder), project) for folder, project in found]


def project_errors_exit(exc) -> typer.Exit:
    """Every located error of a ProjectErrors on stderr; exit 2 if a file cannot be read, else 1."""
    for err in exc.errors:
        typer.echo(f"error: {err}", err=True)
    unreadable = any(e.message.startswith("cannot read") for e in exc.errors)
    return typer.Exit(EXIT_UNREADABLE if unreadable else EXIT_INVALID)


def verbose() -> bool:
    """True when `--verbose` was given to the command being run."""
    import click

    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(VERBOSE_KEY))


def prepare_prefect(settings) -> PrefectApi:
    """Start this command's Prefect API (`orchestration.ephemeral_api.start_ephemeral_api`, its
    home under outputs/prefect so a later `prefect server start` with that home lists the demo's
    runs and artifacts) while the caller imports the flows. Call before Prefect is imported; run
    the flows inside the returned API's `ready()`, which waits until it answers and gives this
    process's Prefect its settings."""
    from orchestration.ephemeral_api import start_ephemeral_api

    return start_ephemeral_api((settings.outputs / "prefect").resolve(), verbose=verbose())  # dies with us
