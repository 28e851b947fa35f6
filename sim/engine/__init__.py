"""The engine: plays a workload under one schedule in virtual time, on SimPy.

One module per schedule; `play` picks it by the schedule's kind. The engine
returns a `Trace` and does nothing else: no printing, no files, no pandas.
`stepwise` is the plain engine (a SimPy process per game, a timeout per step)
that the fast modules are checked against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from sim.engine import cooperative, parallel, runners, stepwise, synchronous, threaded
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule, ScheduleKind

__all__ = ["PLAYERS", "STEPWISE", "play"]

Player = Callable[[Workload, Schedule, np.random.Generator], Trace]

#: Each schedule's player. `rng` drives what the schedule itself leaves to chance (the
#: GIL's handoffs under threaded; the others use none); the workload's durations are
#: drawn before.
PLAYERS: dict[ScheduleKind, Player] = {
    "synchronous": synchronous.play,
    "cooperative": cooperative.play,
    "threaded": threaded.play,
    "parallel": parallel.play,
}

#: The plain event-by-event player of each schedule, the yardstick for `PLAYERS`.
STEPWISE: dict[ScheduleKind, Player] = {
    "synchronous": stepwise.play,
    "cooperative": stepwise.play,
}


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator | None = None) -> Trace:
    """Play every game of `workload` under `schedule`; return when each step ran.

    Games that share limits, queues or fan-out are played by `sim.engine.runners`.
    """
    player = runners.play if workload.shared is not None else PLAYERS[schedule.kind]
    narrow = without_idle_hosts(workload, schedule)
    trace = player(narrow, schedule, rng or np.random.default_rng(0))
    return trace if narrow is workload else dataclasses.replace(trace, workload=workload)


def without_idle_hosts(workload: Workload, schedule: Schedule) -> Workload:
    """`workload` with no more hosts than games, where the others could never be used.

    Games that share nothing are one task each, so at most `games` of them hold a host
    (or a CPU) at once, and every schedule hands out the lowest free host first: hosts
    past the games' count stay idle and change no figure, but the players would keep
    a slot for each, a million of them for two games. The trace is played on the
    narrowed workload and handed back on the whole one, so what it reports (hosts,
    utilization, workers) is the scenario's. Not under parallel, whose workers start
    on the CPUs, nor where games share (a gather's children are tasks of their own).
    """
    if workload.shared is not None or schedule.kind == "parallel":
        return workload
    if workload.hosts <= max(workload.games, 1):
        return workload
    scenario = workload.scenario
    host = scenario.host.model_copy(update={"count": max(workload.games, 1)})
    return dataclasses.replace(workload, scenario=scenario.model_copy(update={"host": host}))
