"""The pictures of a run and of a sweep, as PNG bytes: timeline.png and sweep.png.

Drawing is done by `sim.output.plots`, imported only here and only when a
picture is wanted, so a command that draws nothing never pays for matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from sim.results.result import Result

__all__ = ["sweep_picture", "timeline_png"]


def timeline_png(result: Result) -> bytes:
    """timeline.png of a run: a panel per schedule, a row per game (`sim.output.plots`)."""
    from sim.output import plots

    return plots.to_png(plots.plot(result))


def sweep_picture(table: pd.DataFrame, varied: Sequence[str], title: str) -> bytes:
    """sweep.png of a sweep table; with replications, their confidence band."""
    from sim.output import plots
    from sim.results.sweep_lines import by_schedule

    table = by_schedule(table, varied)  # a swept parameter of a schedule: one line still
    band = ("makespan_ci_low_s", "makespan_ci_high_s")
    spread = all(column in table for column in band) and table[band[0]].notna().any()
    figure = plots.sweep_chart(table, varied, band=band if spread else None, title=title)
    return plots.to_png(figure)
