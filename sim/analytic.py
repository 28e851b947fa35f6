"""Closed forms, shown beside the simulation where they exist.

Two kinds of figure:

- the article's estimate: the back-of-envelope reasoning of the asyncio
  article. Synchronous: every step of every game, one after another
  (n·R·(c+w) for polgar), divided among `host.count` hosts. Cooperative:
  the host's own moves (n·R·c, "1 h"), divided among the hosts, or one game
  played alone if that is longer (the `count()` example's "about 1 s").
- the exact closed form, for a single group shape (every group the same
  round of one host step c then one wait step w, and the same R) on one host:
  synchronous n·R·(c+w); cooperative max(n·R·c + w, R·(c+w) + (n−1)·c).
  The cooperative one has two regimes: when n·c ≥ c+w the host is never idle
  and the last game still has its final wait after the host's last move;
  otherwise no game ever queues after its first move and the last game to
  start (at (n−1)·c) ends last. Synchronous also has one on k hosts:
  ⌈n/k⌉·R·(c+w); cooperative when n ≤ k: R·(c+w), and when k divides n:
  the games then move in k-wide batches that become ready together and take
  all k hosts at once, so the q = n/k batches share the hosts as q games
  share one: max(q·R·c + w, R·(c+w) + (q−1)·c). (Otherwise ties between games
  that wrapped round the queue reorder it, and no simple form holds.)

With random durations the estimate uses expected durations and there is no
exact closed form (the expected makespan is not the makespan of expected
durations: a maximum of random times is larger on average).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.scenario import Scenario
from sim.schedules import ScheduleKind

__all__ = ["Shape", "article_estimate", "closed_form", "shape"]


@dataclass(frozen=True, slots=True)
class Shape:
    """n games of R rounds, each round host c then wait w, on k hosts."""

    n: int
    rounds: int
    host: float
    wait: float
    hosts: int


def shape(scenario: Scenario) -> Shape | None:
    """The scenario as one homogeneous shape, or None if its groups differ or it is random."""
    if scenario.random:
        return None
    rounds = {(group.moves, _host_then_wait(group.round)) for group in scenario.players}
    if len(rounds) != 1:
        return None
    ((moves, pair),) = rounds
    if pair is None:
        return None
    return Shape(scenario.games, moves, pair[0], pair[1], scenario.host.count)


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


def article_estimate(scenario: Scenario, kind: ScheduleKind) -> float:
    """The article's reasoning, applied to any scenario (see the module docstring)."""
    every = sum(group.count * _game_length(group.round, group.moves) for group in scenario.players)
    if kind == "synchronous":
        return every / scenario.host.count
    host_work = sum(
        group.count * _game_length(group.round, group.moves, only="host")
        for group in scenario.players
    )
    longest = max(_game_length(group.round, group.moves) for group in scenario.players)
    return max(host_work / scenario.host.count, longest)


def _game_length(round_: tuple, moves: int, only: str | None = None) -> float:
    return moves * sum(step.duration for step in round_ if only is None or step.kind == only)


def closed_form(scenario: Scenario, kind: ScheduleKind) -> float | None:
    """The exact makespan where a closed form is known, else None."""
    found = shape(scenario)
    if found is None:
        return None
    n, r, c, w, k = found.n, found.rounds, found.host, found.wait, found.hosts
    if kind == "synchronous":
        return math.ceil(n / k) * r * (c + w)
    if n <= k:
        return r * (c + w)
    if n % k == 0:
        q = n // k  # k games in lockstep: q batches sharing k hosts as q games share one
        return max(q * r * c + w, r * (c + w) + (q - 1) * c)
    return None
