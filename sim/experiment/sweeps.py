"""Sweeps: one scenario played at every point of a grid of overridden values.

The axes come from the file's `sweep:` block and from `--vary PATH=VALUES`
(`sim.scenario.grid` has the grammar); a `--vary` of a path the block also varies
replaces the block's values in place, a new path is added last. The first axis
varies slowest. Every point is the file with `--set` overrides and then the
point's values applied (`sim.scenario.overrides`), validated before anything runs, so
a bad value is reported at once, naming the `--vary` or the `sweep:` line.

All points share the same random streams (`sim.experiment.streams`): a difference
between two points comes from the values varied, not from different draws.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.experiment.executors import Runner
from sim.experiment.replications import play_all, summarize
from sim.experiment.runs import run
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.grid import MAX_POINTS, parse_values, points
from sim.scenario.loader import Document
from sim.scenario.model import Scenario
from sim.scenario.overrides import Override, show
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_count
from sim.scenario.with_values import with_values

__all__ = ["Axis", "Point", "Sweep", "axes", "expand", "play", "sweep"]


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
    product = " × ".join(format_count(size) for size in sizes)
    total = format_count(math.prod(sizes))
    limit = format_count(MAX_POINTS)
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


def sweep(
    scenario: Scenario,
    grid: Mapping[str, Iterable[Any]],
    schedules: Sequence[Schedule | str] | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Play every combination of the values: one row per grid point and schedule.

    The varied paths come first as columns, then `summary.csv`'s columns. Every point
    draws its random durations from the same stream (`seed`, default the scenario's), so
    differences come from the values varied. (`sim sweep` plays a file's grid from the
    command line, with replications and parallel runs.)

    >>> import sim
    >>> table = sim.sweep(sim.load("polgar"), {"players.amateur.count": [1, 12, 13, 24]},
    ...                   schedules=["cooperative"])
    >>> dict(zip(table["players.amateur.count"], table["makespan_s"]))
    {1: 1800.0, 12: 1855.0, 13: 2005.0, 24: 3655.0}
    """
    paths = list(grid)
    frames = []
    for point in itertools.product(*(list(values) for values in grid.values())):
        summary = run(with_values(scenario, dict(zip(paths, point, strict=True))), schedules, seed)
        table = summary.summary.copy()
        for place, (path, value) in enumerate(zip(paths, point, strict=True)):
            table.insert(place, path, value)
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    table["schedule"] = table["schedule"].astype(str)
    return table
