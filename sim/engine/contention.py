"""Runs of forced GIL switches, settled in one tight loop.

While several threads want the GIL and nothing else happens, `sim.engine.gil`
switches it every `interval` (plus the switch cost), and that is all that
happens: who holds it after each switch is a chain of draws on the pool of
threads (the holder and its waiters), never staying put. A polgar-sized run
has hundreds of thousands of these switches between two events of the
environment; doing the lock's full bookkeeping (timers, slots, records) at
each one would dominate the run, so a whole run is drawn here with only the
holder sequence and the work left, and settled once at its end.

Hot path, written plainly for speed: Python lists and ints, no numpy calls
per switch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Run", "run_of_switches"]


@dataclass(frozen=True, slots=True)
class Run:
    """`switches` forced switches and what they leave behind, per index into the pool."""

    switches: int
    holder: int  # who holds the GIL after the last switch
    requester: int  # who will ask for the next switch (the last one dropped)
    work: list[float]  # work left per thread (the holder's at the start of its slice)
    last_dropped: list[int]  # per thread: the switch at which it last lost the GIL, or -1
    first_taken: list[int]  # per thread: the switch at which it first took it, or -1


def run_of_switches(
    work: list[float],
    interval: float,
    limit: int,
    requester: int,
    requester_first: float,
    rng: np.random.Generator,
) -> Run:
    """Settle up to `limit` forced switches; pool index 0 holds the GIL before the first.

    At each switch the waiter that asked for it (`requester`, then always the
    thread dropped at the switch before) takes the GIL with probability
    `requester_first`, else a waiter drawn uniformly. Stops after the switch
    that gives the GIL to a thread able to finish within one slice.
    """
    pool = len(work)
    left = list(work)
    draws: list[float] = []
    last_dropped = [-1] * pool
    first_taken = [-1] * pool
    holder = 0
    for switch in range(limit):
        if not draws:  # a run often ends early: draw in small batches
            draws = rng.random(2 * min(limit - switch, 128)).tolist()
        if requester >= 0 and draws.pop() < requester_first:
            taker = requester
            draws.pop()
        else:
            taker = int(draws.pop() * (pool - 1))
            taker += taker >= holder  # any of the others
        last_dropped[holder] = switch
        if first_taken[taker] < 0:
            first_taken[taker] = switch
        requester, holder = holder, taker
        if left[holder] <= interval or switch == limit - 1:
            return Run(switch + 1, holder, requester, left, last_dropped, first_taken)
        left[holder] -= interval
    raise ValueError("a run needs at least one switch")
