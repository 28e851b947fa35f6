"""One run's outcome: the traces of a scenario's schedules, and their tables.

A `Result` is what `sim.run` returns and what every table, sentence and file
of a run is made from. Its tables are built from the traces on first use, so
a run whose tables nobody asks for costs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sim.engine.trace import Trace
from sim.results import tables
from sim.results.columns import Columns
from sim.scenario.model import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Result"]


@dataclass(frozen=True, eq=False)
class Result:
    """The traces of one scenario's schedules; `baseline` is the synchronous makespan.

    The tables are pandas DataFrames with the CSV files' columns, built on first use
    (`summary_rows` and the `*_columns` tables hold the same without pandas):

    >>> import sim
    >>> r = sim.run(sim.load("countasync"))
    >>> r.summary[["schedule", "makespan_s", "speedup"]].values.tolist()
    [['synchronous', 3.0, 1.0], ['cooperative', 1.0, 3.0]]
    >>> r.games.groupby("schedule", observed=True)["end_s"].max().to_dict()
    {'cooperative': 1.0, 'synchronous': 3.0}
    >>> len(r.games), len(r.steps)  # 3 games of 3 steps (host, wait 1 s, host), 2 schedules
    (6, 18)
    """

    scenario: Scenario
    traces: tuple[Trace, ...]
    baseline: float
    seed: int = 0
    notes: tuple[str, ...] = ()  # what was left out of the default schedules, and why

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per schedule: makespan, speedup, host utilization, … (`summary.csv`)."""
        return self.summary_columns.frame()

    @cached_property
    def summary_rows(self) -> list[dict]:
        """The summary's rows as dicts: what the printed table is made from."""
        return tables.summary_rows(self.traces, self.baseline)

    @cached_property
    def summary_columns(self) -> Columns:
        return tables.summary_columns(self.summary_rows)

    @cached_property
    def games(self) -> pd.DataFrame:
        """One row per game and schedule: start, end, where its time went (`games.csv`)."""
        return self.games_columns.frame()

    @cached_property
    def games_columns(self) -> Columns:
        return tables.games_columns(self.traces)

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per step: ready, start, end and host of every step (`steps.csv`)."""
        return tables.steps(self.traces)

    def trace(self, label: str) -> Trace:
        """The raw columns of one schedule's run, by its label."""
        return next(trace for trace in self.traces if trace.schedule.label == label)
