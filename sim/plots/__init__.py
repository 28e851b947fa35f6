"""Pictures of a run, drawn from its traces and tables: the timeline and the sweep.

Figures are built with matplotlib's object API (no pyplot: no global state,
no display; Agg when saved) and handed back as `Figure` objects; only the
report layer turns them into files. matplotlib is imported inside the
functions that draw, so importing this package, and `sim --help`, stay fast.
"""

from __future__ import annotations

from sim.plots.style import KIND_COLOURS, WAIT_FOR_HOST, time_unit, to_png
from sim.plots.sweep import sweep
from sim.plots.timeline import (
    EDGE_ROWS,
    ROW_LIMIT,
    bar_counts,
    close_up_span,
    timeline,
    timeline_size,
)

__all__ = [
    "EDGE_ROWS",
    "KIND_COLOURS",
    "ROW_LIMIT",
    "WAIT_FOR_HOST",
    "bar_counts",
    "close_up_span",
    "sweep",
    "time_unit",
    "timeline",
    "timeline_size",
    "to_png",
]
