"""`wpflow partners links`: each partner's link to its own page — printed, made when missing,
rotated on request, e-mailed with --send (docs/partners.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from wpflow.cli.options import EXIT_INVALID, EXIT_UNREADABLE, FormatOpt, OutputFormat, ProjectOpt, fail, print_json

partners_app = typer.Typer(help="The partners' pages: each partner's secret link.", no_args_is_help=True)


@partners_app.command("links")
def links_command(
    project: ProjectOpt = None,
    rotate: Annotated[
        list[str] | None,
        typer.Option("--rotate", help="Give this partner (id) a new link; its old one stops working (repeatable)."),
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="E-mail each partner its link (once per link: a new one is sent again).")
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Print each partner's page link, making the links not made yet (needs WPFLOW_PARTNER_SECRET;
    the links are under WPFLOW_PARTNER_URL)."""
    from wpflow.cli.options import load_or_exit
    from wpflow.partners.links import LinksUnavailable, partner_links, rotate_link, send_links
    from wpflow.workspace import workspace

    settings, proj = load_or_exit(project)
    ws = workspace(settings=settings)
    rotated = frozenset(rotate or [])
    unknown = sorted(rotated - {p.id for p in proj.participants})
    if unknown:
        raise fail(f"unknown partner {unknown[0]!r} (wpflow project show lists them)", EXIT_INVALID)
    try:
        for pid in sorted(rotated):
            rotate_link(ws, pid)
        urls = partner_links(ws)
    except LinksUnavailable as exc:
        raise fail(str(exc), EXIT_UNREADABLE) from None
    sent = {n.to[0] for n in send_links(ws, urls, rotated) if n.sent} if send else set()
    rows = [
        {
            "partner": pid,
            "city": proj.participant(pid).city,
            "link": url,
            "rotated": pid in rotated,
            "emailed": proj.participant(pid).emails[0] in sent,
        }
        for pid, url in urls.items()
    ]
    if fmt is OutputFormat.json:
        print_json({"project": proj.name, "links": rows})
        return
    for row in rows:
        note = " (new)" if row["rotated"] else ""
        note += " (e-mailed)" if row["emailed"] else ""
        typer.echo(f"{row['partner']:<14} {row['link']}{note}")
    if not settings.partner_url:
        typer.echo("note: WPFLOW_PARTNER_URL is not set: these are loopback links, for trying the page here", err=True)
