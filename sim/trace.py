"""What happened when one schedule played a workload: times of every step.

Columns align with the workload's step rows, so a trace adds only what the
schedule decided (when each step was ready, started and ended, on which host)
and stays a handful of numpy arrays even at millions of steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.schedules import Schedule
from sim.workload import Workload

__all__ = ["NO_HOST", "Trace"]

#: `host` of a step that held no host (a cooperative wait step).
NO_HOST = -1


@dataclass(frozen=True, eq=False)
class Trace:
    """Per step: `ready` (asked for a host, or began), `start`, `end`, `host` (from 0)."""

    workload: Workload
    schedule: Schedule
    ready: np.ndarray
    start: np.ndarray
    end: np.ndarray
    host: np.ndarray

    @property
    def makespan(self) -> float:
        """Virtual seconds from the start until the last game ends."""
        return float(self.end.max()) if len(self.end) else 0.0

    def game_ends(self) -> np.ndarray:
        """End time of every game (its last step's end; 0 for a game without steps)."""
        last = self.workload.first_step[1:] - 1
        return self.end[last]
