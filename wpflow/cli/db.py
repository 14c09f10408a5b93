"""`wpflow db`: the store's schema by hand — where it is, what is pending, upgrade or step back.

Opening a SQLite store upgrades it; a PostgreSQL store is upgraded only here, once, before the
workers (re)start: they refuse a database at another schema (`wpflow.store.migrate`). Two upgrades at once
are safe: the second waits for the first's lock, then finds nothing to do.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wpflow.cli.options import (
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    print_json,
    settings_for,
)

db_app = typer.Typer(help="The store's schema: current revision, history, upgrade, downgrade.", no_args_is_help=True)
RevisionArg = Annotated[str, typer.Argument(help="Target revision id, or 'head'.")]
DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="The store's SQLAlchemy URL. Default: WPFLOW_DATABASE_URL, else SQLite."),
]


def _engine(project, database_url: str | None = None):
    from wpflow.store.engine import make_engine

    settings = settings_for(project)
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    settings.outputs.mkdir(parents=True, exist_ok=True)
    return settings, make_engine(settings.db_url)


def _waiting() -> None:
    typer.echo("another `wpflow db upgrade` or `downgrade` holds the migration lock: waiting for it", err=True)


def _where(settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.db_url).render_as_string(hide_password=True)


@db_app.command("current")
def current_command(
    project: ProjectOpt = None, database_url: DatabaseOpt = None, fmt: FormatOpt = OutputFormat.table
) -> None:
    """Print the database's revision and the newest one this wpflow knows."""
    from wpflow.store import migrate

    settings, engine = _engine(project, database_url)
    at, newest = migrate.current(engine), migrate.head()
    if fmt is OutputFormat.json:
        print_json({"database": _where(settings), "current": at, "head": newest, "up_to_date": at == newest})
    else:
        if at == newest:
            state = "up to date"
        elif at is not None and at not in migrate.known():
            state = f"newer than this wpflow (its newest is {newest}): install the wpflow that upgraded it"
        else:
            state = f"behind: run `wpflow db upgrade` to reach {newest}"
        typer.echo(f"{_where(settings)}: revision {at or '(empty)'} — {state}")


@db_app.command("upgrade")
def upgrade_command(
    revision: RevisionArg = "head",
    project: ProjectOpt = None,
    database_url: DatabaseOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Apply the migrations up to REVISION (default: the newest), under the migration lock."""
    from wpflow.store import migrate

    settings, engine = _engine(project, database_url)
    print_step(settings, migrate.upgrade(engine, revision, on_wait=_waiting), fmt)


@db_app.command("downgrade")
def downgrade_command(
    revision: RevisionArg,
    project: ProjectOpt = None,
    database_url: DatabaseOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Step the schema back to REVISION (data in dropped columns is lost)."""
    from wpflow.store import migrate

    settings, engine = _engine(project, database_url)
    print_step(settings, migrate.downgrade(engine, revision, on_wait=_waiting), fmt)


def print_step(settings, step, fmt: OutputFormat) -> None:
    """`<database>: 0003 → 0004` (or `…: at 0004 already, nothing to do`), or the same as JSON
    (None for an empty database; `changed` false when another process had done it)."""
    before, after = step
    if fmt is OutputFormat.json:
        print_json({"database": _where(settings), "before": before, "after": after, "changed": before != after})
    elif before == after:
        typer.echo(f"{_where(settings)}: at {after or '(empty)'} already, nothing to do")
    else:
        typer.echo(f"{_where(settings)}: {before or '(empty)'} → {after or '(empty)'}")


@db_app.command("history")
def history_command(fmt: FormatOpt = OutputFormat.table) -> None:
    """List the migrations, oldest first."""
    from wpflow.store import migrate

    if fmt is OutputFormat.json:
        print_json([{"revision": revision, "message": message} for revision, message in migrate.history()])
        return
    for revision, message in migrate.history():
        typer.echo(f"{revision}  {message}")


@db_app.command("revision")
def revision_command(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration changes.")],
    project: ProjectOpt = None,
    database_url: DatabaseOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """For developers: write a new migration from the difference between the models in
    wpflow/store/orm.py and the (upgraded) database. Review it before committing."""
    from wpflow.store import migrate

    _, engine = _engine(project, database_url)
    migrate.upgrade(engine)
    path = migrate.autogenerate(engine, message)
    if fmt is OutputFormat.json:
        print_json({"file": path})
    else:
        typer.echo(path)
