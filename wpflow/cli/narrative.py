"""`wpflow narrative WP4-M3` (or WP4, or final): start the coordinator's text of a report from a skeleton.

The file is Markdown in the project folder (`narratives/<report-id>.md`); what the coordinator
writes under Summary, Conclusions and Next steps goes into the report, and saving it makes
the report's next version. The skeleton's key figures come from the newest issued version.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wpflow.cli.options import (
    EXIT_INVALID,
    EXIT_UNREADABLE,
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    fail,
    load_or_exit,
    print_json,
)


def narrative_command(
    report_id: Annotated[
        str, typer.Argument(help="The report: a milestone (WP4-M3), a work package (WP4) or final.", metavar="REPORT")
    ],
    project: ProjectOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the file even if it exists (the coordinator's text is lost).")
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Write a skeleton of the coordinator's narrative for a report — a milestone report
    (WP4-M3), a work package's final report (WP4) or the joint final report (final):
    <project>/narratives/<REPORT>.md, with the sections Summary, Conclusions and Next steps (a
    milestone's with its key figures for reference). Until every section is written the report
    says DRAFT and names what it awaits; saving the file makes the report's next version (sent
    once to each recipient by the next run). An existing file is kept unless --force."""
    from wpflow.report.narrative import narrative_path, skeleton, write_skeleton

    settings, proj = load_or_exit(project)
    work_packages = {wp.id.lower(): wp for wp in proj.work_packages}
    figures: list[str] = []
    as_of = ""
    if report_id.lower() == "final":
        report_id, title = "final", f"joint final report of {proj.name}"
    elif report_id.lower() in work_packages:
        wp = work_packages[report_id.lower()]
        report_id, title = wp.id, f"final report of {wp.title}"
    else:
        try:
            milestone = proj.milestone(report_id)
        except KeyError:
            raise fail(
                f"unknown report {report_id!r}: a milestone, a work package or final (wpflow project show lists them)",
                EXIT_INVALID,
            ) from None
        report_id, title = milestone.id, milestone.title
        figures, as_of = milestone_figures(settings, proj, milestone.id)
    text = skeleton(report_id, title, figures, as_of=as_of)
    path = narrative_path(settings.project, proj, report_id)
    try:
        write_skeleton(path, text, force=force)
    except FileExistsError:
        raise fail(f"{path} exists: it is the coordinator's text; --force replaces it", EXIT_INVALID) from None
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    if fmt is OutputFormat.json:
        print_json({"report": report_id, "path": str(path), "key_figures": figures})
    else:
        typer.echo(f"wrote {path}: write under Summary, Conclusions and Next steps; the next run issues a new version")


def milestone_figures(settings: Any, proj: Any, milestone_id: str) -> tuple[list[str], str]:
    """The key figures of the milestone's newest issued version, and its date in words."""
    from wpflow.milestone.status import reading_store
    from wpflow.report.key_figures import key_figures
    from wpflow.report.plain_words import long_date

    kept = reading_store(settings).kept_summaries(proj.name, [milestone_id])
    newest = kept[max(kept, key=lambda k: k[1])] if kept else None
    if newest is None:
        return [], ""
    return key_figures(newest), long_date(newest.as_of)
