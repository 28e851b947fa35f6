"""The engine: plays a workload under one schedule in virtual time, on SimPy.

One module per schedule; `play` picks it by the schedule's kind. The engine
returns a `Trace` and does nothing else: no printing, no files, no pandas.
`stepwise` is the plain engine (a SimPy process per game, a timeout per step)
that the fast modules are checked against.
"""

from __future__ import annotations

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
    return player(workload, schedule, rng or np.random.default_rng(0))
