"""The sweep picture: makespan against a varied field, one line per schedule.

Drawn from a sweep table (one row per grid point and schedule), with a
confidence band when there are replications and the closed form dashed where
one exists, so a knee or a crossover shows at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.output.plots.style import DPI, literal_text, time_unit

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["MAX_PANELS", "sweep_chart"]

#: Combinations of the further varied fields drawn, one panel each; the rest are left out.
MAX_PANELS = 12
#: Largest ÷ least value from which an axis turns logarithmic: the varied values at
#: two decades; makespans sooner, since schedules differ by large factors (12 h against
#: 1 h) and a linear axis would flatten the faster one's knee.
VALUE_SPAN, MAKESPAN_SPAN = 100.0, 20.0


@literal_text
def sweep_chart(
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
    axis turns logarithmic when its values span VALUE_SPAN (makespans:
    MAKESPAN_SPAN) times or more; values that are not numbers (a
    distribution, a unit) get one tick each, in table order. Each line is
    labelled with its schedule; each panel carries the gid `sweep:<i>`.
    """
    import pandas as pd
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not varied:
        raise ValueError("a sweep plot needs at least one varied field")
    x, rest = varied[0], list(varied[1:])
    parts = [((), frame)] if not rest else list(frame.groupby(rest, sort=False))[:MAX_PANELS]
    columns = min(len(parts), 3)
    panel_rows = -(-len(parts) // columns)
    fig = Figure(figsize=(max(4.4 * columns + 1.4, 7.5), 3.2 * panel_rows + 1.2), dpi=DPI)
    axes = fig.subplots(panel_rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    # numbers on a numeric axis; anything else (a distribution, a unit) one tick per value
    numeric = pd.to_numeric(frame[x], errors="coerce")
    categories = None if numeric.notna().all() else list(dict.fromkeys(frame[x].astype(str)))

    def position(column: pd.Series) -> pd.Series:
        if categories is None:
            return pd.to_numeric(column)
        return column.astype(str).map({value: i for i, value in enumerate(categories)})

    values = frame[makespan].to_numpy(dtype=float)
    unit, size = time_unit(float(np.nanmax(values)) if len(values) else 0.0)
    schedules = list(dict.fromkeys(frame["schedule"].astype(str)))
    colours = {label: f"C{index % 10}" for index, label in enumerate(schedules)}
    dashed = False
    for index, (ax, (key, chosen)) in enumerate(zip(axes, parts, strict=False)):
        ax.set_gid(f"sweep:{index}")
        for label in schedules:
            part = chosen[chosen["schedule"].astype(str) == label]
            part = part.assign(_x=position(part[x])).sort_values("_x")
            xs = part["_x"].to_numpy(dtype=float)
            tint = colours[label]
            ys = part[makespan].to_numpy(dtype=float) / size
            ax.plot(xs, ys, marker="o", markersize=3, color=tint, label=label)
            if band is not None:
                low, high = (part[column].to_numpy(dtype=float) / size for column in band)
                ax.fill_between(xs, low, high, color=tint, alpha=0.2, linewidth=0)
            if closed_form in part.columns and part[closed_form].notna().any():
                known = part[part[closed_form].notna()]
                ax.plot(known["_x"], known[closed_form] / size, "--", color=tint, linewidth=1.2)
                dashed = True
        if rest:
            pairs = zip(rest, key if isinstance(key, tuple) else (key,), strict=True)
            ax.set_title(", ".join(f"{field} = {value}" for field, value in pairs), fontsize=9)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(parts) :]:
        ax.set_visible(False)
    if categories is not None:
        axes[0].set_xticks(range(len(categories)), categories)
    elif _log_wanted(numeric.to_numpy(dtype=float)):
        axes[0].set_xscale("log")
    if _log_wanted(values, MAKESPAN_SPAN):
        axes[0].set_yscale("log")
        axes[0].yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes[0].yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes[0].yaxis.set_minor_formatter(NullFormatter())
    for index, ax in enumerate(axes[: len(parts)]):
        if index + columns >= len(parts):  # nothing drawn below it: it carries the x axis
            ax.tick_params(axis="x", labelbottom=True)
            ax.set_xlabel(x)
    for ax in axes[::columns]:
        ax.set_ylabel(f"makespan ({unit})")
    handles: list = [Line2D([], [], color=colours[s], marker="o", label=s) for s in schedules]
    if dashed:
        handles.append(Line2D([], [], color="grey", linestyle="--", label="closed form"))
    if band is not None:
        handles.append(Patch(color="grey", alpha=0.3, label="95 % confidence"))
    width, height = fig.get_figwidth(), fig.get_figheight()
    fig.text(0.9 / width, 1 - 0.22 / height, title or f"makespan against {x}", fontsize=12,
             fontweight="bold", va="center")  # fmt: skip
    fig.legend(
        handles=handles, loc="center left", bbox_to_anchor=(0.9 / width, 1 - 0.5 / height),
        ncols=len(handles), frameon=False, fontsize=9, borderaxespad=0, borderpad=0,
    )  # fmt: skip
    fig.subplots_adjust(
        left=0.9 / width, right=1 - 0.3 / width, top=1 - (0.85 if rest else 0.75) / height,
        bottom=0.6 / height, hspace=0.45,
    )  # fmt: skip
    return fig


def _log_wanted(values: np.ndarray, span: float = VALUE_SPAN) -> bool:
    """A log axis when the values are positive and the largest is `span` times the least."""
    values = values[np.isfinite(values)]
    return bool(len(values)) and values.min() > 0 and values.max() / values.min() >= span
