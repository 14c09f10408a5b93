"""`wpflow narrative WP4-M3`: start the coordinator's text of a report from a skeleton.

The file is Markdown in the project folder (`narratives/<report-id>.md`); what the coordinator
writes under Summary, Conclusions and Next steps goes into the report, and saving it makes
the report's next version. The skeleton's key figures come from the newest issued version.
"""

from __future__ import annotations

from typing import Annotated

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
    report_id: Annotated[str, typer.Argument(help="The report, e.g. WP4-M3.", metavar="MILESTONE")],
    project: ProjectOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the file even if it exists (the coordinator's text is lost).")
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Write a skeleton of the coordinator's narrative for a milestone report:
    <project>/narratives/<MILESTONE>.md, with the sections Summary, Conclusions and Next steps
    and the report's key figures for reference. Until every section is written the report says
    DRAFT and names what it awaits; saving the file makes the report's next version (sent once
    to each recipient by the next run). An existing file is kept unless --force."""
    from wpflow.milestone.status import reading_store
    from wpflow.report.key_figures import key_figures
    from wpflow.report.narrative import narrative_path, skeleton, write_skeleton
    from wpflow.report.plain_words import long_date

    settings, proj = load_or_exit(project)
    try:
        milestone = proj.milestone(report_id)
    except KeyError:
        raise fail(f"unknown milestone {report_id!r} (wpflow project show lists them)", EXIT_INVALID) from None
    kept = reading_store(settings).kept_summaries(proj.name, [milestone.id])
    newest = kept[max(kept, key=lambda k: k[1])] if kept else None
    figures = key_figures(newest) if newest is not None else []
    text = skeleton(milestone.id, milestone.title, figures, as_of=long_date(newest.as_of) if newest else "")
    path = narrative_path(settings.project, proj, milestone.id)
    try:
        write_skeleton(path, text, force=force)
    except FileExistsError:
        raise fail(f"{path} exists: it is the coordinator's text; --force replaces it", EXIT_INVALID) from None
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_UNREADABLE) from None
    if fmt is OutputFormat.json:
        print_json({"milestone": milestone.id, "path": str(path), "key_figures": figures})
    else:
        typer.echo(f"wrote {path}: write under Summary, Conclusions and Next steps; the next run issues a new version")
