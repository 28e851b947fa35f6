"""Pictures of a run, drawn from its traces and tables: the timeline and the sweep.

Figures are built with matplotlib's object API (no pyplot: no global state,
no display; Agg when saved) and handed back as `Figure` objects; only the
report layer turns them into files. matplotlib is imported inside the
functions that draw, so importing this package, and `sim --help`, stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.output.plots.style import KIND_COLOURS, WAIT_FOR_HOST, time_unit, to_png
from sim.output.plots.sweep_chart import sweep_chart
from sim.output.plots.timeline import (
    EDGE_ROWS,
    ROW_LIMIT,
    bar_counts,
    close_up_span,
    timeline,
    timeline_size,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.results.result import Result

__all__ = [
    "EDGE_ROWS",
    "KIND_COLOURS",
    "ROW_LIMIT",
    "WAIT_FOR_HOST",
    "bar_counts",
    "close_up_span",
    "plot",
    "sweep_chart",
    "time_unit",
    "timeline",
    "timeline_size",
    "to_png",
]


def plot(result: Result, until: float | None = None) -> Figure:
    """The timeline of a run (`sim.run`'s result), as `sim run` draws timeline.png: a panel
    per schedule on one time axis, a row per game, bars by step kind. In a notebook it
    shows itself; elsewhere `sim.plot(r).savefig("timeline.png")`."""
    return timeline(result.traces, until=until)
