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
    narrow, own = without_idle_hosts(workload, schedule), without_idle_workers(workload, schedule)
    trace = player(narrow, own, rng or np.random.default_rng(0))
    if narrow is workload and own is schedule:
        return trace
    return dataclasses.replace(trace, workload=workload, schedule=schedule)


def without_idle_hosts(workload: Workload, schedule: Schedule) -> Workload:
    """`workload` with no more hosts than games, where the others could never be used.

    Games that share nothing are one task each, so at most `games` of them hold a host
    (or a CPU) at once, and every schedule hands out the lowest free host first: hosts
    past the games' count stay idle and change no figure, but the players would keep
    a slot for each, a million of them for two games. The trace is played on the
    narrowed workload and handed back on the whole one, so what it reports (hosts,
    utilization, workers) is the scenario's. Not where games share (a gather's
    children are tasks of their own), nor under parallel with a `start_cost`, whose
    every worker starts on the CPUs, game or no game.
    """
    if workload.shared is not None or _workers_start(schedule):
        return workload
    if workload.hosts <= max(workload.games, 1):
        return workload
    scenario = workload.scenario
    host = scenario.host.model_copy(update={"count": max(workload.games, 1)})
    return dataclasses.replace(workload, scenario=scenario.model_copy(update={"host": host}))


def without_idle_workers(workload: Workload, schedule: Schedule) -> Schedule:
    """`schedule` with no more worker processes than games, where the others would only
    wait (parallel without a `start_cost`: a worker costs nothing until it takes a game,
    and the lowest free one takes it); as `without_idle_hosts`, for `processes`."""
    params = schedule.parallel
    if params is None or workload.shared is not None or _workers_start(schedule):
        return schedule
    games = max(workload.games, 1)
    if schedule.workers(workload.games, workload.hosts) <= games:
        return schedule
    return schedule.model_copy(update={"parallel": params.model_copy(update={"processes": games})})


def _workers_start(schedule: Schedule) -> bool:
    params = schedule.parallel
    return params is not None and params.start_cost > 0
