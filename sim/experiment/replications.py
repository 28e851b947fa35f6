"""Replications: a scenario played many times on independent streams, and what they say.

Replication r of a scenario is `sim.experiment.runs.run(..., replication=r)`: its
durations come from stream r (`sim.experiment.streams`), the same for every schedule and
every point of a sweep. Work is cut into batches (one point, a run of
consecutive replications) that any executor can play; a batch sends back only
summary rows, never traces.

A batch's rows come back as a `Block`: its columns, and its rows already written as
CSV text by the worker, while the others play. Where every block's columns have one
kind throughout (whole numbers, floats, booleans or text), the table is their columns
put end to end and the file is their text put end to end, the very text its DataFrame
would be written as; anything else is merged row by row as before (`merged`).

Statistics over replications, per schedule (and per point): the mean of every
summary figure, and for the makespan and the mean game time also the
standard deviation, a 95 % confidence interval for the mean (Student's t with
n − 1 degrees of freedom) and the 50th and 95th percentiles (numpy's default,
linear between order statistics).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.experiment.runs import run
from sim.results.columns import Columns, inferred, kind, write_csv
from sim.results.result import Result
from sim.results.tables import SUMMARY_COLUMNS, summary_rows
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_hms

if TYPE_CHECKING:  # pandas only where replications are summarized: one run prints without it
    import pandas as pd

    from sim.experiment.executors import Executor  # multiprocessing, only where a pool plays

__all__ = [
    "CONFIDENCE",
    "RECORD_COLUMNS",
    "RUN_COLUMNS",
    "STATISTIC_COLUMNS",
    "Batch",
    "Block",
    "Replicated",
    "batches",
    "block_of",
    "describe",
    "merged",
    "play_all",
    "play_batch",
    "play_blocks",
    "replicate",
    "rows_of",
    "summarize",
]

CONFIDENCE = 0.95
#: The figures with a spread, and what is said of each.
_FIGURES = {"makespan": "makespan_s", "mean_game": "mean_game_s"}
_STATISTICS = ("sd", "ci_low", "ci_high", "p50", "p95")
STATISTIC_COLUMNS = tuple(f"{f}_{s}_s" for f in _FIGURES for s in _STATISTICS)
#: What a summary row records about how it was made.
RECORD_COLUMNS = ("replications", "seed", "overrides")
#: One row per replication and schedule (`replications.csv`); `replication` counts from 1.
RUN_COLUMNS = ("replication", *SUMMARY_COLUMNS)
#: Figures that are the same in every replication: kept, not averaged.
_CONSTANT = ("hosts", "games", "steps", "article_s", "closed_form_s")


@dataclass(frozen=True, eq=False)
class Batch:
    """Replications `first` … `first + count − 1` (from 0) of grid point `point`'s scenario,
    on the streams of the scenario's `seed`."""

    point: int
    scenario: Scenario
    schedules: tuple[Schedule, ...] | None
    first: int
    count: int

    @property
    def cost(self) -> int:
        """Steps to play: what the time of a batch grows with."""
        return (self.scenario.step_count + 1) * self.count


def play_batch(batch: Batch) -> Block:
    """Summary rows of each replication of the batch, as a block (run in a worker process)."""
    rows = []
    for index in range(batch.first, batch.first + batch.count):
        rows += rows_of(run(batch.scenario, batch.schedules, replication=index), batch.point, index)
    return block_of(rows, batch.point)


@dataclass(frozen=True, eq=False)
class Block:
    """Rows of one point as a batch sends them back (`block_of`): their columns, named
    `names` (the run columns but `point`), each as `Columns` holds it and of the `kind`
    in `kinds`, and `csv`, the rows as the CSV text pandas writes for a table of those
    columns alone, without a header. The worker makes both while the others play.

    `csv` is None where a cell spans lines; `columns` is None, and `rows` holds the
    rows, where they differ in their keys. `merged` then makes the table of the rows."""

    point: int
    names: tuple[str, ...]
    columns: tuple[Any, ...] | None
    csv: str | None
    length: int
    rows: list[dict] | None = None
    #: Each column's `kind` (found here, in the worker).
    kinds: tuple[str | None, ...] = ()

    def records(self) -> list[dict]:
        """The rows as `rows_of` made them (numbers as Python's, of the same value)."""
        if self.columns is None:
            return list(self.rows or ())
        values = [_listed(column) for column in self.columns]
        return [
            {"point": self.point, **dict(zip(self.names, row, strict=True))}
            for row in zip(*values, strict=True)
        ]


def block_of(rows: list[dict], point: int = 0) -> Block:
    """`rows` (of one point, with `point` in each, as `rows_of` makes them) as a block."""
    names = tuple(name for name in _run_columns(rows) if name != "point")
    keys = rows[0].keys() if rows else {}.keys()
    if any(row.keys() != keys for row in rows) or not keys >= {*names}:
        return Block(point, names, None, None, len(rows), list(rows))
    try:
        columns = tuple(inferred([row[name] for row in rows]) for name in names)
    except OverflowError:  # a whole number past int64: pandas holds it otherwise
        return Block(point, names, None, None, len(rows), list(rows))
    buffer = io.StringIO(newline="")
    write_csv(buffer, Columns(dict(zip(names, columns, strict=True)), len(rows)), header=False)
    text = buffer.getvalue()
    whole = text.count("\n") == len(rows)  # no cell of several lines
    kinds = tuple(kind(column) for column in columns)
    return Block(point, names, columns, text if whole else None, len(rows), None, kinds)


def merged(blocks: Sequence[Block]) -> tuple[pd.DataFrame, str | None]:
    """The blocks' rows as one table (`frame` of all their rows), and its CSV text without
    `point` and without a header where every block's `csv` says it, else None.

    The columns are put end to end where each has one kind in every block (then the
    table's dtype is that kind, and its text each block's text); else the table is
    made of the rows, as pandas infers a column of mixed kinds."""
    import pandas as pd

    full = [block for block in blocks if block.length]
    names = full[0].names if full else ()
    plain = bool(full) and all(block.columns is not None and block.names == names for block in full)
    kinds = {block.kinds for block in full} if plain else set()
    if len(kinds) != 1 or None in next(iter(kinds)):
        return frame([row for block in blocks for row in block.records()]), None
    points = np.repeat(
        np.array([block.point for block in full], dtype=np.int64), [block.length for block in full]
    )
    data: dict[str, Any] = {"point": points}
    for i, name in enumerate(names):
        parts = [block.columns[i] for block in full]
        data[name] = np.concatenate(parts) if isinstance(parts[0], np.ndarray) else _joined(parts)
    table = pd.DataFrame(data, columns=["point", *names])
    texts = [block.csv for block in full]
    return table, None if None in texts else "".join(texts)  # type: ignore[arg-type]


def _joined(parts: list[list]) -> list:
    return [value for part in parts for value in part]


def _listed(column: Any) -> list:
    return column.tolist() if isinstance(column, np.ndarray) else list(column)


def rows_of(result: Result, point: int = 0, replication: int = 0) -> list[dict]:
    """The summary rows of one replication (from 0) of one point, as `play_all` gives them."""
    return [
        {"point": point, "replication": replication + 1, **row}
        for row in summary_rows(result.traces, result.baseline)
    ]


def frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a table; the columns a scenario declares (resources, queues) come last."""
    import pandas as pd

    return pd.DataFrame(rows, columns=_run_columns(rows))


def _run_columns(rows: list[dict]) -> list[str]:
    known = ("point", *RUN_COLUMNS)
    return [*known, *(name for name in (rows[0] if rows else {}) if name not in known)]


def batches(
    points: Sequence[Scenario],
    schedules: Sequence[Schedule] | None,
    workers: int,
    start: int = 0,
) -> list[Batch]:
    """Each point's `replications` from `start` on (those before are played already), cut
    so every worker has about eight batches to take: enough to share the load evenly,
    few enough that sending them costs nothing next to playing them."""
    chosen = None if schedules is None else tuple(schedules)
    found = []
    for point, scenario in enumerate(points):
        total = scenario.replications - start
        if total <= 0:
            continue
        per_point = max(1, min(total, math.ceil(8 * workers / max(1, len(points)))))
        size = math.ceil(total / per_point)
        found += [
            Batch(point, scenario, chosen, start + first, min(size, total - first))
            for first in range(0, total, size)
        ]
    return found


def play_all(
    points: Sequence[Scenario],
    schedules: Sequence[Schedule] | None,
    executor: Executor,
    done: Callable[[int], None] | None = None,
    played: Sequence[dict] = (),
) -> pd.DataFrame:
    """Every replication of every point: one row per point, replication and schedule.

    `played`: the rows of replication 1 of a single point, played already (`sim run`
    plays it in this process for its games and steps); the others are played here.
    Batches go out longest first (so a short one fills the last gap) and the rows
    come back sorted by point and replication, whatever order they finished in.
    """
    return merged(play_blocks(points, schedules, executor, done, played))[0]


def play_blocks(
    points: Sequence[Scenario],
    schedules: Sequence[Schedule] | None,
    executor: Executor,
    done: Callable[[int], None] | None = None,
    played: Sequence[dict] = (),
) -> list[Block]:
    """What `play_all` merges: the batches' blocks in point and replication order."""
    start = 1 if played else 0
    work = sorted(batches(points, schedules, executor.workers, start), key=lambda b: -b.cost)
    finished = executor.map(play_batch, work, None if done is None else lambda b: done(b.count))
    # A batch's rows are consecutive replications of one point: putting the batches in
    # (point, first replication) order puts every row in place (schedules stay in order).
    order = sorted(range(len(work)), key=lambda i: (work[i].point, work[i].first))
    first = [block_of(list(played))] if played else []
    return [*first, *(finished[i] for i in order)]


@dataclass(frozen=True, eq=False)
class Replicated:
    """A scenario played over its replications: replication 1 whole (its games and steps
    are what a result folder shows), one row per replication and schedule, and the
    statistics over them (`summarize`).

    `runs` and `summary` are DataFrames where there are many replications, and
    plain `Columns` where there is one: a single run is printed and written without
    importing pandas. `runs_frame` and `summary_frame` are DataFrames either way.
    """

    result: Result
    runs: Columns | pd.DataFrame
    summary: Columns | pd.DataFrame

    @property
    def runs_frame(self) -> pd.DataFrame:
        return self.runs.frame() if isinstance(self.runs, Columns) else self.runs

    @property
    def summary_frame(self) -> pd.DataFrame:
        return self.summary.frame() if isinstance(self.summary, Columns) else self.summary

    def makespans(self) -> dict[str, float]:
        """Each schedule's makespan (its mean over the replications)."""
        table = self.summary
        if isinstance(table, Columns):
            return dict(zip(table.values("schedule"), table.values("makespan_s"), strict=True))
        return dict(zip(table["schedule"], table["makespan_s"].astype(float), strict=True))


def replicate(
    first: Result,
    schedules: Sequence[Schedule] | None = None,
    executor: Executor | None = None,
    done: Callable[[int], None] | None = None,
    overrides: str = "",
) -> Replicated:
    """`first` (replication 1, played already) and the scenario's other replications,
    played by `executor` (needed when there are any), summarized per schedule.

    Replication 1 is played by the caller so that a scenario that cannot be played
    is refused before any worker starts, and its traces are kept for the files.
    """
    scenario = first.scenario
    rows = rows_of(first)
    if scenario.replications == 1:
        runs = Columns.of_rows(rows, _run_columns(rows))
        return Replicated(first, runs, summarize_one(rows, first.seed, overrides))
    if executor is None:
        raise ValueError("replications after the first need a executor")
    runs = play_all([scenario], schedules, executor, done, played=rows)
    return Replicated(first, runs, summarize(runs, ["schedule"], [first.seed], overrides))


def summarize_one(rows: list[dict], seed: int, overrides: str = "") -> Columns:
    """`summarize(frame(rows), ["schedule"], [seed], overrides)` where each schedule has
    one replication, without pandas: the mean of one value is that value (as a float,
    as pandas' mean makes it), its spread is undefined, its percentiles are itself."""
    declared = [c for c in _run_columns(rows) if c not in ("point", *RUN_COLUMNS)]
    averaged = {c for c in (*SUMMARY_COLUMNS, *declared) if c not in (*_CONSTANT, "schedule")}
    averaged.discard("makespan_hms")
    summary = []
    for row in rows:
        line = {
            c: float(row[c]) if c in averaged else row[c] for c in (*SUMMARY_COLUMNS, *declared)
        }
        for figure, column in _FIGURES.items():
            spread = dict.fromkeys(("sd", "ci_low", "ci_high"), math.nan)
            for statistic, value in {**spread, "p50": line[column], "p95": line[column]}.items():
                line[f"{figure}_{statistic}_s"] = value
        summary.append({**line, "replications": 1, "seed": seed, "overrides": overrides})
    names = [*SUMMARY_COLUMNS, *declared, *STATISTIC_COLUMNS, *RECORD_COLUMNS]
    return Columns.of_rows(summary, names)


def describe(values: np.ndarray) -> dict[str, float]:
    """sd, the confidence interval of the mean, p50 and p95 of one figure's replications
    (what `summarize` gives for every group at once; kept as the plain reading of it)."""
    n = len(values)
    mean = float(np.mean(values))
    p50, p95 = (float(q) for q in np.percentile(values, [50, 95]))
    if n < 2:
        return {"sd": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p50": p50, "p95": p95}
    from scipy.special import stdtrit  # Student's t quantile; scipy only when there is a spread

    sd = float(np.std(values, ddof=1))
    half = float(stdtrit(n - 1, (1 + CONFIDENCE) / 2)) * sd / math.sqrt(n)
    return {"sd": sd, "ci_low": mean - half, "ci_high": mean + half, "p50": p50, "p95": p95}


def summarize(
    runs: pd.DataFrame, keys: Sequence[str], seeds: Sequence[int], overrides: str = ""
) -> pd.DataFrame:
    """One row per `keys` (e.g. point and schedule), in the order they first appear:
    the summary columns as means over replications, then the statistics and the record
    (`seeds` holds each point's seed). `describe`, for every group at once."""
    grouped = runs.groupby(list(keys), sort=False)
    declared = [c for c in runs.columns if c not in ("point", *RUN_COLUMNS)]
    averaged = [c for c in SUMMARY_COLUMNS if c not in (*keys, *_CONSTANT, "schedule")]
    averaged += declared
    averaged.remove("makespan_hms")
    kept = [c for c in ("point", *_CONSTANT) if c not in keys]
    table = grouped[averaged].mean().join(grouped[kept].first())
    count = grouped.size()
    for figure, column in _FIGURES.items():
        values = grouped[column]
        sd = values.std(ddof=1)
        half = _t_quantile(count - 1) * sd / np.sqrt(count)
        mean = table[column]
        table[f"{figure}_sd_s"] = sd
        table[f"{figure}_ci_low_s"] = mean - half
        table[f"{figure}_ci_high_s"] = mean + half
        table[f"{figure}_p50_s"] = values.quantile(0.5)
        table[f"{figure}_p95_s"] = values.quantile(0.95)
    table = table.reset_index()
    table["makespan_hms"] = table["makespan_s"].map(format_hms)
    table["replications"] = count.to_numpy()
    table["seed"] = [seeds[point] for point in table["point"]]
    table["overrides"] = overrides
    columns = [key for key in keys if key not in SUMMARY_COLUMNS]
    columns += [*SUMMARY_COLUMNS, *declared, *STATISTIC_COLUMNS, *RECORD_COLUMNS]
    return table[columns]


def _t_quantile(df: pd.Series) -> np.ndarray:
    """Student's t at (1 + CONFIDENCE)/2 for each number of degrees of freedom (NaN for 0).

    scipy is imported only when some row has a spread: a deterministic run (one
    replication) should not pay its half-second import."""
    df = df.to_numpy(dtype=float)
    if not (df > 0).any():
        return np.full(df.shape, np.nan)
    from scipy.special import stdtrit

    return np.where(df > 0, stdtrit(np.maximum(df, 1), (1 + CONFIDENCE) / 2), np.nan)
