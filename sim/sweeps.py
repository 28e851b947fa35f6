"""Sweeps: one scenario played at every point of a grid of overridden values.

The axes come from the file's `sweep:` block and from `--vary PATH=VALUES`
(`sim.grid` has the grammar); a `--vary` of a path the block also varies
replaces the block's values in place, a new path is added last. The first axis
varies slowest. Every point is the file with `--set` overrides and then the
point's values applied (`sim.overrides`), validated before anything runs, so
a bad value is reported at once, naming the `--vary` or the `sweep:` line.

All points share the same random streams (`sim.streams`): a difference
between two points comes from the values varied, not from different draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.errors import Problem, ScenarioError
from sim.execute import Runner
from sim.grid import MAX_POINTS, parse_values, points
from sim.loader import Document
from sim.overrides import Override, show
from sim.replications import play_all, summarize
from sim.scenario import Scenario
from sim.schedules import Schedule

__all__ = ["Axis", "Pivot", "Point", "Sweep", "axes", "expand", "pivot", "play"]


@dataclass(frozen=True, slots=True)
class Axis:
    """A path and the values it takes; `source` and `line` say where it was asked for."""

    path: str
    values: tuple[Any, ...]
    source: str
    line: int | None = None


@dataclass(frozen=True, eq=False)
class Point:
    """One grid point: the values of the axes there, and the scenario they make."""

    values: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True, eq=False)
class Sweep:
    """What a sweep found: `table` (sweep.csv) and `runs` (one row per replication)."""

    axes: tuple[str, ...]
    points: tuple[Point, ...]
    table: pd.DataFrame
    runs: pd.DataFrame


def axes(document: Document, base: Scenario, vary: Sequence[str]) -> list[Axis]:
    """The file's `sweep:` block, then `--vary PATH=VALUES` (replacing a path given twice)."""
    found = {
        path: Axis(path, values, document.source, document.line("sweep", path))
        for path, values in base.sweep.items()
    }
    problems = []
    for text in vary:
        path, equals, spec = text.partition("=")
        path = path.strip()
        if not equals or not path:
            message = f"expected PATH=VALUES, e.g. players.amateur.count=1..48, got {text!r}"
            problems.append(Problem("--vary", None, "", message))
            continue
        try:
            found[path] = Axis(path, parse_values(spec), "--vary")
        except ValueError as error:
            problems.append(Problem(f"--vary {path}", None, "", str(error)))
    if problems:
        raise ScenarioError(problems)
    return list(found.values())


def expand(document: Document, overrides: Sequence[Override], grid: Sequence[Axis]) -> list[Point]:
    """Validate the scenario at every point; ScenarioError lists each distinct problem."""
    plain = Document(
        document.source, {k: v for k, v in document.data.items() if k != "sweep"}, document.lines
    )
    _refuse_huge(grid)
    by_path = {axis.path: axis for axis in grid}
    found: list[Point] = []
    problems: dict[str, Problem] = {}
    for values in points({axis.path: axis.values for axis in grid}):
        changes = [
            Override(path, value, by_path[path].source, by_path[path].line)
            for path, value in values.items()
        ]
        try:
            found.append(Point(values, plain.scenario([*overrides, *changes])))
        except ScenarioError as error:
            problems.update((str(problem), problem) for problem in error.problems)
    if problems:
        raise ScenarioError(list(problems.values()))
    return found


def _refuse_huge(grid: Sequence[Axis]) -> None:
    """A grid past `MAX_POINTS` is refused before a single point is made, naming its product."""
    sizes = [len(axis.values) for axis in grid]
    if math.prod(sizes) <= MAX_POINTS:
        return
    first = grid[0]
    product = " × ".join(f"{size:,}".replace(",", " ") for size in sizes)
    total = f"{math.prod(sizes):,}".replace(",", " ")
    limit = f"{MAX_POINTS:,}".replace(",", " ")
    message = f"{product} values = {total} points, over the limit of {limit}; vary fewer values"
    path = "sweep" if first.line is not None else ""
    raise ScenarioError([Problem(first.source, first.line, path, message)])


def play(
    grid: Sequence[Point],
    schedules: Sequence[Schedule] | None,
    runner: Runner,
    overrides: str = "",
    done: Callable[[int], None] | None = None,
) -> Sweep:
    """Every replication of every point (each point's `seed` and `replications`, which a
    sweep may vary too); the table has one row per point and schedule."""
    names = tuple(grid[0].values) if grid else ()
    scenarios = [point.scenario for point in grid]
    runs = play_all(scenarios, schedules, runner, done)
    seeds = [scenario.seed for scenario in scenarios]
    table = summarize(runs, ["point", "schedule"], seeds, overrides)
    return Sweep(names, tuple(grid), _with_values(table, grid), _with_values(runs, grid))


def _with_values(frame: pd.DataFrame, grid: Sequence[Point]) -> pd.DataFrame:
    """Replace the point number by the values varied there, as the leading columns."""
    names = list(grid[0].values) if grid else []
    varied = pd.DataFrame(
        {name: [_cell(grid[p].values[name]) for p in frame["point"]] for name in names},
        index=frame.index,
    )
    rest = frame.drop(columns=["point", *[n for n in names if n in frame.columns]])
    return pd.concat([varied, rest], axis=1)


def _cell(value: Any) -> Any:
    """A varied value as a CSV cell: numbers and text as they are, the rest as YAML."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return show(value)
    return value


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


def pivot(sweep: Sweep) -> list[Pivot]:
    """One `Pivot` for each combination of the values of the axes after the first."""
    table = sweep.table
    first, others = sweep.axes[0], list(sweep.axes[1:])
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
