"""Run a scenario under its schedules and keep what came out, ready for tables.

This is the one entry point the CLI and notebooks share: `run` expands the
scenario once, plays every schedule on the same workload and hands back a
`Result` whose tables are built on first use. One call is one replication;
`sim.replications` runs many.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim import streams, tables
from sim.engine import play, threaded
from sim.scenario import Scenario
from sim.schedules import Schedule
from sim.trace import Trace
from sim.workload import Workload

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Result", "run", "workload_of"]


@dataclass(frozen=True, eq=False)
class Result:
    """The traces of one scenario's schedules; `baseline` is the synchronous makespan.

    The tables are pandas DataFrames with the CSV files' columns, built on first use:

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
        return tables.summary(self.traces, self.baseline)

    @cached_property
    def games(self) -> pd.DataFrame:
        """One row per game and schedule: start, end, where its time went (`games.csv`)."""
        return tables.games(self.traces)

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per step: ready, start, end and host of every step (`steps.csv`)."""
        return tables.steps(self.traces)

    def trace(self, label: str) -> Trace:
        """The raw columns of one schedule's run, by its label."""
        return next(trace for trace in self.traces if trace.schedule.label == label)

    def plot(self, until: float | None = None) -> Figure:
        """The timeline figure: a panel per schedule on one time axis, a row per game, bars
        by step kind (`sim.plots.timeline`, as `sim run` draws timeline.png). In a
        notebook it shows itself; elsewhere `r.plot().savefig("timeline.png")`."""
        from sim.plots import timeline

        return timeline(self.traces, until=until)


def run(
    scenario: Scenario | str | Path,
    schedules: Sequence[Schedule | str] | None = None,
    seed: int | None = None,
    replication: int = 0,
) -> Result:
    """Play `scenario` under `schedules` (default: the scenario's own list).

    `scenario` is a `Scenario`, or a file path or name as `sim.load` takes it. A
    schedule may be named by kind (`"cooperative"`); speedups are against the
    synchronous schedule, which is played for that even when not asked for.
    Every schedule plays the same workload, drawn from replication
    `replication`'s stream of `seed` (default: the scenario's `seed`); each
    schedule has its own stream for what it leaves to chance (`sim.streams`).

    >>> import sim
    >>> r = sim.run("polgar", schedules=["cooperative"])
    >>> row = r.summary.iloc[0]
    >>> float(row.makespan_s), round(float(row.speedup), 2)
    (3655.0, 11.82)
    """
    if not isinstance(scenario, Scenario):
        from sim.loader import load

        scenario = load(scenario)
    chosen = scenario.schedules if schedules is None else tuple(map(_schedule, schedules))
    seed = scenario.seed if seed is None else seed
    workload = workload_of(scenario, seed, replication)
    notes: list[str] = []
    if schedules is None and "schedules" not in scenario.model_fields_set:
        chosen, notes = _affordable(workload, chosen)

    def play_one(schedule: Schedule) -> Trace:
        return play(workload, schedule, streams.schedule_rng(seed, replication, schedule.label))

    traces = tuple(map(play_one, chosen))
    synchronous = next((t for t in traces if t.schedule.kind == "synchronous"), None)
    if synchronous is None:
        synchronous = play_one(Schedule.of("synchronous"))
    return Result(scenario, traces, synchronous.makespan, seed, tuple(notes))


def _affordable(
    workload: Workload, schedules: tuple[Schedule, ...]
) -> tuple[tuple[Schedule, ...], list[str]]:
    """The default schedules minus a threaded one too long to play (asked for, it is an error)."""
    kept, notes = [], []
    for schedule in schedules:
        bound = threaded.switches_bound(workload, schedule)
        if bound > threaded.SWITCH_BUDGET:
            switches = f"{bound:,}".replace(",", " ")
            notes.append(
                f"{schedule.label} left out: up to {switches} GIL switches to play; list it "
                "under `schedules:` with a longer switch_interval to see it"
            )
        else:
            kept.append(schedule)
    return tuple(kept), notes


def workload_of(scenario: Scenario, seed: int | None = None, replication: int = 0) -> Workload:
    """The workload replication `replication` plays: its durations drawn from that
    replication's stream of `seed` (default: the scenario's); fixed ones as they are."""
    seed = scenario.seed if seed is None else seed
    return Workload.of(scenario, streams.workload_rng(seed, replication))


def _schedule(schedule: Schedule | str) -> Schedule:
    return Schedule.of(schedule) if isinstance(schedule, str) else schedule
