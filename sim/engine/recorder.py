"""Columns a schedule fills in while it plays; they become the `Trace`.

Each game keeps its own short Python lists while it runs and writes them as
one slice when it ends: appending floats is cheap, and numpy element writes
in the hot loop would not be.
"""

from __future__ import annotations

import numpy as np

from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["Recorder"]


class Recorder:
    def __init__(self, workload: Workload) -> None:
        steps = len(workload.kind)
        self.workload = workload
        self.ready = np.zeros(steps)
        self.start = np.zeros(steps)
        self.end = np.zeros(steps)
        self.host = np.full(steps, NO_HOST, dtype=np.int32)

    def game(
        self, game: int, ready: list[float], start: list[float], end: list[float], host: list[int]
    ) -> None:
        """Store one finished game's steps."""
        lo = self.workload.first_step[game]
        hi = lo + len(start)
        self.ready[lo:hi] = ready
        self.start[lo:hi] = start
        self.end[lo:hi] = end
        self.host[lo:hi] = host

    def trace(self, schedule: Schedule) -> Trace:
        return Trace(self.workload, schedule, self.ready, self.start, self.end, self.host)
