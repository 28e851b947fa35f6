"""The plain engine: one SimPy process per game, one timeout per step.

Slow and obviously right, it reads docs/design.md's semantics straight off: a game
walks its steps; a step that holds a host under the schedule asks `HostPool`
for one (handed out at the end of the instant by the tie rule). Under
synchronous the game asks once and keeps its host to the end. The fast
modules (`cooperative`, `synchronous`) are differenced against this one in the
tests, step by step and bit for bit; they hand over to it where they have no
fast path: a `host.switch_cost` (a host that takes up a game other than its
last one first pays it, so the step starts after it) and a schedule that
plays on fewer hosts than the scenario has (`hosts: 1`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import NamedTuple

import numpy as np
import simpy

from sim.engine.holding import holds_host
from sim.engine.hosts import HostPool
from sim.engine.recorder import Recorder
from sim.engine.switching import Switches
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["play"]


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    """Play every game as its own SimPy process; any schedule of this module's kinds."""
    env = simpy.Environment()
    hosts = HostPool(env, schedule.hosts(workload.hosts))
    record = Recorder(workload)
    switches = Switches(workload, workload.hosts)
    venue = _Venue(env, hosts, record, switches)
    first = workload.first_step
    holds, durations = holds_host(workload, schedule.kind), workload.duration
    whole_game = schedule.kind == "synchronous"
    for game in range(workload.games):
        lo, hi = first[game], first[game + 1]
        steps = list(zip(holds[lo:hi].tolist(), durations[lo:hi].tolist(), strict=True))
        body = _whole_game if whole_game else _step_by_step
        env.process(body(venue, game, steps))
    env.run()
    return switches.stamp(record.trace(schedule))


class _Venue(NamedTuple):
    """What every game's process plays against: the clock, the hosts, the record of
    each step and the switch costs."""

    env: simpy.Environment
    hosts: HostPool
    record: Recorder
    switches: Switches


def _step_by_step(
    venue: _Venue, game: int, steps: list[tuple[bool, float]]
) -> Generator[simpy.Event, object, None]:
    """Cooperative: a host for each step that holds one, none in between."""
    env, hosts, record, switches = venue
    ready: list[float] = []
    start: list[float] = []
    end: list[float] = []
    held: list[int] = []
    for holds, duration in steps:
        ready.append(env.now)
        if holds:
            host = yield hosts.request(game)
            cost = switches.to(host, game)
            if cost:
                yield env.timeout(cost)
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


def _whole_game(
    venue: _Venue, game: int, steps: list[tuple[bool, float]]
) -> Generator[simpy.Event, object, None]:
    """Synchronous: one host from the game's first step to its last."""
    env, hosts, record, switches = venue
    host = yield hosts.request(game, ready=0.0)
    cost = switches.to(host, game)
    if cost:
        yield env.timeout(cost)
    start: list[float] = []
    end: list[float] = []
    for _holds, duration in steps:
        start.append(env.now)
        yield env.timeout(duration)
        end.append(env.now)
    hosts.release(host)
    ready = [0.0, *start[1:]]  # the first step waited since 0; the rest had the host
    record.game(game, ready, start, end, [host] * len(steps))
