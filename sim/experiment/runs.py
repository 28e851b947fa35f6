"""One run: a scenario played under its schedules, on one workload.

This is the one entry point the CLI and notebooks share: `run` expands the
scenario once, plays every schedule on the same workload and hands back a
`Result` whose tables are built on first use. One call is one replication;
`sim.experiment.replications` runs many.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from sim.engine import play, threaded
from sim.engine.deadlock import Deadlock
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.experiment import streams
from sim.results.result import Result
from sim.scenario.loader import schedule_of
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule, played
from sim.scenario.units import format_count, format_seconds

__all__ = ["play_schedule", "run", "workload_of"]


def run(
    scenario: Scenario | str | Path,
    schedules: Sequence[Schedule | str] | None = None,
    seed: int | None = None,
    replication: int = 0,
) -> Result:
    """Play `scenario` under `schedules` (default: the scenario's own list).

    `scenario` is a `Scenario`, or a file path or name as `sim.load` takes it. A
    schedule may be given as text, as `--schedule` takes it: a kind (`"cooperative"`),
    a label (`"threaded(threads=8)"`) or a mapping as a file writes it. Speedups are
    against the synchronous schedule, which is played for that even when not asked for.
    Every schedule plays the same workload, drawn from replication
    `replication`'s stream of `seed` (default: the scenario's `seed`); each
    schedule has its own stream for what it leaves to chance (`sim.experiment.streams`).

    Games that wait on one another may deadlock under a schedule (`Deadlock`): a
    schedule of the scenario's own list is then left out with a note in
    `Result.notes` (speedups need the synchronous one); one named in `schedules`
    raises it, as does a run in which every schedule deadlocks.

    >>> import sim
    >>> r = sim.run("polgar", schedules=["cooperative"])
    >>> row = r.summary.iloc[0]
    >>> float(row.makespan_s), round(float(row.speedup), 2)
    (3655.0, 11.82)
    """
    if not isinstance(scenario, Scenario):
        from sim.scenario.loader import load

        scenario = load(scenario)
    chosen = (
        scenario.schedules
        if schedules is None
        else tuple(schedule_of(scenario, schedule) for schedule in schedules)
    )
    seed = scenario.seed if seed is None else seed
    workload = workload_of(scenario, seed, replication)
    notes: list[str] = []
    if schedules is None and "schedules" not in scenario.model_fields_set:
        chosen, notes = _affordable(workload, chosen)

    def play_one(schedule: Schedule) -> Trace:
        return play_schedule(workload, schedule, seed, replication)

    asked = schedules is not None  # named by the caller, not the scenario's own list
    traces: list[Trace] = []
    baseline = math.nan
    for place, schedule in enumerate(played(chosen)):
        try:
            trace = play_one(schedule)
        except Deadlock as deadlock:
            # a program whose games need each other may have no synchronous version, nor
            # one on a single process: a schedule of the scenario's own list that cannot
            # play it is left out, with a note; one the caller named is an error
            if place < len(chosen) and asked:
                raise
            why = "one game at a time, it" if schedule.kind == "synchronous" else "it"
            notes.append(f"{schedule.label} left out: {why} {_first_line(deadlock)}")
            if place == len(chosen) - 1 and not traces:
                raise
            continue
        if schedule.kind == "synchronous" and math.isnan(baseline):
            baseline = trace.makespan
        if place < len(chosen):
            traces.append(trace)
    return Result(scenario, tuple(traces), baseline, seed, tuple(notes))


def play_schedule(workload: Workload, schedule: Schedule, seed: int, replication: int = 0) -> Trace:
    """One schedule played on `workload` with its own stream of chance, as `run` plays it."""
    return play(workload, schedule, streams.schedule_rng(seed, replication, schedule.label))


def _first_line(deadlock: Deadlock) -> str:
    """The deadlock in one line: its first wait, and how many others."""
    first, more = deadlock.waits[0], len(deadlock.waits) - 1
    others = f" (and {more} other wait{'s' if more > 1 else ''})" if more else ""
    return f"deadlocks at t = {format_seconds(deadlock.at)}: {first}{others}"


def _affordable(
    workload: Workload, schedules: tuple[Schedule, ...]
) -> tuple[tuple[Schedule, ...], list[str]]:
    """The default schedules minus a threaded one too long to play (asked for, it is an error)."""
    kept, notes = [], []
    for schedule in schedules:
        bound = threaded.switches_bound(workload, schedule)
        if bound > threaded.SWITCH_BUDGET:
            switches = format_count(bound)
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
