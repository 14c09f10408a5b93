"""The report's charts: a bar per city for a table's charted measure (matplotlib, as PNG).

Byte-stable (fixed size and dpi, no Software tag), so the same data renders the same report;
counts get integer ticks and the axes say what they show, with the measure's unit.
"""

from __future__ import annotations

import io

from schemas.records import ComparativeTable
from wpflow.report.plain_words import format_value

CHART_SIZE_IN = (6.3, 2.8)
CHART_DPI = 150
MAX_LABELLED_BARS = 40
BAR_COLOUR = "#2b6a99"


def chart_measure(table: ComparativeTable) -> str | None:
    """The kind's charted measure (project data), else its first summed measure, else the first."""
    if table.chart in table.columns:
        return table.chart
    summed = [label for label in table.summed if label in table.columns]
    if summed:
        return summed[0]
    return table.columns[0] if table.columns else None


def chart_png(table: ComparativeTable, measure: str) -> bytes:
    """A bar per city. Fixed size, dpi and no Software tag, so the same data gives the same bytes;
    the object-oriented Figure API keeps it off pyplot's global state (safe in worker threads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = [float(r.get(measure) or 0) for r in table.rows]
    if len(values) <= MAX_LABELLED_BARS:
        ax.bar([str(r["city"]) for r in table.rows], values, color=BAR_COLOUR)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.set_xlabel("City", fontsize=8)
    else:
        # A bar is a pixel or two wide here: one filled step outline draws the same picture as
        # hundreds of rectangles (without their moiré gaps) in a fifth of the time; the labels
        # are unreadable anyway and each costs a glyph layout: the table names the cities.
        ax.stairs(values, [i - 0.5 for i in range(len(values) + 1)], fill=True, color=BAR_COLOUR, baseline=0)
        ax.set_xticks([])
        ax.set_xlabel(f"{len(values)} cities (see the table)", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    if all(v.is_integer() for v in values):  # counts: no tick at 0.5 schemes
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(lambda v, _pos: format_value(v))
    ax.set_ylabel(measure, fontsize=8)  # the measure's label carries its unit: "Annual budget (EUR)"
    ax.spines[["top", "right"]].set_visible(False)
    fig.subplots_adjust(left=0.15, right=0.98, top=0.95, bottom=0.36)  # fixed: tight_layout costs a draw
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
