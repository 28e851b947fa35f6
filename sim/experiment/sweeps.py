"""Sweeps: one scenario played at every point of a grid of overridden values.

The axes come from the file's `sweep:` block and from `--vary PATH=VALUES`
(`sim.scenario.grid` has the grammar); a `--vary` of a path the block also varies
replaces the block's values in place, a new path is added last. The first axis
varies slowest. Every point is the file with `--set` overrides and then the
point's values applied (`sim.scenario.overrides`), validated before anything runs, so
a bad value is reported at once, naming the `--vary` or the `sweep:` line.

All points share the same random streams (`sim.experiment.streams`): a difference
between two points comes from the values varied, not from different draws.

`sweep`, the API's, takes the same path: its grid becomes axes, its points are
expanded from the scenario's own document (`sim.scenario.with_values.origin`)
and played by `play`, so it gives the table `sim sweep` writes to `sweep.csv`.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.experiment.executors import Executor, InProcess
from sim.experiment.replications import Block, merged, play_blocks, summarize
from sim.results.columns import Columns
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.grid import MAX_POINTS, parse_values, points
from sim.scenario.loader import Document, schedule_of
from sim.scenario.model import Scenario
from sim.scenario.overrides import Override, show
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_count
from sim.scenario.with_values import origin

if TYPE_CHECKING:  # pandas once the points are played: other processes play while it loads
    import pandas as pd

__all__ = ["Axis", "Point", "Sweep", "axes", "expand", "play", "sweep"]

#: Where the axes and the seed of the API's `sweep` come from, as error messages name them.
_SOURCE = "sweep"


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
    """What a sweep found: `table` (sweep.csv) and `runs` (one row per replication, made on
    first use from `played`, the rows by point number); `runs_csv`, when the workers
    wrote the rows' text, is the CSV text of `runs` (header included), the bytes `runs`
    is written as."""

    axes: tuple[str, ...]
    points: tuple[Point, ...]
    table: pd.DataFrame
    played: pd.DataFrame
    runs_csv: str | None = None

    @functools.cached_property
    def runs(self) -> pd.DataFrame:
        return _with_values(self.played, self.points)


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
        axis = _parsed(path, spec, "--vary", problems)
        if axis is not None:
            found[path] = axis
    if problems:
        raise ScenarioError(problems)
    return list(found.values())


def _parsed(path: str, spec: Any, source: str, problems: list[Problem]) -> Axis | None:
    """`spec` as an axis, read by the grid grammar (`sim.scenario.grid`) as a `sweep:`
    block's entry is; None, with the problem added, when it cannot be read."""
    try:
        return Axis(path, parse_values(spec), source)
    except ValueError as error:
        problems.append(Problem(f"{source} {path}", None, "", str(error)))
        return None


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
    executor: Executor,
    overrides: str = "",
    done: Callable[[int], None] | None = None,
) -> Sweep:
    """Every replication of every point (each point's `seed` and `replications`, which a
    sweep may vary too); the table has one row per point and schedule."""
    names = tuple(grid[0].values) if grid else ()
    scenarios = [point.scenario for point in grid]
    blocks = play_blocks(scenarios, schedules, executor, done)
    runs, text = merged(blocks)
    seeds = [scenario.seed for scenario in scenarios]
    table = summarize(runs, ["point", "schedule"], seeds, overrides)
    runs_csv = None if text is None else _runs_csv(blocks, grid)
    return Sweep(names, tuple(grid), _with_values(table, grid), runs, runs_csv)


def _with_values(frame: pd.DataFrame, grid: Sequence[Point]) -> pd.DataFrame:
    """Replace the point number by the values varied there, as the leading columns."""
    import pandas as pd

    names = list(grid[0].values) if grid else []
    points = frame["point"].tolist()
    cells = {name: [_cell(point.values[name]) for point in grid] for name in names}
    varied = pd.DataFrame(
        {name: [cells[name][p] for p in points] for name in names}, index=frame.index
    )
    rest = frame.drop(columns=["point", *[n for n in names if n in frame.columns]])
    return pd.concat([varied, rest], axis=1)


def _runs_csv(blocks: Sequence[Block], grid: Sequence[Point]) -> str | None:
    """sweep_replications.csv from the blocks' text (`merged` found it whole): each row
    behind its point's values, written as `_with_values`' table writes them; None where
    those values are not plain columns (then pandas writes the table) or a varied path
    is also the name of a column."""
    import pandas as pd

    names = list(grid[0].values) if grid else []
    columns = next((block.names for block in blocks if block.length), ())
    if not names or set(names) & {"point", *columns}:
        return None
    values = {name: [_cell(point.values[name]) for point in grid] for name in names}
    varied = Columns.of_frame(pd.DataFrame(values))
    if varied is None:
        return None
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*names, *columns])
    for cells in varied.cells():
        writer.writerow([*cells, ""])  # "a,b," : the cells and the comma that follows them
    text = buffer.getvalue()
    if text.count("\n") != 1 + len(grid):  # a cell of several lines
        return None
    header, *fronts = text.split("\n")[:-1]
    parts = [header, "\n"]
    for block in blocks:
        if block.length:
            front = fronts[block.point]
            parts += [front, block.csv[:-1].replace("\n", "\n" + front), "\n"]  # type: ignore[index]
    return "".join(parts)


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

    The table is `sim sweep`'s `sweep.csv`: the varied paths first (the first
    varies slowest), then `summary.csv`'s columns, the statistics over the
    scenario's `replications` and the record (`overrides`: the what-ifs the
    scenario was made with). Paths and values are those of `sim.with_values`;
    each entry of `grid` is read as a `sweep:` block's (`sim.scenario.grid`): values,
    among which a text range (`"50ms..200ms:50ms"`) stands for its values, or one
    spec (`"1..48"`). The scenario's own `sweep:` block is not played: `grid` is the
    whole grid. Every point draws from the same streams (`seed`, default the
    scenario's), so differences come from the values varied. A bad value is a
    `ScenarioError` before anything plays: `sweep players.amateur.count: …`.

    >>> import sim
    >>> table = sim.sweep(sim.load("polgar"), {"players.amateur.count": [1, 12, 13, 24]},
    ...                   schedules=["cooperative"])
    >>> dict(zip(table["players.amateur.count"], table["makespan_s"]))
    {1: 1800.0, 12: 1855.0, 13: 2005.0, 24: 3655.0}
    """
    problems: list[Problem] = []
    specs = {path: v if isinstance(v, str | dict) else tuple(v) for path, v in grid.items()}
    found = [_parsed(path, spec, _SOURCE, problems) for path, spec in specs.items()]
    if problems:
        raise ScenarioError(problems)
    grid_axes = [axis for axis in found if axis is not None]
    document, made_with = origin(scenario)
    given = [*made_with, *([Override("seed", seed, _SOURCE)] if seed is not None else [])]
    chosen = None if schedules is None else [schedule_of(scenario, s) for s in schedules]
    applied = "; ".join(override.text for override in made_with)
    return play(expand(document, given, grid_axes), chosen, InProcess(), applied).table
