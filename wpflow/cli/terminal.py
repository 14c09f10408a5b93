"""How listings look in a terminal: everything fits the console's width (80 columns included),
long text wraps under an indent instead of being cut, and long work shows its progress.

Only the `table` format lives here; `--format json` stays in the commands. Rich reads the
width from the terminal, or from COLUMNS when output is piped.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import count
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.project import Participant, Project

# status → (symbol, style): one character per cell, readable without colour too
SYMBOLS: dict[str, tuple[str, str]] = {
    "on time": ("✓", "green"),
    "late": ("L", "yellow"),
    "missing": ("✗", "red"),
    "invalid": ("!", "bold red"),
    "open": ("o", "dim"),
}
NOT_ASKED = ("·", "dim")
COLOURS = {status: style for status, (_, style) in SYMBOLS.items()}
INDENT = 4


def console() -> Console:
    """A console on stdout; `highlight=False`: ids and dates are not numbers to colour."""
    return Console(highlight=False)


def wrapped(con: Console, text: str, indent: int = INDENT, style: str = "", first: str | None = None) -> None:
    """Text wrapped to the console's width under an indent; `first` starts the first line
    instead of the indent (a hanging block, not a table cell squeezed into five lines)."""
    prefix = " " * indent
    lines = textwrap.wrap(
        text,
        width=max(con.width, indent + 20),
        initial_indent=prefix if first is None else first,
        subsequent_indent=prefix,
        break_on_hyphens=False,
    ) or [""]
    for line in lines:
        con.print(Text(line, style=style), soft_wrap=True)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- status ------------------------------------------------------------------------------
def status_partners(project: Project, observers: bool) -> list[Participant]:
    """The columns: partner cities (local coordinators), observers only when asked for."""
    return [p for p in project.participants if p.local_coordinator and (observers or p.role != "observer")]


def abbreviations(partners: Sequence[Participant]) -> dict[str, str]:
    """A three-letter column head per partner ('Hel', 'StP'); the legend spells them out."""
    out: dict[str, str] = {}
    for p in partners:
        words = re.findall(r"[A-Za-zÀ-ž]+", p.city) or [p.id]
        short = words[0][:3] if len(words) == 1 else (words[0][:2] + words[1][:1])
        out[p.id] = short if short not in out.values() else p.id[:3]
    return out


def print_status_matrix(
    project: Project, rows: list[dict[str, Any]], day: date | None, *, observers: bool = False
) -> None:
    """Milestones down, partner cities across, one symbol per cell, then the legends: fits 80
    columns (the milestone title takes what is left)."""
    con = console()
    partners = status_partners(project, observers)
    short = abbreviations(partners)
    table = Table(
        box=None,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
        title=f"{project.name}: status" + (f" as of {day}" if day else ""),
        title_justify="left",
    )
    ids = max([len("milestone")] + [len(r["milestone"]) for r in rows])
    table.add_column("milestone", no_wrap=True, min_width=ids)
    table.add_column("due", no_wrap=True, min_width=10)
    for p in partners:
        table.add_column(short[p.id], justify="center", no_wrap=True, min_width=3)
    room = con.width - (ids + 10 + 3 * len(partners) + 2 * (len(partners) + 2))
    if room >= 10:  # the title only where it can say something
        table.add_column("title", no_wrap=True, overflow="ellipsis", style="dim", max_width=room)
    for row in rows:
        cells = []
        for p in partners:
            symbol, style = SYMBOLS.get(row["partners"].get(p.id, ""), NOT_ASKED)
            cells.append(Text(symbol, style=style))
        table.add_row(row["milestone"], row["due"], *cells, *([row.get("title", "")] if room >= 10 else []))
    con.print(table)
    con.print()
    legend = Text()
    for status, (symbol, style) in [*SYMBOLS.items(), ("not asked", NOT_ASKED)]:
        legend.append(symbol, style=style).append(f" {status}" + (" (not yet due)" if status == "open" else "") + "  ")
    legend.rstrip()
    con.print(legend)
    con.print(Text("  ".join(f"{short[p.id]} {p.city}" for p in partners), style="dim"))
    hidden = [
        p.city for p in project.participants if p.local_coordinator and p.role == "observer" and p not in partners
    ]
    if hidden:
        con.print(Text(f"Observers ({', '.join(hidden)}) with --all; every status in words with --wide.", style="dim"))


def print_status_wide(
    project: Project, rows: list[dict[str, Any]], day: date | None, *, observers: bool = False
) -> None:
    """Every status in words, a column per city: needs about 150 columns."""
    partners = status_partners(project, observers)
    table = Table(
        "milestone",
        "due",
        *[p.city for p in partners],
        title=f"{project.name}: status" + (f" as of {day}" if day else ""),
    )
    for row in rows:
        cells = []
        for p in partners:
            value = row["partners"].get(p.id)
            cells.append(f"[{COLOURS[value]}]{value}[/]" if value else "·")
        table.add_row(row["milestone"], row["due"], *cells)
    Console(width=max(160, console().width)).print(table)


# -- project show / check ---------------------------------------------------------------
def report_policy_lines(project: Project) -> list[str]:
    """`reports:` of project.yaml in words: when reports go out and to whom."""
    policy = project.reports
    grace = project.deadlines.grace_days
    when = f"at the due date{f' + {grace} days' if grace else ''} with whatever has arrived (marked incomplete)"
    if policy.release == "due-or-complete":
        when += ", or earlier once every required input is valid"
    to = "the partners asked for inputs and the WP coordinator"
    to += ", observers too" if policy.observers else "; observers do not receive them"
    return [
        f"go out {when}",
        f"to {to}" + ("; the lead partner gets its own copy" if policy.lead_in_copy else ""),
        "never empty: when nothing arrived, the WP coordinator and the lead are told instead",
        "a late or corrected file brings an updated version saying what changed"
        + ("; the PDF is attached" if policy.attach_pdf else ""),
    ]


def print_project(project: Project, inbox: str) -> None:
    """Participants, then each work package's milestones as blocks: nothing is cut at 80."""
    con = console()
    con.print(Text(f"{project.name} — {project.title}", style="bold"))
    wrapped(con, f"{project.programme.name}, {project.start} – {project.end}", indent=0)
    wrapped(con, inbox, indent=0)
    con.print()
    con.print(Text("Participants", style="bold"))
    people = Table(box=None, padding=(0, 1), pad_edge=False, show_header=True, header_style="dim")
    people.add_column("id", no_wrap=True)
    people.add_column("city", no_wrap=True)
    people.add_column("role", no_wrap=True)
    people.add_column("organisation", ratio=1)
    for p in project.participants:
        people.add_row(p.id, f"{p.city}, {p.country}", p.role, p.organisation + ("\u00a0*" if p.assumed else ""))
    con.print(people)
    con.print()
    con.print(Text("Reports", style="bold"))
    for line in report_policy_lines(project):
        wrapped(con, line, indent=2, first="- ")
    for wp in project.work_packages:
        coordinator = project.participant(wp.coordinator)
        con.print()
        con.print(Text(f"{wp.id} {wp.title}", style="bold"))
        wrapped(
            con,
            f"coordinator: {coordinator.organisation}, {coordinator.city}" + (" *" if wp.coordinator_assumed else ""),
            indent=0,
            style="dim",
        )
        for m in wp.milestones:
            wrapped(con, m.title, indent=8, first=f"{m.id:<8}")
            lines = [f"due {m.due} · period {m.start} – {m.end}" + (" *" if m.assumed else "")]
            if m.inputs:
                lines.append(
                    "inputs: "
                    + "; ".join(
                        f"{project.kind_titles.get(r.kind, r.kind)} ({plural(len(project.deliverers(r)), 'partner')})"
                        for r in m.inputs
                    )
                )
            meetings = m.all_meetings()
            if meetings:
                lines.append(
                    "meetings: "
                    + ", ".join(f"{x.city or '?'} {x.month or '?'}{' *' if x.assumed else ''}" for x in meetings)
                )
            for text in lines:
                wrapped(con, text, indent=8)
    con.print()
    con.print("* assumed: not stated in the sources (see `wpflow project check`)")


def print_findings(project: Project, findings: Sequence[Any]) -> None:
    """One block per finding: severity, kind, where and source on a line, the message wrapped
    under it (a table cell at 80 columns wrapped each message over five lines)."""
    con = console()
    con.print(Text(f"{project.name}: project check", style="bold"))
    for f in findings:
        con.print()
        head = Text.assemble(
            (f.severity, "yellow" if f.severity == "warning" else "cyan"), f" · {f.kind} · ", (f.where, "bold")
        )
        if f.source:
            head.append(f"  (source: {f.source})", style="dim")
        con.print(head)
        wrapped(con, f.message)
    warnings = sum(1 for f in findings if f.severity == "warning")
    con.print()
    con.print(f"{plural(warnings, 'warning')}, {plural(len(findings) - warnings, 'assumption')}")


# -- simulate --------------------------------------------------------------------------
def print_timeline(
    project: Project, timeline: Sequence[Any], start: date, end: date, inbox: Any, labels: dict[int, str] | None = None
) -> None:
    """One line per action of the rehearsed ladder, recipients and what is outstanding
    wrapped under it: readable at 80 columns, where the old six-column table needed 200.
    `labels` names an action otherwise (a run: 'report v2', 'nothing arrived')."""
    con = console()
    con.print(Text(f"{project.name}: deadline ladder {start} – {end}", style="bold"))
    wrapped(con, f"inbox {inbox}", indent=0, style="dim")
    for i, a in enumerate(timeline):
        outstanding = "; ".join(f"{p}: {', '.join(k)}" for p, k in a.outstanding.items())
        if len(outstanding) > 120:
            outstanding = plural(len(a.outstanding), "partner")
        text = f"to {', '.join(a.recipients) or '—'}" + (f" · outstanding {outstanding}" if outstanding else "")
        label = (labels or {}).get(i, a.action)
        head = f"{a.day.isoformat()}  {a.milestone:<7} {label:<15} {a.rung:<8} "
        wrapped(con, text, indent=len(head), first=head)


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner on a terminal, one line otherwise, for work with no steps to count; stderr."""
    con = Console(stderr=True, highlight=False)
    if not con.is_terminal:
        con.print(f"{what}…")
        yield
        return
    with con.status(f"{what}…"):
        yield


# -- progress ----------------------------------------------------------------------------
@contextmanager
def milestone_progress(
    milestone_ids: Sequence[str], starting: str = "starting", what: str = "running"
) -> Iterator[None]:
    """Shows milestone runs as they finish (reported through `wpflow.milestone.progress`): a bar on a
    terminal, one plain line per milestone otherwise (a log, `make demo` piped). On stderr,
    so `--format json` output stays clean."""
    from wpflow.milestone import progress

    con = Console(stderr=True, highlight=False)
    total, done, started = len(milestone_ids), count(1), time.monotonic()
    if not con.is_terminal:
        con.print(f"{what} {plural(total, 'milestone')}…")

        def line(milestone_id: str, status: str) -> None:
            if status == "running":
                return
            # runs finish in threads of their own (flows/milestone.py `run_each`): one number each
            con.print(f"[{next(done)}/{total}] {milestone_id} {status} ({time.monotonic() - started:.0f} s)")

        with progress.listening(line):
            yield
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=con,
        transient=False,
    ) as bar:
        task = bar.add_task(f"{starting}…", total=total)

        def advance(milestone_id: str, status: str) -> None:
            if status == "running":
                bar.update(task, description=f"{what} {milestone_id}")
            else:
                bar.advance(task)
                if status != "completed":
                    bar.console.print(f"{milestone_id} {status}")

        with progress.listening(advance):
            yield
        bar.update(task, description=f"{plural(total, 'milestone')}")
