"""Cooperative: games share hosts step by step, as coroutines share asyncio's loop.

Every game starts at 0. At a host step it queues for a host (FIFO by ready
time, ties in file order, see `HostPool`); at a wait step it holds nothing,
so a host is free to serve the others meanwhile. A block step (`time.sleep`
in a coroutine) holds the loop exactly like a host step. A host that takes
up a game other than the one it served last first pays `host.switch_cost`:
the step starts after it, so the game sees it as waiting for the host.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from sim.engine.hosts import HostPool
from sim.engine.record import Recorder
from sim.engine.switching import Switches
from sim.schedules import Schedule
from sim.trace import NO_HOST, Trace
from sim.workload import WAIT, Workload

__all__ = ["play"]


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    env = simpy.Environment()
    hosts = HostPool(env, schedule.hosts(workload.hosts))
    record = Recorder(workload)
    switches = Switches(workload, workload.hosts)
    first = workload.first_step
    kinds, durations = workload.kind, workload.duration
    for game in range(workload.games):
        lo, hi = first[game], first[game + 1]
        steps = zip(kinds[lo:hi].tolist(), durations[lo:hi].tolist(), strict=True)
        env.process(_game(env, hosts, record, switches, game, steps))
    env.run()
    return switches.stamp(record.trace(schedule))


def _game(
    env: simpy.Environment,
    hosts: HostPool,
    record: Recorder,
    switches: Switches,
    game: int,
    steps: zip,
) -> Generator[simpy.Event, object, None]:
    ready: list[float] = []
    start: list[float] = []
    end: list[float] = []
    held: list[int] = []
    for kind, duration in steps:
        ready.append(env.now)
        if kind != WAIT:  # a host or a block step holds the host
            host = yield hosts.request(game)
            cost = switches.to(host, game)
            if cost:
                start.append(env.now + cost)
                yield env.timeout(cost + duration)
            else:
                start.append(env.now)
                yield env.timeout(duration)
            hosts.release(host)
        else:
            host = NO_HOST
            start.append(env.now)
            yield env.timeout(duration)
        end.append(env.now)
        held.append(host)
    record.game(game, ready, start, end, held)
