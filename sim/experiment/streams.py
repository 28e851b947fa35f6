"""Random streams: every draw of a run comes from a stream named by what it is for.

All streams derive from `numpy.random.SeedSequence(seed)` by a spawn key, not
by the order in which they are asked for, so adding a replication or a
schedule leaves the draws of the others as they were:

- replication r: the child `(r,)`, the same child `SeedSequence(seed).spawn`
  gives as its r-th;
- its workload (every duration drawn for it): `(r, 0)`. All schedules of a
  replication play this one workload: common random numbers, so a difference
  between schedules is never noise. Grid points of a sweep share it too;
- a schedule's own randomness: `(r, 1, *label)`, keyed by the schedule's label.
"""

from __future__ import annotations

import numpy as np

__all__ = ["replication", "schedule_rng", "workload_rng"]

_WORKLOAD, _SCHEDULE = 0, 1


def replication(seed: int, index: int) -> np.random.SeedSequence:
    """The stream of replication `index` (from 0)."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def workload_rng(seed: int, index: int) -> np.random.Generator:
    """Where replication `index` draws its durations."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index, _WORKLOAD)))


def schedule_rng(seed: int, index: int, label: str) -> np.random.Generator:
    """What schedule `label` may leave to chance in replication `index`."""
    key = (index, _SCHEDULE, *label.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
