"""Columns a schedule fills in while it plays; they become the `Trace`.

Each game keeps its own short Python lists while it runs and writes them as
one slice when it ends: appending floats is cheap, and numpy element writes
in the hot loop would not be.
"""

from __future__ import annotations

import numpy as np

from sim.schedules import Schedule
from sim.trace import NO_HOST, Trace
from sim.workload import Workload

__all__ = ["Recorder"]


class Recorder:
    def __init__(self, workload: Workload) -> None:
        steps = len(workload.kind)
        self.workload = workload
        self.ready = np.zeros(steps)
        self.start = np.zeros(steps)
        self.end = np.zeros(steps)
        self.host = np.full(steps, NO_HOST, dtype=np.int32)
        self.switches = 0  # times a host moved to a different game
        self.switch_time = 0.0  # seconds that cost
        self._last_game = [-1] * workload.hosts  # per host: the game it served last (-1: none)

    def switch(self, host: int, game: int) -> float:
        """Note that `host` takes up `game`; return the switch cost it pays first.

        A host pays `host.switch_cost` when it moves from one game to a
        different one; the first game it ever serves costs nothing.
        """
        last, self._last_game[host] = self._last_game[host], game
        cost = self.workload.switch_cost
        if last == game or last < 0:
            return 0.0
        self.switches += 1
        self.switch_time += cost
        return cost

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
        return Trace(
            self.workload,
            schedule,
            self.ready,
            self.start,
            self.end,
            self.host,
            switches=self.switches,
            switch_time=self.switch_time,
        )
