"""Settings as the environment carries them: the `WPFLOW_*` variables of a `Settings`, for the
`configure` fixture (this process) and for the processes a test starts (`child_env`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from schemas.settings import Settings


def env_value(value: Any) -> str:
    """A setting's value as its `WPFLOW_*` variable spells it."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, Path) else f"{value}"


def as_env(settings: Settings, names: set[str] | None = None) -> dict[str, str]:
    """The `WPFLOW_*` variables of `settings`: of the fields in `names`, by default of those
    given or not at their default (read from the environment, say)."""
    chosen = settings.model_fields_set | set(settings.model_dump(exclude_defaults=True)) if names is None else names
    values = {name: getattr(settings, name) for name in sorted(chosen)}
    return {f"WPFLOW_{name.upper()}": env_value(value) for name, value in values.items() if value is not None}


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a process a test starts (a `wpflow` command, a Python child): this
    process's, without its own `WPFLOW_*` settings and Prefect API, plus `settings`' and `extra`."""
    own = {k: v for k, v in os.environ.items() if not k.startswith(("WPFLOW_", "PREFECT_API_URL"))}
    return {**own, **as_env(settings), "WPFLOW_PROJECT": env_value(settings.project), **extra}
