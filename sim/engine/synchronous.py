"""Synchronous: a host plays one game from its first step to its last.

Every game is handed in at 0; games go in file order to the host that is free
first (the lowest-numbered among hosts freed at one instant), which holds it
through its wait steps too, as `time.sleep` holds a thread.

That is list scheduling, so it is computed, not simulated event by event:
a heap of hosts keyed by (free at, hand-out round, host) gives each game its
host, and each host's games then run back to back from 0, so their step times
are one running sum per host. The tests difference this against the plain
`stepwise` engine, host numbers included. Two details keep it exact:

- a game's end is its start plus its steps added one by one (`np.add.accumulate`
  adds left to right), the very floats a timeout per step would give;
- a game that ends the instant it starts frees its host for the *next*
  hand-out round of that instant (docs/design.md settles the instant, then hands
  out again), hence the round in the key.
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np

from sim.engine import stepwise
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["assign_hosts", "play"]


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    """Every game on its host, back to back: each step's ready, start, end and host."""
    if workload.switch_cost or schedule.hosts(workload.hosts) != workload.hosts:
        return stepwise.play(workload, schedule, rng)  # walks between games, fewer hosts
    first = workload.first_step
    lengths = np.diff(first)
    host_of_game = assign_hosts(workload)
    steps = len(workload.duration)
    start, end = np.empty(steps), np.empty(steps)
    if workload.hosts == 1:  # one running sum over every step, in file order
        _run_back_to_back(workload.duration, start, end)
    else:
        by_host = np.argsort(host_of_game, kind="stable")  # per host: its games in file order
        bounds = np.searchsorted(host_of_game[by_host], np.arange(workload.hosts + 1))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            if lo < hi:
                rows = _rows_of(by_host[lo:hi], first, lengths)
                began, ended = np.empty(len(rows)), np.empty(len(rows))
                _run_back_to_back(workload.duration[rows], began, ended)
                start[rows], end[rows] = began, ended
    ready = start.copy()
    ready[first[:-1]] = 0.0  # a game's first step waited since 0; the rest had the host
    host = np.repeat(host_of_game, lengths)
    moves = workload.games - len(set(host_of_game.tolist()))  # each host's games but its first
    return Trace(workload, schedule, ready, start, end, host, switches=moves)


def _run_back_to_back(durations: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
    """Steps one after another from 0: each ends at its start plus its duration."""
    end[:] = durations
    end[:1] += 0.0  # the clock starts at +0.0: 0.0 + d, even for d = -0.0
    np.add.accumulate(end, out=end)  # left to right: end[i] = end[i-1] + d[i]
    start[:1] = 0.0
    start[1:] = end[:-1]


def assign_hosts(workload: Workload) -> np.ndarray:
    """The host of every game, by list scheduling with docs/design.md's tie rule."""
    games, hosts = workload.games, workload.hosts
    if hosts == 1:
        return np.zeros(games, dtype=np.int32)
    first = workload.first_step.tolist()
    duration = memoryview(np.ascontiguousarray(workload.duration))
    host_of_game = np.empty(games, dtype=np.int32)
    free = [(0.0, 0, host) for host in range(hosts)]  # (free at, hand-out round, host)
    for game in range(games):
        at, round_, host = heappop(free)
        clock = at
        for step in duration[first[game] : first[game + 1]]:  # left to right, as time runs
            clock = clock + step
        host_of_game[game] = host
        heappush(free, (clock, round_ + 1 if clock == at else 0, host))
    return host_of_game


def _rows_of(games: np.ndarray, first: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Step rows of `games`, game after game, each game's steps in order."""
    sizes = lengths[games]
    offsets = np.zeros(len(games) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    within = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], sizes)
    return np.repeat(first[games], sizes) + within
