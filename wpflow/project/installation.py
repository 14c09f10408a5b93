"""The projects of one installation: a folder of projects, each subfolder with a project.yaml.

A programme secretariat runs several consortia side by side. `wpflow serve`, the daily ladder
and `--all-projects` cover every project of the installation; a command without a project
runs the configured one (WPFLOW_PROJECT). Two projects of one installation must differ in
their slug (folder names, deployments, artifact keys) and in their name (the store keys rows
by it), or their reports and e-mails would mix: refused with both folders named.
"""

from __future__ import annotations

from pathlib import Path

from schemas.project import Project
from schemas.settings import ROOT, Settings, project_slug
from wpflow.project.load import PROJECT_FILE, ProjectError, ProjectErrors, load_project


def projects_folder(settings: Settings) -> Path | None:
    """WPFLOW_PROJECTS; else the checkout's projects/ — unless WPFLOW_PROJECT alone is set
    (a single project kept elsewhere), then None: that project is the installation."""
    if settings.projects is not None:
        return settings.projects
    if "project" in settings.model_fields_set and not settings.project.resolve().is_relative_to(ROOT / "projects"):
        return None
    return ROOT / "projects"


def project_folders(settings: Settings) -> list[Path]:
    """Every project folder of the installation, in name order; WPFLOW_PROJECT first when it
    is set and lies outside the folder of projects."""
    folder = projects_folder(settings)
    found = sorted(p.parent.resolve() for p in folder.glob(f"*/{PROJECT_FILE}")) if folder is not None else []
    configured = settings.project.resolve()
    if configured not in found and (folder is None or "project" in settings.model_fields_set):
        found.insert(0, configured)
    return found


def installation_projects(settings: Settings) -> list[tuple[Path, Project]]:
    """(folder, project) for every project of the installation, each loaded and checked
    against the others; raises ProjectErrors (every problem at once)."""
    loaded: list[tuple[Path, Project]] = []
    errors: list[ProjectError] = []
    for folder in project_folders(settings):
        try:
            loaded.append((folder, load_project(folder)))
        except ProjectErrors as exc:
            errors += exc.errors
    errors += clashes(loaded)
    if errors:
        raise ProjectErrors(errors)
    return loaded


def clashes(projects: list[tuple[Path, Project]]) -> list[ProjectError]:
    """Two projects with one slug or one name: their folders, reports or store rows would mix."""
    errors = []
    slugs: dict[str, Path] = {}
    names: dict[str, Path] = {}
    for folder, project in projects:
        for seen, value, what in ((slugs, project_slug(folder), "slug"), (names, project.name, "name")):
            if value in seen:
                errors.append(
                    ProjectError(
                        folder / PROJECT_FILE,
                        None,
                        "name" if what == "name" else None,
                        f"the project {what} {value!r} is already {seen[value]}'s: rename one of the two",
                    )
                )
            seen.setdefault(value, folder)
    return errors


def named_project(settings: Settings, value: Path) -> Path:
    """The folder `--project` names: a folder (relative to the working folder), or the slug of
    a project of the installation (`--project spb-innoreg`)."""
    if value.exists() or len(value.parts) != 1:
        return value
    return next((f for f in project_folders(settings) if project_slug(f) == value.name.lower()), value)
