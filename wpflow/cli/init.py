"""`wpflow init DIR`: a new project folder from the secretariat's partner list and work plan,
asking on the terminal for what they leave out (`--no-input`: an error naming where instead)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from wpflow.cli.options import EXIT_INVALID, EXIT_UNREADABLE, FormatOpt, OutputFormat, fail, print_json
from wpflow.init.columns import KIND_COLUMNS, MILESTONE_COLUMNS, PARTNER_COLUMNS, PROJECT_FIELDS, accepted, shown
from wpflow.init.dates import DATE_FORMS


def _option(flag: str, text: str) -> Any:
    return typer.Option(flag, help=text)


def init_command(
    directory: Annotated[Path, typer.Argument(help="The new project's folder (made if missing).")],
    partners: Annotated[
        Path,
        _option(
            "--partners",
            "Partner list (XLSX or CSV; sheet Partners or the first): a row per organisation. Headers: "
            f"{accepted(PARTNER_COLUMNS)}. Role is lead, partner or observer; id or name is needed.",
        ),
    ],
    workplan: Annotated[
        Path,
        _option(
            "--workplan",
            "Work plan (XLSX or CSV; sheet Milestones or the first): a row per milestone. Headers: "
            f"{accepted(MILESTONE_COLUMNS)}. Dates as {DATE_FORMS}. In a workbook optionally a Project sheet "
            f"of field/value rows, the fields: {accepted(PROJECT_FIELDS)}; and a Kinds sheet of input kinds of "
            f"the project's own, a row per field: {', '.join(shown(n) for n in KIND_COLUMNS)} (docs/new-project.md).",
        ),
    ],
    name: Annotated[str | None, _option("--name", "Short name of the project (in e-mail subjects).")] = None,
    title: Annotated[str | None, _option("--title", "Full title; default the short name.")] = None,
    programme: Annotated[str | None, _option("--programme", "Funding programme.")] = None,
    programme_period: Annotated[
        str | None, _option("--programme-period", "Programme (programming) period, e.g. 2007-2013.")
    ] = None,
    start: Annotated[str | None, _option("--start", "Project start (a date); default the first milestone's.")] = None,
    end: Annotated[str | None, _option("--end", "Project end (a date); default the last milestone's.")] = None,
    secretariat_email: Annotated[
        str | None, _option("--secretariat-email", "Sender address of wpflow's e-mails.")
    ] = None,
    timezone: Annotated[str | None, _option("--timezone", "Time zone of the daily deadline run.")] = None,
    assumed: Annotated[
        bool, _option("--assumed", "The work plan is assumed, not stated by the sources: every milestone says so.")
    ] = False,
    assumed_note: Annotated[str | None, _option("--assumed-note", "Why the work plan is assumed.")] = None,
    no_input: Annotated[
        bool, _option("--no-input", "Never ask: a missing value is an error naming file, sheet, row and column.")
    ] = False,
    force: Annotated[bool, _option("--force", "Replace an existing project.yaml in DIR.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Make a new project folder (project.yaml, inbox/<partner>/) from a partner list and a work plan."""
    from schemas.settings import Settings
    from wpflow.init.project_folder import build_project, kinds_yaml, project_yaml, refuse_existing, write_project
    from wpflow.init.sheets import InitErrors
    from wpflow.inputs.safety import Unreadable
    from wpflow.project.check import check_project

    given = {
        "name": name,
        "title": title,
        "programme": programme,
        "programme_period": programme_period,
        "start": start,
        "end": end,
        "secretariat_email": secretariat_email,
        "timezone": timezone,
        "assumed": assumed,
        "assumed_note": assumed_note,
    }
    for path in (partners, workplan):
        if not path.is_file():
            raise fail(f"cannot read {path}: no such file", EXIT_UNREADABLE)
    try:
        refuse_existing(directory, force=force)
        made = build_project(partners, workplan, given, None if no_input else ask_on_terminal)
        project = made.project
        text = project_yaml(project, [partners.name, workplan.name])
        kinds = kinds_yaml(made.kinds, workplan.name) if made.kinds else None
        inbox = Settings().for_project(directory).inbox_root  # WPFLOW_INBOXES: <inboxes>/<slug>
        folders = write_project(directory, text, project, kinds_text=kinds, force=force, inbox_root=inbox)
    except InitErrors as exc:
        for err in exc.errors:
            typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except Unreadable as exc:
        raise fail(str(exc), EXIT_UNREADABLE) from None
    findings = check_project(project)
    warnings = sum(f.severity == "warning" for f in findings)
    summary = {
        "project": str(directory / "project.yaml"),
        "name": project.name,
        "participants": len(project.participants),
        "work_packages": len(project.work_packages),
        "milestones": len(project.milestones()),
        "kinds": [k.id for k in made.kinds],
        "inbox_root": str(inbox),
        "inbox": [str(f) for f in folders],
        "warnings": warnings,
        "assumptions": len(findings) - warnings,
    }
    if fmt is OutputFormat.json:
        print_json(summary)
        return
    typer.echo(
        f"wrote {summary['project']}: {project.name}, {summary['participants']} participants, "
        f"{summary['work_packages']} work packages, {summary['milestones']} milestones; "
        f"an inbox folder per partner in {inbox}"
    )
    if made.kinds:
        typer.echo(
            f"wrote {directory / 'kinds.yaml'}: the work plan's own input kinds ({', '.join(k.id for k in made.kinds)})"
        )
    typer.echo(
        f"`wpflow project check --project {directory}`: {warnings} warning(s), {summary['assumptions']} assumption(s)"
    )


def ask_on_terminal(question: str, default: str | None, parse: Callable[[str], Any]) -> Any:
    """Ask until the answer parses; a wrong answer is said and asked again (the prompt's own loop)."""

    def checked(answer: str) -> Any:
        try:
            return parse(answer)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    return typer.prompt(question, default=default, value_proc=checked)
