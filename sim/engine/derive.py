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

from sim.trace import Trace

__all__ = ["fill_in"]


def fill_in(trace: Trace, holds: np.ndarray) -> None:
    """Fill `ready`, the free steps' `start`, and `end`, from `start` of held steps."""
    workload = trace.workload
    duration, start, end, ready = workload.duration, trace.start, trace.end, trace.ready
    steps = len(duration)
    first = np.zeros(steps, dtype=bool)
    first[workload.first_step[:-1]] = True  # a game's first step comes after nothing
    held = np.flatnonzero(holds)
    end[held] = start[held] + duration[held]
    # free steps, in runs: each run's n-th step waits for its (n−1)-th
    free = ~holds
    opens = free & (first | np.concatenate(([True], ~free[:-1])))
    rows = np.flatnonzero(free)
    if len(rows):
        run_start = np.maximum.accumulate(np.where(opens[rows], rows, 0))
        place = rows - run_start  # 0 for a run's first step, 1 for the next, …
        order = np.argsort(place, kind="stable")
        sizes = np.bincount(place)
        lo = 0
        for size in sizes.tolist():
            level = rows[order[lo : lo + size]]
            lo += size
            before = level - 1
            began = np.where(first[level], 0.0, end[np.maximum(before, 0)])
            start[level] = began
            end[level] = began + duration[level]
    ready[:] = start
    held_later = held[~first[held]]
    ready[held_later] = end[held_later - 1]
    ready[held[first[held]]] = 0.0
