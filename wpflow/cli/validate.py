"""`wpflow validate`: check one partner file without Prefect, in well under a second."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wpflow.cli.options import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNREADABLE,
    FormatOpt,
    OutputFormat,
    ProjectOpt,
    fail,
    print_json,
)


def validate_command(
    file: Annotated[Path, typer.Argument(help="The partner's file (XLSX, CSV, JSON, DOCX or Markdown).")],
    partner: Annotated[
        str | None, typer.Option("--partner", help="Participant id; checks city fields against it.")
    ] = None,
    milestone: Annotated[
        str | None, typer.Option("--milestone", help="Milestone id; limits the kinds to its inputs.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Input kind id, when the file name does not tell.")] = None,
    project: ProjectOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Validate one partner file; exit 0 valid, 1 invalid, 2 unreadable."""
    from wpflow.cli.options import load_or_exit
    from wpflow.file_names import shown_name
    from wpflow.inputs.gate import gate_file
    from wpflow.inputs.safety import InputLimits
    from wpflow.inputs.validate import validate_file

    expected: list[str] = []
    city, region = None, []
    settings, proj = load_or_exit(project)  # its input kinds say what a file may be
    if milestone or partner:
        try:
            expected = [r.kind for r in proj.milestone(milestone).inputs] if milestone else []
            if partner:
                city, region = proj.participant(partner).city, proj.participant(partner).region
        except KeyError as exc:
            raise fail(f"unknown milestone or partner {exc.args[0]!r}", EXIT_INVALID) from None
    # the same gate as the watcher and the pipeline: the settings' size limit, no symlinks, the partner
    limits = InputLimits.of(settings)  # the settings' bounds on size, what a file unpacks to, rows
    verdict = gate_file(
        file, max_bytes=settings.max_file_bytes, partner=partner, milestone=milestone, from_folder=False, limits=limits
    )
    if not verdict.accepted:
        code = EXIT_UNREADABLE if verdict.unreadable else EXIT_INVALID
        if fmt is OutputFormat.json:
            result = verdict.result(proj.input_kinds, expected)
            print_json(
                {
                    "file": result.file,
                    "kind": result.kind,
                    "valid": False,
                    "rows": 0,
                    "refused": verdict.code,
                    "issues": [i.model_dump() for i in result.issues],
                }
            )
            raise typer.Exit(code)
        raise fail(f"{verdict.file} {verdict.reason}", code)
    if kind is not None and kind not in proj.input_kinds:
        raise fail(f"unknown input kind {kind!r}; the project declares: {', '.join(proj.input_kinds)}", EXIT_INVALID)
    result = validate_file(
        file, kind, kinds=proj.input_kinds, expected=expected, city=city, region=region, gated=True, limits=limits
    )
    unreadable = (
        bool(result.errors) and all(i.row is None and i.field is None for i in result.errors) and not result.rows_read
    )
    if fmt is OutputFormat.json:
        print_json(
            {
                "file": result.file,
                "kind": result.kind,
                "valid": result.valid,
                "rows": result.rows_read,
                "issues": [i.model_dump() for i in result.issues],
            }
        )
    else:
        verdict_word = "valid" if result.valid else "INVALID"
        typer.echo(f"{shown_name(result.file)}: {verdict_word} as {result.kind or '?'} ({result.rows_read} rows read)")
        for issue in result.issues:
            typer.echo(f"  {issue.severity}: {shown_name(issue)}")
    raise typer.Exit(EXIT_OK if result.valid else (EXIT_UNREADABLE if unreadable else EXIT_INVALID))


def template_command(
    milestone: Annotated[str, typer.Argument(help="Milestone id, e.g. WP4-M3.")],
    partner: Annotated[str, typer.Option("--partner", help="Participant id the templates are for.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the templates into.")] = Path(),
    project: ProjectOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Write the files PARTNER fills in for MILESTONE: an Excel workbook per table input (headers,
    explanations, dropdowns, checks), a Word or Markdown file per text input."""
    from wpflow.cli.options import load_or_exit
    from wpflow.inputs.partner_templates import write_templates

    _, proj = load_or_exit(project)
    try:
        paths = write_templates(proj, milestone, partner, out)
    except KeyError as exc:
        raise fail(f"unknown milestone or partner {exc.args[0]!r}", EXIT_INVALID) from None
    if fmt is OutputFormat.json:
        print_json({"milestone": milestone, "partner": partner, "files": [str(p) for p in paths]})
        return
    if not paths:
        typer.echo(f"{milestone} asks for no partner inputs")
    for path in paths:
        typer.echo(str(path))
