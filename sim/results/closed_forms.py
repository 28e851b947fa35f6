"""Closed forms, shown beside the simulation where they exist.

Two kinds of figure:

- the article's estimate: the back-of-envelope reasoning of the asyncio
  article. Synchronous: every step of every game, one after another
  (n·R·(c+w) for polgar), divided among the k hosts. Cooperative: the
  host's own moves (n·R·c, "1 h"), divided among the hosts, or one game
  played alone if that is longer (the `count()` example's "about 1 s").
  Threads: the same, with one CPU for the host steps under the GIL (native
  steps, C code without it, still have them all). Processes: every step
  divided among the workers, or the host steps among the CPUs. The host's
  own moves are its CPU work: host and native steps.
- the exact closed form, for a single group shape (every group the same
  round of one host step c then one wait step w, and the same R, on k
  hosts; s is `host.switch_cost`): synchronous ⌈n/k⌉·R·(c+w) + (⌈n/k⌉−1)·s;
  cooperative with n ≤ k: R·(c+w); on one host, see below; and, without a
  switch cost, when k divides n: the games then move in k-wide batches that
  become ready together and take all k hosts at once, so the q = n/k batches
  share the hosts as q games share one: max(q·R·c + w, R·(c+w) + (q−1)·c).
  (Otherwise ties between games that wrapped round the queue reorder it, and
  no simple form holds.) Threads and processes where nothing is left to
  chance (one thread; no GIL and no more threads than CPUs; processes no
  more than CPUs; CPU-only work under the GIL).

Cooperative on one host, n ≥ 2 games, with a switch cost s (`host.switch_cost`,
paid whenever the host takes up a game other than the one it served last;
the very first step costs nothing). FIFO keeps the games in file order, so
every host step but the first is preceded by a switch. Say the host picks
up game 0 at p: it works on it from p + s to p + s + c, the game is ready
again at p + s + c + w, and the host is back for it after serving the n−1
others, at p + n·(c+s). Two regimes:

- saturated, (n−1)·(c+s) ≥ w: the host is never idle. It does n·R steps and
  n·R − 1 switches back to back, and the last game still has its last wait:
  A = n·R·c + (n·R − 1)·s + w.
- otherwise no game ever queues after its first round. Game i starts at
  i·(c+s); each later round of a game takes c + w + s (the host comes to it
  the moment it is ready, then switches): game i's host step of round r
  (from 1) starts at i·(c+s) + (r−1)·(c+w+s), and indeed the host finishes
  game i−1's step of the same round exactly when game i is ready. The last
  game ends last: B = (n−1)·(c+s) + (R−1)·(c+w+s) + c + w
                    = R·(c+w) + (n−1)·c + (n+R−2)·s.

A − B = (R−1)·((n−1)·(c+s) − w), so the makespan is max(A, B) in both
regimes; with s = 0 it is the familiar max(n·R·c + w, R·(c+w) + (n−1)·c).
One game never switches: R·(c+w). A round of no time at all (c = w = 0) is
left out: at 0 the first game is ready again at the instant it finished, ties
with the others and, first in file order, plays all its rounds at once.

With random durations the estimate uses expected durations and there is no
exact closed form (the expected makespan is not the makespan of expected
durations: a maximum of random times is larger on average).

Games that share resources, queues or fan-out (`Scenario.shares`) have
neither: every formula here assumes games that never wait for one another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.scenario.loader import schedule_of
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule

__all__ = ["Shape", "article_estimate", "closed_form", "cooperative_one_host", "shape"]


@dataclass(frozen=True, slots=True)
class Shape:
    """n games of R rounds, each round host c then wait w, on k hosts; switch cost s."""

    n: int
    rounds: int
    host: float
    wait: float
    hosts: int
    switch_cost: float = 0.0


def shape(scenario: Scenario) -> Shape | None:
    """The scenario as one homogeneous shape, or None if its groups differ, it is random
    or its games share more than the hosts."""
    if scenario.random or scenario.shares:
        return None
    rounds = {(group.moves, _host_then_wait(group.round)) for group in scenario.players}
    if len(rounds) != 1:
        return None
    ((moves, pair),) = rounds
    if pair is None:
        return None
    host = scenario.host
    return Shape(scenario.games, moves, pair[0], pair[1], host.count, host.switch_cost)


def _host_then_wait(round_: tuple) -> tuple[float, float] | None:
    kinds = tuple(step.kind for step in round_)
    durations = tuple(step.duration for step in round_)
    if kinds == ("host", "wait"):
        return durations[0], durations[1]
    if kinds == ("host",):
        return durations[0], 0.0
    if kinds == ("wait",):
        return 0.0, durations[0]
    return None


def article_estimate(scenario: Scenario, schedule: Schedule | str) -> float:
    """The article's reasoning, applied to any scenario whose games are independent (see
    the module docstring); NaN for games that share more than the hosts."""
    if scenario.shares:
        return math.nan
    schedule = schedule_of(scenario, schedule)
    hosts = schedule.hosts(scenario.host.count)
    every = sum(group.count * _game_length(group.round, group.moves) for group in scenario.players)
    host_work = sum(
        group.count * _game_length(group.round, group.moves, only=("host", "native"))
        for group in scenario.players
    )
    longest = max(_game_length(group.round, group.moves) for group in scenario.players)
    if schedule.synchronous is not None:
        return every / hosts
    if schedule.threaded is not None:
        threads = schedule.workers(scenario.games, hosts)
        cpus = min(hosts, threads)
        if schedule.threaded.gil:  # Python on one CPU at a time, C code on them all
            python = sum(
                group.count * _game_length(group.round, group.moves, only=("host",))
                for group in scenario.players
            )
            return max(python, host_work / cpus, every / threads, longest)
        return max(host_work / cpus, every / threads, longest)
    if schedule.parallel is not None:
        workers = schedule.workers(scenario.games, hosts)
        start = schedule.parallel.start_cost
        return max(every / workers + start, (host_work + workers * start) / hosts, longest)
    return max(host_work / hosts, longest)


def _game_length(round_: tuple, moves: int, only: tuple[str, ...] | None = None) -> float:
    return moves * sum(step.duration for step in round_ if only is None or step.kind in only)


def cooperative_one_host(n: int, rounds: int, c: float, w: float, s: float = 0.0) -> float:
    """Cooperative makespan of n games on one host with switch cost s (module docstring)."""
    if n == 1:
        return rounds * (c + w)
    saturated = n * rounds * c + (n * rounds - 1) * s + w
    unsaturated = rounds * (c + w) + (n - 1) * c + (n + rounds - 2) * s
    return max(saturated, unsaturated)


def closed_form(scenario: Scenario, schedule: Schedule | str) -> float | None:
    """The exact makespan where a closed form is known, else None."""
    found = shape(scenario)
    if found is None:
        return None
    schedule = schedule_of(scenario, schedule)
    n, r, c, w, s = found.n, found.rounds, found.host, found.wait, found.switch_cost
    k = schedule.hosts(found.hosts)
    if schedule.synchronous is not None:
        return _one_after_another(n, k, r * (c + w), s)
    if schedule.cooperative is not None:
        if schedule.cooperative.order == "asyncio":
            return None  # asyncio's iterations and its selector's rounding: played only
        if n <= k:
            return r * (c + w)
        if k == 1 and (c + w > 0 or s == 0):
            return cooperative_one_host(n, r, c, w, s)
        if n % k == 0 and s == 0:
            q = n // k  # k games in lockstep: q batches sharing k hosts as q games share one
            return max(q * r * c + w, r * (c + w) + (q - 1) * c)
        return None
    if schedule.threaded is not None:
        threads = schedule.workers(n, k)
        if threads == 1 and (c > 0 or s == 0):  # one game after another on one thread
            return _one_after_another(n, 1, r * (c + w), s if schedule.threaded.gil else 0.0)
        if not schedule.threaded.gil and threads <= k:  # a CPU each: no sharing, no switches
            return _one_after_another(n, threads, r * (c + w), 0.0)
        if schedule.threaded.gil and w == 0 and s == 0:  # CPU-only: the GIL is never idle
            return n * r * c
        return None
    if schedule.parallel is not None:
        workers = schedule.workers(n, k)
        if workers <= k:  # a CPU each: synchronous on `workers` hosts, after starting up
            return schedule.parallel.start_cost + _one_after_another(n, workers, r * (c + w), s)
        return None
    return None


def _one_after_another(n: int, k: int, game: float, s: float) -> float:
    """n equal games on k hosts, one at a time each: ⌈n/k⌉ games, ⌈n/k⌉ − 1 switches."""
    per_host = math.ceil(n / k)
    return per_host * game + (per_host - 1) * s
