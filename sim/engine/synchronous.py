"""Synchronous: a host plays one game from its first step to its last.

Every game is handed in at 0; games go in file order to the host that is free
first (the lowest-numbered among hosts freed at one instant), which holds it
through its wait steps too, as `time.sleep` holds a thread (a block step is
no different here). A host moving on to another game first pays
`host.switch_cost`.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from sim.engine.hosts import HostPool
from sim.engine.record import Recorder
from sim.engine.switching import Switches
from sim.schedules import Schedule
from sim.trace import Trace
from sim.workload import Workload

__all__ = ["play"]


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    env = simpy.Environment()
    hosts = HostPool(env, schedule.hosts(workload.hosts))
    record = Recorder(workload)
    switches = Switches(workload, workload.hosts)
    first = workload.first_step
    durations = workload.duration
    for game in range(workload.games):
        lo, hi = first[game], first[game + 1]
        env.process(_game(env, hosts, record, switches, game, durations[lo:hi].tolist()))
    env.run()
    return switches.stamp(record.trace(schedule))


def _game(
    env: simpy.Environment,
    hosts: HostPool,
    record: Recorder,
    switches: Switches,
    game: int,
    durations: list[float],
) -> Generator[simpy.Event, object, None]:
    host = yield hosts.request(game, ready=0.0)
    cost = switches.to(host, game)
    if cost:
        yield env.timeout(cost)
    start: list[float] = []
    end: list[float] = []
    for duration in durations:
        start.append(env.now)
        yield env.timeout(duration)
        end.append(env.now)
    hosts.release(host)
    ready = [0.0, *start[1:]]  # the first step waited since 0; the rest had the host
    record.game(game, ready, start, end, [host] * len(durations))
