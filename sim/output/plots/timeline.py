"""The timeline: one panel per schedule on one time axis, a row per game.

Bars are one `PolyCollection` per step kind and panel, built straight from
the trace's numpy columns, so a panel costs about the same whether it shows
20 steps or 20 000. Past `ROW_LIMIT` players a panel shows the first and last
`EDGE_ROWS` games and a host-utilization strip instead of an unreadable smear.

Games that share resources or queues show more: the time a row waited for a
resource or a queue is a hatched bar in that name's colour, the time a `with`
held its resource a thin strip along the bottom of the steps inside, and the
children of a `gather` split their game's row into thin rows of their own, so
children playing at once do not hide one another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.trace import Trace
from sim.engine.workload import CPU
from sim.output.plots.style import (
    DPI,
    MAKESPAN_COLOUR,
    WAIT_FOR_HOST,
    WAIT_FOR_HOST_COLOUR,
    colour,
    literal_text,
    shared_colour,
    short,
    time_unit,
)
from sim.results import explanations, shared
from sim.scenario.model import STEP_KINDS, TIMED_KINDS
from sim.scenario.names import clipped
from sim.scenario.units import format_count, format_hms, format_seconds

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

__all__ = [
    "EDGE_ROWS",
    "ROW_LABEL_CHARS",
    "ROW_LIMIT",
    "bar_counts",
    "close_up_span",
    "shown_games",
    "timeline",
    "timeline_size",
]

#: More players than this and a panel shows only its first and last rows.
ROW_LIMIT = 60
#: Rows shown at each end of a condensed panel.
EDGE_ROWS = 10

# Layout in pixels at DPI, so the size of a timeline is plain arithmetic.
WIDTH_PX = 1200
ROW_PX = 16
PANEL_PX = 60  # a panel's title above it and the gap below it
STRIP_PX = 70  # the host-utilization strip of a condensed panel, with its gap
FRAME_PX = 120  # figure title and legend above, time axis below
_LEFT_PX, _RIGHT_PX, _TOP_PX = 130, 20, 70
_STRIP_BINS = 400
_BAR_HALF = 0.36  # half a bar's height, in rows
#: The strip of a `with` that held its resource: the bottom of its row, this share of it.
_HELD_SHARE = 0.25
#: How a wait for a resource or a queue is drawn: its name's colour, faint, hatched.
_HATCHED = {"alpha": 0.45, "hatch": "////"}
#: Legend entries on one line at most; a scenario declaring many names gets two lines.
_LEGEND_COLUMNS = 8
#: Characters of a name the picture shows (longer ones are `clipped`): a player's in the
#: left margin, a resource's or a queue's in the legend and titles, the scenario's and
#: the host's in the heading. Text past the margin would cover the bars, and matplotlib
#: lays out every character: a group name of 10 000 made `sim run` take over 25 s.
ROW_LABEL_CHARS = 16
NAME_CHARS = 24
HEADING_NAME_CHARS = 40
#: Instants at most this share of their time apart (of 1 s before 1 s) are one instant:
#: the engine may reach one instant by two sums that differ in their last bits, and a step
#: that starts that much after it was ready did not wait for a host.
_SAME_INSTANT = 1e-9


def shown_games(games: int) -> list[int | None]:
    """The game of each row, top to bottom: all of them, or the first and last EDGE_ROWS
    around a gap (None) when there are more than ROW_LIMIT."""
    if games <= ROW_LIMIT:
        return list(range(games))
    return [*range(EDGE_ROWS), None, *range(games - EDGE_ROWS, games)]


def timeline_size(games: int, panels: int) -> tuple[int, int]:
    """Width and height in pixels of a timeline of `panels` schedules of `games` games."""
    rows = len(shown_games(games))
    strip = STRIP_PX if games > ROW_LIMIT else 0
    return WIDTH_PX, FRAME_PX + panels * (rows * ROW_PX + PANEL_PX + strip)


@literal_text
def timeline(traces: Sequence[Trace], until: float | None = None) -> Figure:
    """One panel per schedule on one time axis: a row per game, bars by step kind.

    Each step is a bar in its kind's colour; the time a game was ready for a
    host step but no host was free is a bar of its own; a dashed line marks
    the makespan. `until` shows only the first seconds (a close-up). Axes
    carry gids `timeline:<label>` and `host busy:<label>` and bar collections
    their kind as label, so callers and tests can find them.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not traces:
        raise ValueError("a timeline needs at least one trace")
    workload = traces[0].workload
    scenario = workload.scenario
    condensed = workload.games > ROW_LIMIT
    order = shown_games(workload.games)
    width, height = timeline_size(workload.games, len(traces))
    # a hair over the pixel count: Agg truncates the canvas size to whole pixels
    fig = Figure(figsize=((width + 0.25) / DPI, (height + 0.25) / DPI), dpi=DPI)
    span = max(trace.makespan for trace in traces) * 1.02 if until is None else until
    span = max(span, 1e-12)
    unit, size = time_unit(span)
    left, right = _LEFT_PX / width, 1 - _RIGHT_PX / width
    top = _TOP_PX  # pixels from the top of the figure, moving down panel by panel
    first: Axes | None = None
    present: set[str] = set()
    for trace in traces:
        top += PANEL_PX // 2  # the panel's title
        tall = len(order) * ROW_PX
        box = (left, 1 - (top + tall) / height, right - left, tall / height)
        ax = fig.add_axes(box, sharex=first)
        first = first or ax
        present |= _panel(ax, trace, order, size)
        top += tall
        if condensed:
            top += 8
            box = (left, 1 - (top + STRIP_PX - 8) / height, right - left, (STRIP_PX - 8) / height)
            _strip(fig.add_axes(box, sharex=first), trace, size)
            top += STRIP_PX - 8
        top += PANEL_PX // 2  # the gap to the next panel
    assert first is not None
    first.set_xlim(0, span / size)
    for ax in fig.axes[:-1]:
        ax.tick_params(axis="x", labelbottom=False)
    fig.axes[-1].set_xlabel(f"time ({unit})")
    host_name = clipped(scenario.host.name, NAME_CHARS)
    hosts = (
        f"{format_count(workload.hosts)} {'hosts' if workload.hosts > 1 else 'host'} ({host_name})"
    )
    shown = f", first and last {EDGE_ROWS} shown" if condensed else ""
    close_up = "" if until is None else f" — the first {short(until)}"
    players = f"{format_count(workload.games)} {'player' if workload.games == 1 else 'players'}"
    heading = f"{clipped(scenario.name, HEADING_NAME_CHARS)}: {players}{shown}, {hosts}{close_up}"
    fig.text(left, 1 - 22 / height, heading, fontsize=12, fontweight="bold", va="center")
    legend: list = [Patch(color=colour(kind), label=kind) for kind in STEP_KINDS if kind in present]
    if WAIT_FOR_HOST in present:
        legend.append(Patch(color=WAIT_FOR_HOST_COLOUR, label=WAIT_FOR_HOST))
    if workload.shared is not None:
        legend += _shared_legend(workload, present)
    legend.append(Line2D([], [], color=MAKESPAN_COLOUR, linestyle="--", lw=1, label="makespan"))
    fig.legend(
        handles=legend, loc="center left", ncols=min(len(legend), _LEGEND_COLUMNS),
        frameon=False, fontsize=9,
        bbox_to_anchor=(left, 1 - 50 / height), borderaxespad=0, borderpad=0, handlelength=1.5,
    )  # fmt: skip
    return fig


def close_up_span(traces: Sequence[Trace]) -> float | None:
    """Seconds worth a close-up: the fastest schedule's first three rounds, when that
    is well short of the whole run (else None: the timeline shows them already)."""
    workload = traces[0].workload
    rounds = max(group.moves for group in workload.scenario.players)
    longest = max(trace.makespan for trace in traces)
    span = min(trace.makespan for trace in traces) * min(1.0, 3 / rounds)
    return span if 0 < span <= longest / 4 else None


def bar_counts(fig: Figure) -> dict[str, dict[str, int]]:
    """Per timeline panel (schedule label), the number of bars of each kind drawn."""
    counts: dict[str, dict[str, int]] = {}
    for ax in fig.axes:
        gid = ax.get_gid() or ""
        if gid.startswith("timeline:"):
            counts[gid.removeprefix("timeline:")] = {
                str(bars.get_label()): len(bars.get_paths()) for bars in ax.collections
            }
    return counts


def _panel(ax: Axes, trace: Trace, order: list[int | None], size: float) -> set[str]:
    """Draw one schedule's rows; return the names of what was drawn."""
    workload = trace.workload
    steps, row = _steps_of(workload.first_step, order)
    drawn: set[str] = set()
    start, end, ready = trace.start[steps], trace.end[steps], trace.ready[steps]
    # decided in seconds, so that the time unit of the axis cannot change what is drawn
    waited = start - ready > _SAME_INSTANT * np.maximum(1.0, start)
    start, end, ready = start / size, end / size, ready / size
    kind_of = workload.kind[steps]
    if workload.shared is not None:
        drawn = _shared_rows(ax, trace, steps, row, (ready, start, end), waited)
    else:
        for code, kind in enumerate(STEP_KINDS):
            chosen = (kind_of == code) & (end > start)
            if chosen.any():
                ax.add_collection(
                    _bars(start[chosen], end[chosen], row[chosen], colour(kind), kind)
                )
                drawn.add(kind)
        if waited.any():
            x0, x1, y = ready[waited], start[waited], row[waited]
            ax.add_collection(_bars(x0, x1, y, WAIT_FOR_HOST_COLOUR, WAIT_FOR_HOST))
            drawn.add(WAIT_FOR_HOST)
    ax.set_gid(f"timeline:{trace.schedule.label}")
    ax.set_ylim(len(order) - 0.5, -0.5)
    hidden = workload.games - (len(order) - 1)
    labels = [
        clipped(workload.players[game], ROW_LABEL_CHARS)
        if game is not None
        else f"⋮ {format_count(hidden)} more"
        for game in order
    ]
    ax.set_yticks(range(len(order)), labels, fontsize=7 if len(order) > 30 else 8)
    ax.tick_params(axis="y", length=0)
    ax.axvline(trace.makespan / size, color=MAKESPAN_COLOUR, linestyle="--", linewidth=1)
    ax.set_title(_panel_title(trace), loc="left", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return drawn


def _shared_rows(
    ax: Axes,
    trace: Trace,
    steps: np.ndarray,
    row: np.ndarray,
    times: tuple[np.ndarray, np.ndarray, np.ndarray],
    waited: np.ndarray,
) -> set[str]:
    """A panel's bars when games share resources or queues: each row in its task's band
    (a gather's children side by side), waits for a host, a resource or a queue, and
    the time a `with` held its resource."""
    workload = trace.workload
    assert workload.shared is not None
    ready, start, end = times
    place = shared.places(workload)
    centre = row + place.centre[steps] * _BAR_HALF
    half = place.half[steps] * _BAR_HALF
    kind_of, shared_of = workload.kind[steps], workload.shared[steps]
    timed = np.isin(kind_of, shared.TIMED)
    drawn: set[str] = set()

    def add(chosen, x0, x1, y, h, fill, label, **style) -> None:
        if chosen.any():
            ax.add_collection(
                _bars(x0[chosen], x1[chosen], y[chosen], fill, label, h[chosen], **style)
            )
            drawn.add(label)

    for kind in TIMED_KINDS:
        code = STEP_KINDS.index(kind)
        add((kind_of == code) & (end > start), start, end, centre, half, colour(kind), kind)
    add(waited & timed, ready, start, centre, half, WAIT_FOR_HOST_COLOUR, WAIT_FOR_HOST)
    held = (kind_of == shared.WITH) & (end > start)
    strip = centre + half * (1 - _HELD_SHARE)
    for index, name in enumerate(_short_names(workload)):
        mine, tint = shared_of == index, shared_colour(index)
        add(mine & waited, ready, start, centre, half, tint, f"waiting for {name}", **_HATCHED)
        add(mine & held, start, end, strip, half * _HELD_SHARE, tint, f"holding {name}")
    return drawn


def _short_names(workload) -> list[str]:
    """The declared resources and queues, each name as the picture shows it."""
    return [clipped(name, NAME_CHARS) for name in workload.plan.names]


def _shared_legend(workload, present: set[str]) -> list:
    """Legend entries of the resources and queues drawn: holding, then waiting, by name."""
    from matplotlib.patches import Patch

    entries = []
    for index, name in enumerate(_short_names(workload)):
        tint = shared_colour(index)
        if f"holding {name}" in present:
            entries.append(Patch(color=tint, label=f"holding {name}"))
        if f"waiting for {name}" in present:
            label = f"waiting for {name}"
            entries.append(Patch(facecolor=tint, edgecolor=tint, label=label, **_HATCHED))
    return entries


def _steps_of(first_step: np.ndarray, order: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """The step rows of the shown games (a game's steps are contiguous) and each one's row:
    a handful of slices, so a condensed panel never touches the hidden games' steps."""
    steps, rows = [], []
    for row, game in enumerate(order):
        if game is not None:
            lo, hi = int(first_step[game]), int(first_step[game + 1])
            steps.append(np.arange(lo, hi))
            rows.append(np.full(hi - lo, row, dtype=np.float64))
    if not steps:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(steps), np.concatenate(rows)


def _panel_title(trace: Trace) -> str:
    workload = trace.workload
    makespan = trace.makespan
    busy = workload.host_work() / (workload.hosts * makespan) if makespan else 0.0
    title = (
        f"{trace.schedule.label} — makespan {format_seconds(makespan)} "
        f"({format_hms(makespan)}), host busy {busy:.1%}"
    )
    busiest = explanations.busiest(trace)
    if busiest is not None:
        title += f", {clipped(busiest[0], NAME_CHARS)} busy {busiest[2]:.1%}"
    return title.replace("%", " %")


def _strip(ax: Axes, trace: Trace, size: float) -> None:
    """Share of host capacity in use over time (host and native steps: CPU work), exactly
    integrated per bin."""
    workload = trace.workload
    edges = np.linspace(0.0, max(trace.makespan, 1e-12), _STRIP_BINS + 1)
    busy = np.isin(workload.kind, CPU)
    integral = busy_integral(trace.start[busy], trace.end[busy], edges)
    share = np.diff(integral) / (workload.hosts * np.diff(edges))
    ax.stairs(share, edges / size, fill=True, color=colour("host"), alpha=0.8)
    ax.set_gid(f"host busy:{trace.schedule.label}")
    ax.set_ylim(0, 1.05)
    ax.set_yticks([0, 1], ["0 %", "100 %"], fontsize=7)
    ax.set_ylabel("host busy", fontsize=8, rotation=0, ha="right", va="center")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def busy_integral(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Busy host-seconds before each time in `at`: Σ over steps of clip(t − start, 0, length).

    With starts and ends sorted apart, that is Σ_{start<t}(t − start) − Σ_{end<t}(t − end),
    two searchsorted calls and two cumulative sums instead of a loop over steps.
    """
    starts, ends = np.sort(starts), np.sort(ends)
    before = np.concatenate(([0.0], np.cumsum(starts)))
    after = np.concatenate(([0.0], np.cumsum(ends)))
    begun = np.searchsorted(starts, at)
    ended = np.searchsorted(ends, at)
    return (begun * at - before[begun]) - (ended * at - after[ended])


def _bars(
    x0: np.ndarray,
    x1: np.ndarray,
    y: np.ndarray,
    fill: str,
    label: str,
    half: np.ndarray | float = _BAR_HALF,
    **style,
) -> PolyCollection:
    """Rectangles from x0 to x1 centred on rows y, `half` high on each side, as one
    collection; `style` (a hatch, say) is matplotlib's."""
    from matplotlib.collections import PolyCollection

    verts = np.empty((len(x0), 4, 2))
    verts[:, 0, 0] = verts[:, 1, 0] = x0
    verts[:, 2, 0] = verts[:, 3, 0] = x1
    verts[:, 0, 1] = verts[:, 3, 1] = y - half
    verts[:, 1, 1] = verts[:, 2, 1] = y + half
    if "hatch" in style:  # a hatch is drawn in the edge colour, with no outline
        style = {"edgecolors": fill, "linewidths": 0, **style}
    else:
        style = {"edgecolors": "none", **style}
    # no snapping: a bar narrower than a pixel is drawn faint, not rounded to 0 or 1 pixel
    return PolyCollection(verts, facecolors=fill, label=label, snap=False, **style)
