"""The final reports' own charts: the cities' deliveries across the WPs, and the meetings on a
months × cities grid. Byte-stable like `wpflow.report.charts` (fixed size and dpi, no Software tag)."""

from __future__ import annotations

import io
from collections import Counter

from schemas.final import CityWPCell, TimelineMeeting

WIDTH_IN = 6.3
DPI = 150
# the statuses in the order a reader scans them, with colours that survive greyscale printing
STATUS_COLOURS = {
    "on time": "#2b6a99",
    "late": "#e0a030",
    "invalid": "#b03030",
    "missing": "#9a9a9a",
    "open": "#d8d8d8",
}
WP_COLOURS = ["#2b6a99", "#e0a030", "#4c9a4c", "#b03030", "#7a5aa6", "#3aa6a6", "#a6763a", "#555555"]
MAX_LABELLED_CITIES = 40
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _figure(height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def city_status_png(cities: list[str], matrix: list[CityWPCell]) -> bytes:
    """A stacked bar per city: its milestones on time, late, invalid, missing (and open) over
    every WP — the city × WP table above, summed across the WPs."""
    from matplotlib.ticker import MaxNLocator

    per_city: dict[str, Counter[str]] = {c: Counter() for c in cities}
    for cell in matrix:
        per_city.setdefault(cell.city, Counter()).update(cell.counts)
    fig = _figure(3.0)
    ax = fig.add_subplot()
    bottoms = [0.0] * len(cities)
    for status, colour in STATUS_COLOURS.items():
        values = [float(per_city[c].get(status, 0)) for c in cities]
        if any(values):
            ax.bar(cities, values, bottom=bottoms, color=colour, label=status, width=0.7)
            bottoms = [b + v for b, v in zip(bottoms, values)]
    if len(cities) <= MAX_LABELLED_CITIES:
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{len(cities)} cities (see the table)", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel("Milestones", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, frameon=False, ncols=len(STATUS_COLOURS), loc="upper center", bbox_to_anchor=(0.5, 1.13))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.3)
    return _png(fig)


def month_axis(start: str, end: str) -> list[str]:
    """Every month from `start` to `end` (YYYY-MM), both included."""
    year, month = int(start[:4]), int(start[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def meetings_png(meetings: list[TimelineMeeting], start: str, end: str) -> bytes:
    """Months across, host cities down, a dot per meeting coloured by its WP and labelled with
    its number in the meetings table; meetings whose month or city the sources do not state
    are left out (the table lists them)."""
    number = {id(x): n for n, x in enumerate(meetings, start=1)}
    placed = [x for x in meetings if x.month[:4].isdigit() and x.city != "not stated"]
    months = month_axis(min([start, *(x.month for x in placed)]), max([end, *(x.month for x in placed)]))
    cities = sorted({x.city for x in placed})
    wps = sorted({x.wp_id for x in meetings})
    fig = _figure(max(1.8, 0.7 + 0.26 * len(cities)))
    ax = fig.add_subplot()
    for n, wp in enumerate(wps):
        mine = [x for x in placed if x.wp_id == wp]
        if mine:
            ax.scatter(
                [months.index(x.month) for x in mine],
                [cities.index(x.city) for x in mine],
                s=28,
                color=WP_COLOURS[n % len(WP_COLOURS)],
                label=wp,
                zorder=3,
            )
    # meetings sharing a month and city: their numbers side by side, not on top of each other
    labels: dict[tuple[int, int], list[str]] = {}
    for x in placed:
        labels.setdefault((months.index(x.month), cities.index(x.city)), []).append(str(number[id(x)]))
    for (col, row), numbers in labels.items():
        ax.annotate(
            ",".join(numbers), (col, row), xytext=(0, 4.5), textcoords="offset points", ha="center", fontsize=5.5
        )
    ax.set_yticks(range(len(cities)), cities, fontsize=7)
    ax.set_ylim(-0.7, len(cities) - 0.3)
    quarters = [i for i, m in enumerate(months) if m[5:7] in ("01", "07")]
    ax.set_xticks(quarters, [f"{MONTH_ABBR[int(months[i][5:7]) - 1]} {months[i][:4]}" for i in quarters], fontsize=6.5)
    ax.set_xlim(-0.7, len(months) - 0.3)
    ax.grid(axis="both", color="#e6e6e6", linewidth=0.6, zorder=0)
    ax.set_xlabel("Month", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    if len(wps) > 1:
        ax.legend(fontsize=7, frameon=False, ncols=len(wps), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.2, right=0.98, top=1 - 0.35 / height, bottom=0.5 / height)
    return _png(fig)
