"""The sweep picture: makespan against a varied field, one line per schedule.

Drawn from a sweep table (one row per grid point and schedule), with a
confidence band when there are replications and the closed form dashed where
one exists, so a knee or a crossover shows at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.plots.style import DPI, time_unit

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["MAX_PANELS", "sweep"]

#: Combinations of the further varied fields drawn, one panel each; the rest are left out.
MAX_PANELS = 12


def sweep(
    frame: pd.DataFrame,
    varied: Sequence[str],
    *,
    makespan: str = "makespan_s",
    band: tuple[str, str] | None = None,
    closed_form: str = "closed_form_s",
    title: str = "",
) -> Figure:
    """Makespan against the first varied field, one line per schedule.

    `frame` has one row per grid point and schedule: the `varied` fields as
    columns, `schedule`, `makespan` (seconds) and, with replications, the
    `band` columns (low, high) of a confidence interval, drawn shaded. Where
    `closed_form` holds a figure it is drawn dashed in the schedule's colour.
    Further varied fields get a panel per combination of their values. An
    axis turns logarithmic when its values span 100× or more. Each line is
    labelled with its schedule; each panel carries the gid `sweep:<i>`.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not varied:
        raise ValueError("a sweep plot needs at least one varied field")
    x, rest = varied[0], list(varied[1:])
    parts = [((), frame)] if not rest else list(frame.groupby(rest, sort=False))[:MAX_PANELS]
    columns = min(len(parts), 3)
    panel_rows = -(-len(parts) // columns)
    fig = Figure(figsize=(4.4 * columns + 1.6, 3.2 * panel_rows + 0.9), dpi=DPI)
    axes = fig.subplots(panel_rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    values = frame[makespan].to_numpy(dtype=float)
    unit, size = time_unit(float(np.nanmax(values)) if len(values) else 0.0)
    schedules = list(dict.fromkeys(frame["schedule"].astype(str)))
    colours = {label: f"C{index % 10}" for index, label in enumerate(schedules)}
    dashed = False
    for index, (ax, (key, chosen)) in enumerate(zip(axes, parts, strict=False)):
        ax.set_gid(f"sweep:{index}")
        for label in schedules:
            part = chosen[chosen["schedule"].astype(str) == label].sort_values(x)
            xs = part[x].to_numpy(dtype=float)
            tint = colours[label]
            ys = part[makespan].to_numpy(dtype=float) / size
            ax.plot(xs, ys, marker="o", markersize=3, color=tint, label=label)
            if band is not None:
                low, high = (part[column].to_numpy(dtype=float) / size for column in band)
                ax.fill_between(xs, low, high, color=tint, alpha=0.2, linewidth=0)
            if closed_form in part.columns and part[closed_form].notna().any():
                known = part[part[closed_form].notna()]
                ax.plot(known[x], known[closed_form] / size, "--", color=tint, linewidth=1.2)
                dashed = True
        if rest:
            pairs = zip(rest, key if isinstance(key, tuple) else (key,), strict=True)
            ax.set_title(", ".join(f"{field} = {value}" for field, value in pairs), fontsize=9)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(parts) :]:
        ax.set_visible(False)
    if _log_wanted(frame[x].to_numpy(dtype=float)):
        axes[0].set_xscale("log")
    if _log_wanted(values):
        axes[0].set_yscale("log")
    for ax in axes[(panel_rows - 1) * columns :]:
        ax.set_xlabel(x)
    for ax in axes[::columns]:
        ax.set_ylabel(f"makespan ({unit})")
    handles: list = [Line2D([], [], color=colours[s], marker="o", label=s) for s in schedules]
    if dashed:
        handles.append(Line2D([], [], color="grey", linestyle="--", label="closed form"))
    if band is not None:
        handles.append(Patch(color="grey", alpha=0.3, label="95 % confidence"))
    fig.legend(handles=handles, loc="upper right", frameon=False, fontsize=9)
    fig.suptitle(title or f"makespan against {x}", x=0.02, ha="left", fontweight="bold")
    fig.subplots_adjust(
        left=0.9 / fig.get_figwidth(),
        right=1 - 1.5 / fig.get_figwidth(),
        top=1 - 0.55 / fig.get_figheight(),
        bottom=0.6 / fig.get_figheight(),
        hspace=0.35,
    )
    return fig


def _log_wanted(values: np.ndarray) -> bool:
    """A log axis when the values are positive and span two orders of magnitude or more."""
    values = values[np.isfinite(values)]
    return bool(len(values)) and values.min() > 0 and values.max() / values.min() >= 100
