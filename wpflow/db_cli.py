"""`wpflow db`: the store's schema by hand — where it is, what is pending, upgrade or step back.

Opening a store already upgrades it; these commands are for a shared PostgreSQL server, where
an operator wants to see and apply a migration once, before the workers restart.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wpflow.cli_common import (
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    print_json,
    settings_for,
)

db_app = typer.Typer(help="The store's schema: current revision, history, upgrade, downgrade.", no_args_is_help=True)
RevisionArg = Annotated[str, typer.Argument(help="Target revision id, or 'head'.")]


def _engine(project):
    from wpflow.store_base import make_engine

    settings = settings_for(project)
    settings.outputs.mkdir(parents=True, exist_ok=True)
    return settings, make_engine(settings.db_url)


def _where(settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.db_url).render_as_string(hide_password=True)


@db_app.command("current")
def current_command(project: ProjectOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Print the database's revision and the newest one this wpflow knows."""
    from wpflow import db

    settings, engine = _engine(project)
    at, newest = db.current(engine), db.head()
    if fmt is OutputFormat.json:
        print_json({"database": _where(settings), "current": at, "head": newest, "up_to_date": at == newest})
    else:
        state = "up to date" if at == newest else f"behind: run `wpflow db upgrade` to reach {newest}"
        typer.echo(f"{_where(settings)}: revision {at or '(empty)'} — {state}")


@db_app.command("upgrade")
def upgrade_command(
    revision: RevisionArg = "head", project: ProjectOpt = None, fmt: FormatOpt = OutputFormat.table
) -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    from wpflow import db

    settings, engine = _engine(project)
    before = db.current(engine)
    after = db.upgrade(engine, revision)
    print_step(settings, before, after, fmt)


@db_app.command("downgrade")
def downgrade_command(revision: RevisionArg, project: ProjectOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Step the schema back to REVISION (data in dropped columns is lost)."""
    from wpflow import db

    settings, engine = _engine(project)
    before = db.current(engine)
    after = db.downgrade(engine, revision)
    print_step(settings, before, after, fmt)


def print_step(settings, before: str | None, after: str | None, fmt: OutputFormat) -> None:
    """`<database>: 0003 → 0004`, or the same as JSON (None for an empty database)."""
    if fmt is OutputFormat.json:
        print_json({"database": _where(settings), "before": before, "after": after})
    else:
        typer.echo(f"{_where(settings)}: {before or '(empty)'} → {after or '(empty)'}")


@db_app.command("history")
def history_command(fmt: FormatOpt = OutputFormat.table) -> None:
    """List the migrations, oldest first."""
    from wpflow import db

    if fmt is OutputFormat.json:
        print_json([{"revision": revision, "message": message} for revision, message in db.history()])
        return
    for revision, message in db.history():
        typer.echo(f"{revision}  {message}")


@db_app.command("revision")
def revision_command(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration changes.")],
    project: ProjectOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """For developers: write a new migration from the difference between the models in
    wpflow/store.py and the (upgraded) database. Review it before committing."""
    from wpflow import db

    _, engine = _engine(project)
    db.upgrade(engine)
    path = db.autogenerate(engine, message)
    if fmt is OutputFormat.json:
        print_json({"file": path})
    else:
        typer.echo(path)
