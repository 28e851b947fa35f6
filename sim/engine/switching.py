"""Which game each host served last, and what moving to another one cost.

`host.switch_cost` is paid when a host takes up a game other than the one it
served last (Judit walking to the next board); the first game a host ever
serves costs nothing. Kept apart from the recorder so that any schedule can
count its switches the same way and stamp them on its trace.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload

__all__ = ["Switches", "with_switches_counted"]


class Switches:
    """Per host, the game it served last; the switches counted so far and their cost."""

    def __init__(self, workload: Workload, hosts: int) -> None:
        self.cost = workload.switch_cost
        self.count = 0
        self.time = 0.0
        self._last_game = [-1] * hosts

    def to(self, host: int, game: int) -> float:
        """`host` takes up `game`: the switch cost it pays first (0 for the same game)."""
        last, self._last_game[host] = self._last_game[host], game
        if last == game or last < 0:
            return 0.0
        self.count += 1
        self.time += self.cost
        return self.cost

    def stamp(self, trace: Trace) -> Trace:
        """The trace, with the switches counted here."""
        return dataclasses.replace(trace, switches=self.count, switch_time=self.time)


def with_switches_counted(trace: Trace) -> Trace:
    """The trace with its switches counted afterwards, for engines that pay none.

    A host moved to another game wherever two steps it served one after the
    other belong to different games: held steps in the order a host served
    them, by start, and within one instant (zero-length steps) by the tie
    rule's (ready time, game).
    """
    held = np.flatnonzero(trace.host != NO_HOST)
    game = trace.workload.game[held]
    order = held[np.lexsort((held, game, trace.ready[held], trace.start[held], trace.host[held]))]
    host, game = trace.host[order], trace.workload.game[order]
    moves = int(np.count_nonzero((host[1:] == host[:-1]) & (game[1:] != game[:-1])))
    return dataclasses.replace(
        trace, switches=moves, switch_time=moves * trace.workload.switch_cost
    )
