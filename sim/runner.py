"""Run a scenario under its schedules and keep what came out, ready for tables.

This is the one entry point the CLI and notebooks share: `run` expands the
scenario once, plays every schedule on the same workload and hands back a
`Result` whose tables are built on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sim import tables
from sim.engine import play, threaded
from sim.scenario import Scenario
from sim.schedules import Schedule
from sim.trace import Trace
from sim.workload import Workload

__all__ = ["Result", "run"]


@dataclass(frozen=True, eq=False)
class Result:
    """The traces of one scenario's schedules; `baseline` is the synchronous makespan."""

    scenario: Scenario
    traces: tuple[Trace, ...]
    baseline: float
    notes: tuple[str, ...] = ()  # what was left out of the default schedules, and why

    @cached_property
    def summary(self) -> pd.DataFrame:
        return tables.summary(self.traces, self.baseline)

    @cached_property
    def games(self) -> pd.DataFrame:
        return tables.games(self.traces)

    @cached_property
    def steps(self) -> pd.DataFrame:
        return tables.steps(self.traces)

    def trace(self, label: str) -> Trace:
        return next(trace for trace in self.traces if trace.schedule.label == label)


def run(
    scenario: Scenario, schedules: Sequence[Schedule | str] | None = None, seed: int = 0
) -> Result:
    """Play `scenario` under `schedules` (default: the scenario's own list).

    A schedule may be named by kind (`"cooperative"`); speedups are against the
    synchronous schedule, which is played for that even when not asked for.
    Every schedule plays the same workload; `seed` drives what is left to chance.
    """
    chosen = scenario.schedules if schedules is None else tuple(map(_schedule, schedules))
    workload = Workload.of(scenario)
    notes: list[str] = []
    if schedules is None and "schedules" not in scenario.model_fields_set:
        chosen, notes = _affordable(workload, chosen)
    rng = np.random.default_rng(seed)
    traces = tuple(play(workload, schedule, rng) for schedule in chosen)
    synchronous = next((t for t in traces if t.schedule.kind == "synchronous"), None)
    if synchronous is None:
        synchronous = play(workload, Schedule.of("synchronous"), rng)
    return Result(scenario, traces, synchronous.makespan, tuple(notes))


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


def _schedule(schedule: Schedule | str) -> Schedule:
    return Schedule.of(schedule) if isinstance(schedule, str) else schedule
