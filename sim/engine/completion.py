"""The rest of a trace, from when each host-holding step started.

Once the engine knows when every step that holds a host started, everything
else follows without choice: such a step ends `duration` later; any other
step starts when the step before it in its game ended (0 for a game's first
step) and ends `duration` later; a step that holds a host was ready when the
step before it ended. The cooperative engine therefore records only the
starts (and hosts) in its hot loop and leaves the rest to numpy here.

Each `end = start + duration` is the same single float addition a timeout
per step would make, and a run of consecutive steps is filled step after
step, so every float is the one the plain engine gives.
"""

from __future__ import annotations

import numpy as np

from sim.engine.trace import Trace

__all__ = ["complete_from_starts"]


def complete_from_starts(trace: Trace, holds: np.ndarray) -> None:
    """Complete `trace` in place from the `start` of its host-holding steps (`holds`).

    Fills every step's `end` and `ready`, and the `start` of the steps that hold no host.
    """
    workload = trace.workload
    duration, start, end, ready = workload.duration, trace.start, trace.end, trace.ready
    first = np.zeros(len(duration), dtype=bool)
    first[workload.first_step[:-1]] = True  # a game's first step comes after nothing
    held = np.flatnonzero(holds)
    end[held] = start[held] + duration[held]
    free = np.flatnonzero(~holds)
    if len(free):
        # a free step right after another free step of its game must wait for it
        chained = ~first[free] & ~holds[free - 1]
        for level in _levels(free, chained) if chained.any() else [free]:
            began = np.where(first[level], 0.0, end[level - 1])  # row -1: masked by `first`
            start[level] = began
            end[level] = began + duration[level]
    ready[:] = start
    later = held[~first[held]]
    ready[later] = end[later - 1]
    ready[held[first[held]]] = 0.0


def _levels(free: np.ndarray, chained: np.ndarray) -> list[np.ndarray]:
    """Free rows by their place in a run of free steps: first steps of runs, then second, …"""
    run_start = np.maximum.accumulate(np.where(chained, 0, free))
    place = free - run_start
    order = np.argsort(place, kind="stable")  # rows stay in order within a place
    bounds = np.cumsum(np.bincount(place))[:-1]
    return np.split(free[order], bounds)
