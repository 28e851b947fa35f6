"""What `sim run` and `sim sweep` print: the summary, replication and sweep tables.

Every table lists the schedules fastest first and marks the fastest; cells are
text, never markup (names and descriptions come from files).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich import box
from rich.markup import escape
from rich.table import Table

from sim.results.result import Result
from sim.results.sweep_lines import by_schedule
from sim.scenario.units import format_count, format_seconds

if TYPE_CHECKING:  # a single run's table is printed without pandas
    import pandas as pd

__all__ = [
    "REPLICATION_HEADER",
    "SUMMARY_HEADER",
    "Pivot",
    "closed_form_line",
    "fastest",
    "pivot_table",
    "pivots",
    "replication_cells",
    "replications_table",
    "summary_cells",
    "summary_table",
]

SUMMARY_HEADER = ("schedule", "makespan", "h:mm:ss", "speedup", "host busy", "article")
#: Beside the schedule (or schedules, on a tie) with the shortest makespan.
FASTEST = "★"
REPLICATION_HEADER = ("schedule", "makespan", "± 95 %", "sd", "p50", "p95", "mean game", "speedup")


def summary_cells(result: Result) -> list[tuple[str, ...]]:
    """The printed summary as text, one row per schedule (columns: SUMMARY_HEADER)."""
    return [
        (
            row["schedule"],
            format_seconds(row["makespan_s"]),
            row["makespan_hms"],
            "—" if np.isnan(row["speedup"]) else f"{row['speedup']:.2f}×",
            f"{row['host_utilization']:.1%}".replace("%", " %"),
            _with_human(row["article_s"]),
        )
        for row in result.summary_rows
    ]


def fastest(makespans: np.ndarray) -> np.ndarray:
    """Which makespans are the shortest (all of them on a tie, to rounding)."""
    best = makespans.min()
    return makespans <= best + 1e-9 * max(1.0, best)


def _fastest_first(table: Table, header: tuple[str, ...], cells: list, makespans) -> Table:
    """Rows sorted by makespan (ties in the scenario's order), the fastest marked.

    Cells are text, never markup (names and descriptions come from files).
    """
    table.add_column("", no_wrap=True)  # the fastest's mark
    for column in header:
        left = column == "schedule"
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    makespans = np.asarray(makespans, dtype=float)
    if not len(makespans):
        return table
    marks = fastest(makespans)
    for index in np.argsort(makespans, kind="stable").tolist():
        table.add_row(FASTEST if marks[index] else "", *map(escape, cells[index]))
    return table


def summary_table(result: Result) -> Table:
    """The table `sim run` prints: schedules side by side, fastest first and marked ★.

    Ties keep the scenario's order; the article's figure is beside each.
    """
    title = f"{result.scenario.name}: {result.scenario.description}".rstrip(": ")
    table = Table(title=escape(title))  # names and descriptions are text, never markup
    makespans = [row["makespan_s"] for row in result.summary_rows]
    return _fastest_first(table, SUMMARY_HEADER, summary_cells(result), makespans)


def closed_form_line(result: Result) -> str | None:
    """The exact formulas' makespans, one line under the table (None where there is none).

    They agree with the simulation; a difference (float rounding at most) is shown.
    """
    shown = []
    for row in result.summary_rows:
        if np.isnan(row["closed_form_s"]):
            continue
        exact, simulated = row["closed_form_s"], row["makespan_s"]
        agree = abs(exact - simulated) <= 1e-9 * max(1.0, abs(exact))
        differs = "" if agree else f" (simulated {format_seconds(simulated)})"
        shown.append(f"{row['schedule']} {format_seconds(exact)}{differs}")
    return f"closed form: {', '.join(shown)}" if shown else None


def replications_table(summary: pd.DataFrame, title: str) -> Table:
    """Per schedule, the spread of the makespan and mean game time over replications.

    Fastest mean first and marked, as in `summary_table`.
    """
    n = int(summary["replications"].iloc[0]) if len(summary) else 0
    table = Table(
        title=escape(f"{title}: {n} replications, seed {int(summary['seed'].iloc[0])}"),
        caption="seconds; means over the replications, ± the 95 % confidence interval",
        box=box.SIMPLE_HEAVY,
        collapse_padding=True,
        pad_edge=False,
    )
    cells = replication_cells(summary)
    return _fastest_first(table, REPLICATION_HEADER, cells, summary["makespan_s"].to_numpy())


def replication_cells(summary: pd.DataFrame) -> list[tuple[str, ...]]:
    """The replications table as text, one row per schedule (columns: REPLICATION_HEADER)."""
    rows = []
    for row in summary.to_dict("records"):
        half = (row["makespan_ci_high_s"] - row["makespan_ci_low_s"]) / 2
        rows.append(
            (
                str(row["schedule"]),
                _compact(row["makespan_s"]),
                _compact(half),
                _compact(row["makespan_sd_s"]),
                _compact(row["makespan_p50_s"]),
                _compact(row["makespan_p95_s"]),
                _compact(row["mean_game_s"]),
                "—" if np.isnan(row["speedup"]) else f"{row['speedup']:.2f}×",
            )
        )
    return rows


def pivot_table(pivot: Pivot, title: str) -> Table:
    """A sweep's makespans: the first varied field down, the schedules across."""
    heading = f"{title}: makespan" + (f" at {pivot.title}" if pivot.title else "")
    table = Table(title=escape(heading))  # names and swept values are text, never markup
    table.add_column(escape(pivot.axis), justify="right")
    for schedule in pivot.schedules:
        table.add_column(escape(schedule), justify="right")
    for value, cells in pivot.rows:
        shown = []
        for cell in cells:
            if cell is None:
                shown.append("")
            elif math.isfinite(cell[1]) and cell[1] > 0:
                shown.append(f"{_compact(cell[0])} ± {_compact(cell[1])} s")
            else:
                shown.append(format_seconds(cell[0]))
        table.add_row(escape(str(value)), *shown)
    return table


def _compact(seconds: float) -> str:
    """A figure with a spread, to the precision it deserves: `43 174`, `55.3`, `0.123`."""
    if not math.isfinite(seconds):
        return "—"
    if abs(seconds) >= 100:
        return format_count(round(seconds))
    return f"{seconds:.1f}" if abs(seconds) >= 1 else f"{seconds:.3g}"


def _with_human(seconds: float) -> str:
    """`43 200 s (12 h)`: long figures also in the unit a person would say."""
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return (
                f"{format_seconds(seconds)} ({seconds / size:.2f}".rstrip("0").rstrip(".")
                + f" {unit})"
            )
    return format_seconds(seconds)


@dataclass(frozen=True, slots=True)
class Pivot:
    """Mean makespans with the first axis down and the schedules across.

    `title` names the values of the other axes this table holds; each cell is
    (mean makespan, half-width of its confidence interval, NaN for one replication).
    """

    title: str
    axis: str
    schedules: tuple[str, ...]
    rows: tuple[tuple[Any, tuple[tuple[float, float] | None, ...]], ...]


def pivots(table: pd.DataFrame, axes: Sequence[str]) -> list[Pivot]:
    """A sweep table (`sim.experiment.sweeps`) as one `Pivot` for each combination of
    the values of the axes after the first."""
    first, others = axes[0], list(axes[1:])
    table = by_schedule(table, axes)  # a swept parameter of a schedule: one column still
    table = table.assign(_half=(table["makespan_ci_high_s"] - table["makespan_ci_low_s"]) / 2)
    groups = table.groupby(others, sort=False) if others else [((), table)]
    found = []
    for key, part in groups:
        values = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{name}={value}" for name, value in zip(others, values, strict=True))
        schedules = tuple(dict.fromkeys(part["schedule"]))
        cells: dict[Any, dict[str, tuple[float, float]]] = {}
        columns = (part[first], part["schedule"], part["makespan_s"], part["_half"])
        for value, schedule, mean, half in zip(*columns, strict=True):
            cells.setdefault(value, {})[schedule] = (float(mean), float(half))
        rows = tuple(
            (value, tuple(by.get(schedule) for schedule in schedules))
            for value, by in cells.items()
        )
        found.append(Pivot(title, first, schedules, rows))
    return found
