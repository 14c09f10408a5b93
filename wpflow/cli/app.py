"""`wpflow` — the command line. Exit codes: 0 ok, 1 input or project invalid, 2 unreadable or unreachable.

Commands that only read files (`project`, `validate`, `template`, `status`) never import
Prefect, so they answer in well under a second.
"""

from __future__ import annotations

import atexit
import gc
from typing import Annotated, Any

import typer

from wpflow.cli.errors import (
    VERBOSE_FLAG,
    ErrorMappingGroup,
    describe_failure,
    failures_line,
    mail_unreachable,
    one_line,
)
from wpflow.cli.options import (
    EXIT_INVALID,
    EXIT_UNREADABLE,
    AllProjectsOpt,
    AsOfOpt,
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    fail,
    load_or_exit,
    parse_as_of,
    prepare_prefect,
    print_json,
    projects_or_exit,
)

app = typer.Typer(
    cls=ErrorMappingGroup,  # every failure: one line on stderr, exit 1 or 2 (`--verbose`: the traceback)
    name="wpflow",
    help="Run a cooperation project's milestones as Prefect pipelines: collect, validate, merge, report, notify.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    verbose: Annotated[
        bool, typer.Option(VERBOSE_FLAG, help="On failure, print the traceback too (also after the command).")
    ] = False,
) -> None:
    """Run a cooperation project's milestones as Prefect pipelines: collect, validate, merge, report, notify.

    Exit codes: 0 ok, 1 the input or the project is invalid, 2 a file or service could not be
    read, reached or written (one line on stderr; --verbose for the traceback)."""


project_app = typer.Typer(help="Show or check the project definition (project.yaml).", no_args_is_help=True)
app.add_typer(project_app, name="project")


# -- project ----------------------------------------------------------------------------
@project_app.command("show")
def project_show(project: ProjectOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Show participants, work packages, milestones, meetings and required inputs."""
    from wpflow.milestone.collect import inbox_line
    from wpflow.project.load import project_as_dict

    settings, proj = load_or_exit(project)
    if fmt is OutputFormat.json:
        print_json({**project_as_dict(proj), "inbox": str(settings.inbox_root)})
        return
    from wpflow.cli.terminal import print_project

    print_project(proj, inbox_line(settings.inbox_root))


@project_app.command("check")
def project_check(
    project: ProjectOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when there is any warning.")] = False,
    assumptions: Annotated[bool, typer.Option("--assumptions/--no-assumptions", help="Also list assumptions.")] = True,
) -> None:
    """List contradictions between the sources, gaps, and what the definition assumes."""
    from wpflow.project.check import check_project

    _, proj = load_or_exit(project)
    findings = [f for f in check_project(proj) if assumptions or f.severity == "warning"]
    warnings = [f for f in findings if f.severity == "warning"]
    if fmt is OutputFormat.json:
        print_json([f.model_dump() for f in findings])
    else:
        from wpflow.cli.terminal import print_findings

        print_findings(proj, findings)
    if strict and warnings:
        raise typer.Exit(EXIT_INVALID)


# -- run --------------------------------------------------------------------------------
@app.command("run")
def run(
    milestone: Annotated[str | None, typer.Argument(help="Milestone id, e.g. WP3-M2.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every milestone of the project.")] = False,
    project: ProjectOpt = None,
    as_of: AsOfOpt = None,
    direct: Annotated[bool, typer.Option("--direct", help="Call the stages without Prefect (no UI record).")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Run milestone pipelines: collect, validate, merge, render the DOCX report, e-mail it."""
    settings, proj = load_or_exit(project)
    day = parse_as_of(as_of)
    if all_ == (milestone is not None):
        raise fail("give a milestone id or --all (not both)", EXIT_INVALID)
    wanted = [m.id for m in proj.milestones()] if all_ else [str(milestone)]
    try:
        ids = [proj.milestone(i).id for i in wanted]
    except KeyError as exc:
        known = ", ".join(m.id for m in proj.milestones())
        raise fail(f"unknown milestone {exc.args[0]!r}; known: {known}", EXIT_INVALID) from None
    before = latest_versions(settings, proj.name, ids)
    outcomes, failures = run_pipelines(settings, ids, day, direct=direct)
    results = [
        {
            "milestone": o.milestone_id,
            "outcome": o.release,
            "version": o.version.version if o.version else None,
            "report": o.report.path if o.report else None,
            "message": o.message,
        }
        for o in outcomes
    ]
    if fmt is OutputFormat.json:
        print_json({"runs": results, "failed": list(failures), "errors": {i: one_line(e) for i, e in failures.items()}})
    else:
        for r in results:
            typer.echo(r["message"])
        issued = sum(1 for o in outcomes if o.new_version)
        after = latest_versions(settings, proj.name, list(failures))
        unsent = [i for i in failures if after[i] != before[i]]
        issued += len(unsent)  # written, their e-mails wait for the mail server
        where = f"; e-mails in {settings.outbox_dir}" if settings.mail_transport == "outbox" else ""
        waiting = f" ({len(unsent)} not yet e-mailed)" if unsent else ""
        typer.echo(
            f"{len(outcomes) + len(failures)} milestone(s): {issued} new report version(s){waiting} "
            f"in {settings.reports_dir}{where}"
        )
    if failures:
        for i, error in failures.items():
            if describe_failure(error)[0] != EXIT_UNREADABLE:  # the machine's failures: the one line below
                typer.echo(f"{i}: failed: {one_line(error)}", err=True)
        code, line = failures_line(failures)
        raise fail(line, code)


def latest_versions(settings, project: str, ids: list[str]) -> dict[str, int | None]:
    """Each milestone's latest report version number: a run that failed on the mail server has
    still written its version, and the summary line counts it."""
    from wpflow.workspace import workspace

    store = workspace(settings=settings).store
    return {i: (v.version if (v := store.latest_version(project, i)) else None) for i in ids}


def run_pipelines(settings, ids: list[str], as_of, *, direct: bool = False):
    """(outcomes, {milestone: the exception it failed with}): every milestone runs, a failure
    does not stop the others — except a folder or store out of reach, which would fail them all
    alike (raised: one line, exit 2). A mail server out of reach does not stop them: the reports
    are written and their e-mails go on the next run. The flows get the project as a value."""
    from wpflow.cli.terminal import milestone_progress
    from wpflow.workspace import workspace

    ws = workspace(settings=settings)
    ws.store  # noqa: B018 - opened first: a store at another schema refuses before anything starts
    if direct:
        from wpflow.milestone.direct_run import run_direct

        outcomes: list[Any] = []
        failures: dict[str, BaseException] = {}
        with milestone_progress(ids):
            for i in ids:
                try:
                    outcomes.append(run_direct(ws, i, as_of))
                except Exception as exc:  # recorded as failed in the store; the others still run
                    if describe_failure(exc)[0] == EXIT_UNREADABLE and not mail_unreachable(exc):
                        raise  # unwritable outputs, no store: the others would fail alike
                    failures[i] = exc
        return outcomes, failures
    with milestone_progress(ids, "starting Prefect"):
        api = prepare_prefect(settings)  # the API starts while the flows are imported
        from flows.milestone import all_milestones, milestone_pipeline
        from flows.starts import without_heartbeat

        with api.ready(), without_heartbeat():  # a CLI run is watched by the person who started it
            if len(ids) == 1:
                state = milestone_pipeline(ids[0], as_of, ws.project_ref, return_state=True)
                result: Any = {ids[0]: state.result(raise_on_failure=False)}
                if not state.is_completed() and not isinstance(result[ids[0]], BaseException):
                    result[ids[0]] = RuntimeError(state.message or "the run failed")
            else:
                result = all_milestones(ids, as_of, ws.project_ref, return_state=True).result(raise_on_failure=False)
    if isinstance(result, BaseException):  # the parent run itself failed (the API went away)
        raise result
    failures = {i: r for i, r in result.items() if isinstance(r, BaseException)}
    return [r for r in result.values() if not isinstance(r, BaseException)], failures


@app.command("status")
def status(
    project: ProjectOpt = None,
    all_projects: AllProjectsOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    wide: Annotated[bool, typer.Option("--wide", help="Every status in words (about 150 columns).")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Also the observers' columns.")] = False,
) -> None:
    """Show the partner × milestone matrix: on time, late, missing, invalid (or open, not yet due);
    with --all-projects one matrix per project of the installation."""
    from wpflow.milestone.status import reading_store, status_matrix

    chosen = projects_or_exit(project, all_projects)
    day = parse_as_of(as_of)
    # a store that cannot be opened: exit 2 (cli_errors)
    matrices = [(settings, proj, status_matrix(proj, reading_store(settings), day)) for settings, proj in chosen]
    if fmt is OutputFormat.json:
        if not all_projects:
            print_json({"as_of": day, "milestones": matrices[0][2]})
            return
        print_json(
            {
                "as_of": day,
                "projects": [
                    {"project": proj.name, "slug": settings.project_slug, "milestones": rows}
                    for settings, proj, rows in matrices
                ],
            }
        )
        return
    from wpflow.cli.terminal import print_status_matrix, print_status_wide

    for settings, proj, rows in matrices:
        if all_projects:
            typer.echo(f"\n{proj.name} ({settings.project_slug})")
        (print_status_wide if wide else print_status_matrix)(proj, rows, day, observers=all_)


def register_commands() -> None:
    """Commands whose modules live beside this one; registered here so `--help` lists them all."""
    from wpflow.cli.db import db_app
    from wpflow.cli.init import init_command
    from wpflow.cli.narrative import narrative_command
    from wpflow.cli.ops import (
        deadlines_command,
        deploy_command,
        serve_command,
        simulate_command,
    )
    from wpflow.cli.partners import partners_app
    from wpflow.cli.report import report_app
    from wpflow.cli.validate import template_command, validate_command

    app.command("init")(init_command)
    app.command("validate", help="Validate one partner file; exit 0 valid, 1 invalid, 2 unreadable.")(validate_command)
    app.command("template")(template_command)
    app.command("narrative")(narrative_command)
    app.command("serve")(serve_command)
    app.command("deploy")(deploy_command)
    app.command("deadlines")(deadlines_command)
    app.command("simulate")(simulate_command)
    app.add_typer(db_app, name="db")
    app.add_typer(report_app, name="report")
    app.add_typer(partners_app, name="partners")


register_commands()


def main() -> None:
    # Registered first, so it runs last, after Prefect's and our own exit handlers: the objects
    # of a command that ran Prefect, python-docx and matplotlib are never garbage-collected at
    # interpreter exit (about 1 s here), only freed with the process (docs/performance.md)
    atexit.register(gc.freeze)
    app()


if __name__ == "__main__":
    main()
