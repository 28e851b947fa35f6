"""What happened when one schedule played a workload: times of every step.

Columns align with the workload's step rows, so a trace adds only what the
schedule decided (when each step was ready, started and ended, on which host)
and stays a handful of numpy arrays even at millions of steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["NO_HOST", "Trace"]

#: `host` of a step that held no host (a cooperative wait step), or that no
#: single host ran (threads under the GIL, processes sharing CPUs); also a
#: `worker` that is not one (cooperative games all run on the event loop).
NO_HOST = -1


@dataclass(frozen=True, eq=False)
class Trace:
    """Per step: `ready` (asked for a host, or began), `start`, `end`, `host` (from 0).

    Schedules that preempt (threads) or share CPUs (processes) also give, per
    step, `stalled`: seconds between start and end when the step was ready but
    not running, so `end - start = duration + stalled`; and `worker`, the thread
    or process (from 0) that played the game. `switches` counts the times a
    host moved to a different game and `switch_time` the seconds that cost.
    """

    workload: Workload
    schedule: Schedule
    ready: np.ndarray
    start: np.ndarray
    end: np.ndarray
    host: np.ndarray
    worker: np.ndarray | None = None
    stalled: np.ndarray | None = None
    switches: int = 0
    switch_time: float = 0.0

    @property
    def makespan(self) -> float:
        """Virtual seconds from the start until the last game ends."""
        return float(self.end.max()) if len(self.end) else 0.0

    def workers(self) -> np.ndarray:
        """The worker of every step: given, or the host that holds the game (synchronous)."""
        if self.worker is not None:
            return self.worker
        if self.schedule.kind == "synchronous":
            return self.host
        return np.full(len(self.host), NO_HOST, dtype=np.int32)

    def game_ends(self) -> np.ndarray:
        """End time of every game: its last step's end or, where games share something,
        the latest end of its rows (a gather's children end in any order); 0 for a game
        without rows."""
        first = self.workload.first_step
        if self.workload.shared is None:
            return self.end[first[1:] - 1]
        played = first[1:] > first[:-1]
        ends = np.zeros(self.workload.games)
        if played.any():  # a game without rows adds no start: each slice is one game's rows
            ends[played] = np.maximum.reduceat(self.end, first[:-1][played])
        return ends
