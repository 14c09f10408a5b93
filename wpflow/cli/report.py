"""`wpflow report wp WP4` and `wpflow report project`: the final reports, from the store.

Like `wpflow run`: through Prefect (an ephemeral API, runs recorded under outputs/prefect) or
`--direct`; `--as-of` rehearses a day (before the WP's or the project's end: a draft, nothing
sent). Only the store is read — the milestone reports' kept summaries — so run the milestones
first (`wpflow run --all`).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from wpflow.cli.options import (
    EXIT_INVALID,
    AsOfOpt,
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    fail,
    load_or_exit,
    parse_as_of,
    prepare_prefect,
    print_json,
)

report_app = typer.Typer(
    help="The final reports above the milestones: a WP's final report, the project's joint final report.",
    no_args_is_help=True,
)
DirectOpt = Annotated[bool, typer.Option("--direct", help="Call the stages without Prefect (no UI record).")]


@report_app.command("wp")
def report_wp(
    wp_id: Annotated[str, typer.Argument(help="Work package id, e.g. WP4.")],
    project: ProjectOpt = None,
    as_of: AsOfOpt = None,
    direct: DirectOpt = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """A WP's final report: its milestones in order, who delivered what and when, the merged
    tables, the meetings, the sources' contradictions and every file used; e-mailed once per
    content to the WP's partners from the WP's end on (a draft before)."""
    settings, proj = load_or_exit(project)
    known = [wp.id for wp in proj.work_packages]
    wanted = next((k for k in known if k.lower() == wp_id.lower()), None)
    if wanted is None:
        raise fail(f"unknown work package {wp_id!r}; known: {', '.join(known)}", EXIT_INVALID)
    show(run_reports(settings, project, [wanted], parse_as_of(as_of), direct=direct, whole=False), fmt)


@report_app.command("project")
def report_project(
    project: ProjectOpt = None,
    as_of: AsOfOpt = None,
    direct: DirectOpt = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Every WP's final report, then the joint final report built from them: the consortium, a
    chapter per WP, the cities across the WPs, the meetings and every version issued; e-mailed
    once per content to every partner and observer from the project's end on (a draft before)."""
    settings, proj = load_or_exit(project)
    ids = [wp.id for wp in proj.work_packages]
    show(run_reports(settings, project, ids, parse_as_of(as_of), direct=direct, whole=True), fmt)


def run_reports(settings, project_dir, wp_ids: list[str], as_of, *, direct: bool, whole: bool) -> list[Any]:
    """The final report(s), in this process or as Prefect flow runs; the flows get the project
    as a value (their `project` parameter)."""
    from wpflow.workspace import workspace

    ws = workspace(settings=settings)
    if direct:
        from wpflow.final.stages import report_direct

        return report_direct(ws, wp_ids, as_of, project=whole)
    api = prepare_prefect(settings)  # the API starts while the flows are imported
    from flows.final_report import final_report, wp_final_report
    from flows.starts import without_heartbeat

    ref = ws.project_ref
    with api.ready(), without_heartbeat():  # short runs watched by whoever started them: see `wpflow run`
        state: Any = (
            final_report(as_of, ref, return_state=True)
            if whole
            else wp_final_report(wp_ids[0], as_of, ref, return_state=True)
        )
    result = state.result(raise_on_failure=False)
    if isinstance(result, Exception):
        raise result
    if not state.is_completed():
        raise fail(state.message or "the final report failed", EXIT_INVALID)
    return result if isinstance(result, list) else [result]


def show(issues: list[Any], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json({"reports": [i.model_dump(mode="json") for i in issues]})
        return
    for i in issues:
        typer.echo(i.message)
    where = {str(os.path.dirname(i.path)) for i in issues}
    typer.echo(f"{len(issues)} final report(s) in {', '.join(sorted(where))}")
