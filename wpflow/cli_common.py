"""Options every command shares, so `--project`, `--as-of` and `--format` mean one thing."""

from __future__ import annotations

import enum
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"


ProjectOpt = Annotated[
    Path | None,
    typer.Option("--project", "-p", help="Project folder (holds project.yaml). Default: bundled BaltMet Inno."),
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
        raise typer.BadParameter(f"{value!r} is not a date as YYYY-MM-DD", param_hint="--as-of") from None


def settings_for(project: Path | None):
    """Settings from WPFLOW_* env vars, with --project overriding the project folder."""
    from schemas.settings import Settings

    return Settings(project=project) if project else Settings()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int) -> typer.Exit:
    """Print an error to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
