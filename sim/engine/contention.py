"""Runs of forced GIL switches, computed together with numpy.

While several threads want the GIL and nothing else happens, `sim.engine.gil`
switches it every `interval` (plus the switch cost) to a waiter drawn
uniformly from the others, and that is all that happens: the holders form
a random walk on the pool of threads that never stays put. A polgar-sized
run has hundreds of thousands of these switches between two events of the
environment; playing them one by one in Python would dominate the run, so
a whole run of them is drawn and settled at once here.

A step is `offset` ∈ {1, …, m} added to the holder's index modulo m + 1 (the
pool: the holder and its m waiters), which is a uniform draw among the
others; a running count of each thread's slices says where the first
thread finishes its host step, which ends the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Run", "run_of_switches"]


@dataclass(frozen=True, slots=True)
class Run:
    """`switches` forced switches; what they leave behind, per index into the pool."""

    switches: int
    holder: int  # the pool index holding the GIL after the last switch
    work: np.ndarray  # work left per thread (the holder's at the start of its slice)
    last_dropped: np.ndarray  # per thread: the switch at which it last lost the GIL, or -1
    first_taken: np.ndarray  # per thread: the switch at which it first took it, or `switches`


def run_of_switches(work: np.ndarray, interval: float, limit: int, draws: np.ndarray) -> Run:
    """Settle up to `limit` forced switches; pool index 0 holds the GIL before the first.

    `work` is each thread's work left (index 0: after its current slice);
    `draws` are uniform on [0, 1), at least `limit` of them. Stops after the
    switch that gives the GIL to a thread able to finish within one slice.
    """
    pool = len(work)
    offsets = 1 + (draws[:limit] * (pool - 1)).astype(np.int64)
    holders = np.cumsum(offsets) % pool  # after switch j: holders[j]
    # the slice in which each thread finishes: its ⌈work / interval⌉-th
    need = np.maximum(1, np.ceil(work / interval)).astype(np.int64)
    order = np.argsort(holders, kind="stable")
    ranked = holders[order]
    nth = np.empty(limit, dtype=np.int64)
    nth[order] = np.arange(limit) - np.searchsorted(ranked, ranked) + 1
    finishing = np.flatnonzero(nth >= need[holders])
    switches = int(finishing[0]) + 1 if len(finishing) else limit
    taken = holders[:switches]
    full = np.bincount(taken[:-1], minlength=pool)  # whole slices before the last holder's
    dropped = np.concatenate(([0], taken[:-1]))  # who lost the GIL at each switch
    last_dropped = np.full(pool, -1, dtype=np.int64)
    np.maximum.at(last_dropped, dropped, np.arange(switches))
    first_taken = np.full(pool, switches, dtype=np.int64)
    np.minimum.at(first_taken, taken, np.arange(switches))
    return Run(switches, int(taken[-1]), work - full * interval, last_dropped, first_taken)
