"""Operations commands: `serve`, `deploy`, `deadlines`, `simulate` (registered in wpflow.cli.app).

`simulate` never imports Prefect and sends nothing; the others talk to a Prefect API, so they
start or find it first and import Prefect after (`wpflow.cli.options.prepare_prefect`).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, cast

import typer

from wpflow.cli.options import (
    EXIT_INVALID,
    EXIT_UNREADABLE,
    AllProjectsOpt,
    AsOfOpt,
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    fail,
    parse_as_of,
    print_json,
    projects_or_exit,
)


def _log_to_console() -> None:
    """wpflow's own log lines (rejected files, started pipelines) on stderr; not propagated,
    since Prefect configures the root logger its own way once imported."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("wpflow")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


# -- simulate ---------------------------------------------------------------------------
def simulate_command(
    project: ProjectOpt = None,
    all_projects: AllProjectsOpt = False,
    from_: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD). Default: project start.")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD). Default: 3 weeks after the last due date.")
    ] = None,
    inbox: Annotated[
        Path | None, typer.Option("--inbox", help="Inbox to replay. Default: the project's (WPFLOW_INBOX).")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Replay the deadline ladder day by day against an inbox: what would be sent when.

    Each file is validated once; nothing is archived, stored, mailed or run. Arrival dates
    come from the inbox's arrivals.yaml, else from the file times. With --all-projects each
    project of the installation in turn, against its own inbox.
    """
    if inbox is not None and all_projects:
        raise fail("--inbox names one project's inbox: not with --all-projects", EXIT_INVALID)
    if inbox is not None and not inbox.is_dir():
        raise fail(f"inbox {inbox} is not a folder", EXIT_UNREADABLE)
    from wpflow.cli.terminal import print_timeline
    from wpflow.schedule.chase import timeline_rows

    chosen = projects_or_exit(project, all_projects)
    timelines = [(settings, proj, *simulated(settings, proj, from_, to, inbox)) for settings, proj in chosen]
    if fmt is OutputFormat.json:
        if not all_projects:
            print_json(timeline_rows(timelines[0][2]))
            return
        print_json(
            [
                {"project": proj.name, "slug": settings.project_slug, "timeline": timeline_rows(timeline)}
                for settings, proj, timeline, *_ in timelines
            ]
        )
        return
    for settings, proj, timeline, start, end, root in timelines:
        if all_projects:
            typer.echo(f"\n{proj.name} ({settings.project_slug})")
        print_timeline(proj, timeline, start, end, root, labels=run_labels(timeline))
        print_counts(timeline)


def simulated(settings, proj, from_: str | None, to: str | None, inbox: Path | None):
    """(timeline, first day, last day, inbox) of one project's rehearsal."""
    from wpflow.cli.terminal import working
    from wpflow.inputs.safety import InputLimits
    from wpflow.schedule.chase import inbox_deliveries, simulate

    start = parse_as_of(from_) or proj.start
    end = parse_as_of(to) or max(m.due for m in proj.milestones()) + timedelta(days=21)
    if end < start:
        raise fail(f"--to {end} is before --from {start}", EXIT_INVALID)
    root = inbox or settings.inbox_root
    with working(f"validating the inbox {root}"):
        deliveries = inbox_deliveries(proj, root, max_bytes=settings.max_file_bytes, limits=InputLimits.of(settings))
    return simulate(proj, deliveries, start, end), start, end, root


def print_counts(timeline) -> None:
    """The ladder's e-mails (one per recipient, as the daily runs would send them), then the
    runs; within 80 columns."""
    names = {
        "reminder": "reminders",
        "overdue": "overdue notices",
        "last_call": "last calls",
        "notice": "notices to co-ordinators",
        "escalation": "escalations",
    }
    letters = [f"{sum(len(a.recipients) for a in timeline if a.action == k)} {name}" for k, name in names.items()]
    versions = sum(1 for a in timeline if a.action == "run" and a.release == "report")
    empty = sum(1 for a in timeline if a.action == "run" and a.release == "empty")
    typer.echo("e-mails: " + ", ".join(letters[:3]) + ",")
    typer.echo(f"  {', '.join(letters[3:])}")
    typer.echo(f"runs: {versions} report version(s), {empty} 'nothing arrived'")


def run_labels(timeline) -> dict[int, str]:
    """'report v2' for the second report version of a milestone, 'nothing arrived' for a run
    that tells the coordinator and the lead instead: what each run of the rehearsal does."""
    labels: dict[int, str] = {}
    seen: dict[str, int] = {}
    for i, a in enumerate(timeline):
        if a.action != "run":
            continue
        if a.release == "report":
            seen[a.milestone] = seen.get(a.milestone, 0) + 1
            labels[i] = f"report v{seen[a.milestone]}"
        else:
            labels[i] = "nothing arrived"
    return labels


# -- deadlines --------------------------------------------------------------------------
def deadlines_command(
    project: ProjectOpt = None,
    all_projects: AllProjectsOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    direct: Annotated[bool, typer.Option("--direct", help="Without Prefect (no UI record).")] = False,
) -> None:
    """Apply today's deadline ladder for real: collect the inbox, send due reminders, notices and
    escalations through the configured mailer (each once), run the pipelines that are due; with
    --all-projects for every project of the installation, as the daily run does."""
    from wpflow.workspace import workspace

    chosen = projects_or_exit(project, all_projects)
    day = parse_as_of(as_of) or date.today()
    workspaces = [workspace(settings=settings) for settings, _ in chosen]
    for ws in workspaces:
        ws.store  # noqa: B018 - opened first: a store at another schema refuses before anything starts
    failed: Exception | None = None  # projects whose ladder failed: raised once the others are shown
    if direct:
        from wpflow.final.stages import update_final_reports
        from wpflow.schedule.chase import chase_day, collect_inbox

        results = []
        for ws in workspaces:
            collect_inbox(ws, day)
            results += chase_day(ws, day)
            update_final_reports(ws, day)
    else:
        from wpflow.cli.options import prepare_prefect

        api = prepare_prefect(chosen[0][0])  # the API starts while the flows are imported
        from flows.deadlines import deadline_ladder
        from flows.starts import without_heartbeat
        from wpflow.schedule.chase import LadderFailed

        with api.ready(), without_heartbeat():  # a command-line run is watched by whoever started it
            try:
                results = cast(list, deadline_ladder(day, [ws.project_ref for ws in workspaces]))
            except LadderFailed as exc:  # the others' actions are shown, then the first cause in one line
                results, failed = exc.results, exc
    rows = [
        {
            "project": r.project,
            "milestone": r.action.milestone,
            "action": r.action.action,
            "rung": r.action.rung,
            "sent": [addr for n in r.sent for addr in n.to],
            "skipped": r.skipped,
            "started": r.started,
        }
        for r in results
    ]
    if fmt is OutputFormat.json:
        print_json({"as_of": day, "actions": rows})
    for r in rows if fmt is not OutputFormat.json else []:
        what = (
            f"started {r['started'] or 'in process'}"
            if r["action"] == "run" and r["started"] is not None
            else "already run for these inputs"
            if r["action"] == "run"
            else f"sent to {', '.join(cast(list[str], r['sent'])) or 'nobody new'}"
        )
        where = f"{r['project']}  " if all_projects else ""
        typer.echo(f"{day}  {where}{r['milestone']:<8} {r['action']:<10} {r['rung']:<9} {what}")
    if fmt is not OutputFormat.json:
        typer.echo(f"{len(rows)} action(s) due on {day}")
    if failed is not None:
        raise failed


# -- deploy -----------------------------------------------------------------------------
def deploy_command(
    project: ProjectOpt = None,
    write: Annotated[
        bool, typer.Option("--write", help="Write prefect.yaml from the project instead of registering.")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if prefect.yaml differs from the project.")] = False,
    work_pool: Annotated[
        str | None,
        typer.Option(
            "--work-pool", help="Register for this work pool (workers run them); default: served by `wpflow serve`."
        ),
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", help="prefect.yaml to write or check.")] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Register the deployments of every project of the installation (or of --project alone): a
    pipeline per milestone, the final reports and the inbox watcher per project, one daily
    deadline ladder for all, on the Prefect server in PREFECT_API_URL; or write/check prefect.yaml."""
    from orchestration.deployments import PREFECT_YAML, render_prefect_yaml
    from wpflow.workspace import project_ref

    refs = [(proj, project_ref(settings.project)) for settings, proj in projects_or_exit(project, project is None)]
    target = file or PREFECT_YAML
    text = render_prefect_yaml(refs)
    if write:
        target.write_text(text, encoding="utf-8")
        if fmt is OutputFormat.json:
            print_json({"file": str(target), "written": True})
        else:
            typer.echo(f"wrote {target}")
        return
    if check:
        up_to_date = (target.read_text(encoding="utf-8") if target.exists() else "") == text
        if fmt is OutputFormat.json:
            print_json({"file": str(target), "up_to_date": up_to_date})
        if not up_to_date:
            raise fail(f"{target} is out of date; run `wpflow deploy --write`", EXIT_INVALID)
        if fmt is OutputFormat.table:
            typer.echo(f"{target} is up to date")
        return
    if not os.environ.get("PREFECT_API_URL"):
        raise fail("no Prefect server: set PREFECT_API_URL (or use `wpflow serve`, which starts one)", EXIT_UNREADABLE)
    from orchestration.deployments import runner_deployments

    registered = []
    try:
        for deployment in runner_deployments(refs, watcher=True, work_pool=work_pool):
            deployment_id = deployment.apply()
            registered.append({"flow": deployment.flow_name, "name": deployment.name, "id": str(deployment_id)})
            if fmt is OutputFormat.table:
                typer.echo(f"{deployment.flow_name}/{deployment.name}: {deployment_id}")
    except Exception as exc:  # unreachable server, rejected request: exit 2 with the reason
        import httpx

        if isinstance(exc, (httpx.HTTPError, OSError)):
            raise fail(f"cannot register at {os.environ['PREFECT_API_URL']}: {exc}", EXIT_UNREADABLE) from None
        raise
    if fmt is OutputFormat.json:
        print_json({"deployments": registered})


# -- serve ------------------------------------------------------------------------------
def serve_command(
    project: ProjectOpt = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="Port of the Prefect server started here (default WPFLOW_SERVE_PORT or 4200)."),
    ] = None,
    milestone: Annotated[
        list[str] | None,
        typer.Option("--milestone", "-m", help="Serve only these milestones (repeatable); default all."),
    ] = None,
    watch: Annotated[bool, typer.Option("--watch/--no-watch", help="Also run the inbox watchers.")] = True,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="Run the deployments on this many `prefect worker` processes of a work pool (the production "
            "topology, docs/deploy.md) instead of serving them in this process. The Prefect server keeps its "
            "runs beside a PostgreSQL store (WPFLOW_DATABASE_URL) in a database of its own.",
        ),
    ] = 0,
    work_pool: Annotated[str, typer.Option("--work-pool", help="The process work pool (with --workers).")] = "",
) -> None:
    """Run everything on this machine until Ctrl-C: a Prefect server (unless PREFECT_API_URL is
    set), every deployment of every project of the installation (or of --project alone) with its
    schedule, the daily ladder for all of them, and a watcher per project's inbox; with
    --workers N, the deployments on a work pool and N workers."""
    from orchestration.deployments import WORK_POOL
    from orchestration.serve import serve
    from wpflow.workspace import project_ref, workspace

    chosen = projects_or_exit(project, project is None)
    if workers and milestone:
        raise fail("--milestone and --workers: workers run every deployment of the project", EXIT_INVALID)
    if milestone:
        known = {m.id.lower(): m.id for _, proj in chosen for m in proj.milestones()}
        unknown = [m for m in milestone if m.lower() not in known]
        if unknown:
            raise fail(f"unknown milestone {unknown[0]!r}", EXIT_INVALID)
        milestone = [known[m.lower()] for m in milestone]
    if not workers:  # the topology creates and upgrades its PostgreSQL store itself (under the lock)
        for settings, _ in chosen:
            workspace(settings=settings).store  # noqa: B018 - a store at another schema refuses first
    _log_to_console()
    # `kill -USR1 <pid>` writes every thread's stack to stderr: what a stuck long-lived process needs
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        refs = [project_ref(settings.project) for settings, _ in chosen]
        if workers:
            from orchestration.topology import serve_topology

            serve_topology(refs, workers=workers, port=port, pool=work_pool or WORK_POOL, watch=watch)
        else:
            serve(refs, port=port, milestones=milestone or None, watch=watch)
    except (TimeoutError, RuntimeError) as exc:
        raise fail(str(exc), EXIT_UNREADABLE) from None
