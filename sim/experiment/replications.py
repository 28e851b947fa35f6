"""Replications: a scenario played many times on independent streams, and what they say.

Replication r of a scenario is `sim.experiment.runs.run(..., replication=r)`: its
durations come from stream r (`sim.experiment.streams`), the same for every schedule and
every point of a sweep. Work is cut into batches (one point, a run of
consecutive replications) that any executor can play; a batch sends back only
summary rows, never traces.

Statistics over replications, per schedule (and per point): the mean of every
summary figure, and for the makespan and the mean game time also the
standard deviation, a 95 % confidence interval for the mean (Student's t with
n − 1 degrees of freedom) and the 50th and 95th percentiles (numpy's default,
linear between order statistics).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.experiment.runs import run
from sim.results.columns import Columns
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
    "Replicated",
    "batches",
    "describe",
    "play_all",
    "play_batch",
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


def play_batch(batch: Batch) -> list[dict]:
    """Summary rows of each replication of the batch (run in a worker process)."""
    rows = []
    for index in range(batch.first, batch.first + batch.count):
        rows += rows_of(run(batch.scenario, batch.schedules, replication=index), batch.point, index)
    return rows


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
    start = 1 if played else 0
    work = sorted(batches(points, schedules, executor.workers, start), key=lambda b: -b.cost)
    finished = executor.map(play_batch, work, None if done is None else lambda b: done(b.count))
    # A batch's rows are consecutive replications of one point: putting the batches in
    # (point, first replication) order puts every row in place (schedules stay in order).
    order = sorted(range(len(work)), key=lambda i: (work[i].point, work[i].first))
    rows = [*played, *(row for i in order for row in finished[i])]
    return frame(rows)


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
