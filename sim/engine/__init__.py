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
from sim.engine.deadlock import Deadlock
from sim.engine.plan import GATHER, Op
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule, ScheduleKind

__all__ = ["PLAYERS", "STEPWISE", "on_hosts_in_use", "play", "player_of", "tasks_at_once"]

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

    Games that share limits, queues or fan-out are played by `sim.engine.runners`;
    `cooperative: {order: asyncio}` by asyncio itself (`sim.engine.asyncio_order`).
    """
    return on_hosts_in_use(
        player_of(workload, schedule), workload, schedule, rng or np.random.default_rng(0)
    )


def player_of(workload: Workload, schedule: Schedule) -> Player:
    """Who plays `workload` under `schedule`."""
    if schedule.cooperative is not None and schedule.cooperative.order == "asyncio":
        from sim.engine import asyncio_order  # asyncio itself: imported when asked for

        return asyncio_order.play
    return runners.play if workload.shared is not None else PLAYERS[schedule.kind]


def on_hosts_in_use(
    player: Player, workload: Workload, schedule: Schedule, rng: np.random.Generator
) -> Trace:
    """`player`'s trace, played on no more hosts and workers than tasks can use at once
    (`without_idle_hosts`, `without_idle_workers`) and handed back on the scenario's."""
    narrow, own = without_idle_hosts(workload, schedule), without_idle_workers(workload, schedule)
    own = _own_hosts(own, narrow, workload)
    try:
        trace = player(narrow, own, rng)
    except Deadlock as deadlock:  # told of the schedule as given
        raise Deadlock(schedule.label, deadlock.at, deadlock.waits) from None
    if narrow is workload and own is schedule:
        return trace
    # the played workload may hold more rows than the one given (consumers' rounds)
    played = trace.workload
    whole = (
        workload if played is narrow else dataclasses.replace(played, scenario=workload.scenario)
    )
    return dataclasses.replace(trace, workload=whole, schedule=schedule)


def tasks_at_once(workload: Workload) -> int:
    """The most tasks that can hold a host or a CPU at one instant: a game each where games
    share nothing; else every game, times the children its widest gather (nested
    gathers multiplied) has running at once, a gathering parent holding nothing."""
    if workload.shared is None:
        return workload.games
    plan = workload.plan

    def widest(ops: tuple[Op, ...]) -> int:
        return max([1, *(op.count * widest(op.child) for op in ops if op.code == GATHER)])

    return sum(
        group.count * widest(plan.ops[index])
        for index, group in enumerate(workload.scenario.players)
    )


def without_idle_hosts(workload: Workload, schedule: Schedule) -> Workload:
    """`workload` with no more hosts than can be busy at once, where the others could never
    be used.

    At most `tasks_at_once` tasks hold a host (or a CPU) at one instant, and every
    schedule hands out the lowest free host first: hosts past that count stay idle
    and change no figure, but the players would keep a slot for each, a million of
    them for two games. The trace is played on the narrowed workload and handed
    back on the whole one, so what it reports (hosts, utilization, workers) is the
    scenario's. Where games share, at least two hosts stay, so that a run never
    turns into the one-host run the players settle differently. Not under parallel
    with a `start_cost`, where the CPUs (the hosts) decide how long every worker
    takes to start: `sim.engine.parallel` plays its idle workers as one job.
    """
    if _workers_start(schedule):
        return workload
    keep = _hosts_kept(workload)
    if workload.hosts <= keep:
        return workload
    if schedule.kind in ("synchronous", "cooperative"):
        own = schedule.hosts(workload.hosts)
        if own < workload.hosts:  # the schedule plays on fewer: they stay fewer
            keep = min(workload.hosts, min(own, keep) + 1)
    scenario = workload.scenario
    host = scenario.host.model_copy(update={"count": keep})
    return dataclasses.replace(workload, scenario=scenario.model_copy(update={"host": host}))


def without_idle_workers(workload: Workload, schedule: Schedule) -> Schedule:
    """`schedule` with no more worker processes than games, where the others would only
    wait (parallel without a `start_cost`: a worker costs nothing until it takes a game,
    a game holds its worker throughout, and the lowest free one takes it); as
    `without_idle_hosts`, for `processes`."""
    params = schedule.parallel
    if params is None or _workers_start(schedule):
        return schedule
    games = max(workload.games, 1)
    if schedule.workers(workload.games, workload.hosts) <= games:
        return schedule
    return schedule.model_copy(update={"parallel": params.model_copy(update={"processes": games})})


def _hosts_kept(workload: Workload) -> int:
    if workload.shared is None:
        return max(workload.games, 1)
    return max(tasks_at_once(workload), 2)


def _own_hosts(own: Schedule, narrow: Workload, workload: Workload) -> Schedule:
    """A synchronous or cooperative schedule's own `hosts`, narrowed with the workload's."""
    params = getattr(own, own.kind)
    hosts = getattr(params, "hosts", None)
    if hosts is None or narrow is workload:
        return own
    kept = min(hosts, _hosts_kept(workload))
    if kept == hosts:
        return own
    return own.model_copy(update={own.kind: params.model_copy(update={"hosts": kept})})


def _workers_start(schedule: Schedule) -> bool:
    params = schedule.parallel
    return params is not None and params.start_cost > 0
