"""The context of a run: a project, named by a small value, and the process's own settings.

A run's project travels as a string (`projects/baltmet-inno`, or an absolute folder) — a flow
parameter that every flow passes to its tasks, a deployment parameter, a CLI option's value —
never through `os.environ`. Each process turns (project, its own `Settings`) into a
`Workspace` once and keeps it: a worker, a Dask process or `wpflow serve` opens one store
engine and one mailer per project and configuration, not one per task. A second project is
just another value.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from schemas.project import Milestone, Project
from schemas.settings import ROOT, Settings, project_slug

if TYPE_CHECKING:
    from wpflow.mail.transports import Mailer
    from wpflow.store.store import Store


@dataclass
class Workspace:
    """What every stage needs, built once per process and context: the seams to the outside world.
    It remembers nothing about earlier runs: what a run may skip is read from the store."""

    settings: Settings

    @cached_property
    def project(self) -> Project:
        from wpflow.project.load import load_project_once

        return with_delivery_ways(load_project_once(self.settings.project), self.settings, lambda: self.store)

    @cached_property
    def store(self) -> Store:
        from wpflow.store.store import Store

        return Store.from_settings(self.settings)

    @cached_property
    def mailer(self) -> Mailer:
        from wpflow.mail.transports import mailer_from_settings

        return mailer_from_settings(self.settings)

    @property
    def slug(self) -> str:
        """`baltmet-inno`: the project in deployment, run and artifact names and output folders."""
        return self.settings.project_slug

    @property
    def project_ref(self) -> str:
        """The value that names this workspace's project to a flow, a task or a deployment."""
        return project_ref(self.settings.project)

    def milestone(self, milestone_id: str) -> Milestone:
        return self.project.milestone(milestone_id)


def with_delivery_ways(project: Project, settings: Settings, store: Callable[[], Store]) -> Project:
    """The project as this installation's messages describe delivering: each partner's page link
    (WPFLOW_PARTNER_URL, the links in the store) and the intake address (WPFLOW_INTAKE_ADDRESS)
    added to `delivery`. Read when the workspace is built: a link rotated later reaches the
    e-mails of a long-running process when it restarts."""
    update: dict[str, Any] = {}
    if settings.intake_address and not project.delivery.intake_email:
        update["intake_email"] = settings.intake_address
    if settings.partner_url and settings.partner_secret is not None:
        from wpflow.store.partner_links import page_url

        links = store().partner_links(project.name)
        update["pages"] = {pid: page_url(settings, project.name, pid, link.nonce) for pid, link in links.items()}
    if not update:
        return project
    return project.model_copy(update={"delivery": project.delivery.model_copy(update=update)})


def project_ref(folder: Path) -> str:
    """`projects/baltmet-inno` for a project inside this checkout (what prefect.yaml may hold:
    no machine's absolute path), the absolute folder otherwise."""
    folder = folder.resolve()
    return folder.relative_to(ROOT).as_posix() if folder.is_relative_to(ROOT) else str(folder)


def project_folder(ref: str | Path) -> Path:
    """The folder a project value names: relative values are relative to this checkout (a
    worker's current folder is not the one the deployment was registered from)."""
    return (ROOT / ref).resolve()  # an absolute `ref` replaces ROOT


def slug_of(ref: str | Path) -> str:
    """The slug of the project a value names (`projects/baltmet-inno` → `baltmet-inno`)."""
    return project_slug(project_folder(ref))


def settings_key(settings: Settings) -> str:
    """A digest of every setting, secrets included (two settings that differ only in the SMTP
    password are two mailers); the secrets themselves never leave this function."""

    def plain(value: Any) -> Any:
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)

    text = json.dumps(settings.model_dump(), default=plain, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


_WORKSPACES: dict[str, Workspace] = {}
_LOCK = threading.Lock()  # mapped tasks run in threads: one workspace per key, not one per thread


def workspace(project: str | Path | None = None, *, settings: Settings | None = None) -> Workspace:
    """The process's Workspace for `project` (default: the settings' own) under `settings`
    (default: this process's, from WPFLOW_* and .env), built once per distinct pair."""
    settings = settings or Settings()
    # one spelling per folder, so `--project ./x`, a deployment's `x` and WPFLOW_PROJECT share it
    folder = project_folder(project) if project is not None else settings.project.resolve()
    settings = settings.for_project(folder)  # WPFLOW_INBOX is the configured project's only
    if settings.project != folder:
        settings = settings.model_copy(update={"project": folder})
    key = settings_key(settings)
    with _LOCK:
        if key not in _WORKSPACES:
            _WORKSPACES[key] = Workspace(settings)
        return _WORKSPACES[key]


def forget_workspaces() -> None:
    """Drop this process's workspaces (their store engines and mailers go with the last
    reference): a benchmark running many projects in one process keeps its memory flat."""
    with _LOCK:
        _WORKSPACES.clear()


def configured_project() -> str:
    """The project this process is configured for (WPFLOW_PROJECT, else the bundled one), as a
    value: what a flow run without a `project` parameter uses."""
    return project_ref(Settings().project)
