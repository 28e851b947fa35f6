"""The engine: plays a workload under one schedule in virtual time, on SimPy.

One module per schedule; `play` picks it by the schedule's kind. The engine
returns a `Trace` and does nothing else: no printing, no files, no pandas.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.engine import cooperative, synchronous
from sim.schedules import Schedule, ScheduleKind
from sim.trace import Trace
from sim.workload import Workload

__all__ = ["PLAYERS", "play"]

PLAYERS: dict[ScheduleKind, Callable[[Workload, Schedule], Trace]] = {
    "synchronous": synchronous.play,
    "cooperative": cooperative.play,
}


def play(workload: Workload, schedule: Schedule) -> Trace:
    """Play every game of `workload` under `schedule`; return when each step ran."""
    return PLAYERS[schedule.kind](workload, schedule)
