"""The naive SimPy model of the polgar shape: the yardstick `sim` must beat.

What one writes first with SimPy: a `simpy.Resource` for the hosts and one
process per game. Cooperative: every round requests a host for the host
step and lets it go for the wait. Synchronous: a game takes a host and keeps
it to the end. `Resource` grants requests in event order and serves its
queue from the front of a list, which is why it grows faster than linearly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy

Game = Callable[[simpy.Environment, simpy.Resource], Generator]


def cooperative(players: int, rounds: int, host: float, wait: float, hosts: int = 1) -> float:
    def game(env: simpy.Environment, judit: simpy.Resource) -> Generator:
        for _ in range(rounds):
            with judit.request() as turn:
                yield turn
                yield env.timeout(host)
            yield env.timeout(wait)

    return _makespan(game, players, hosts)


def synchronous(players: int, rounds: int, host: float, wait: float, hosts: int = 1) -> float:
    def game(env: simpy.Environment, judit: simpy.Resource) -> Generator:
        with judit.request() as turn:
            yield turn
            for _ in range(rounds):
                yield env.timeout(host)
                yield env.timeout(wait)

    return _makespan(game, players, hosts)


def _makespan(game: Game, players: int, hosts: int) -> float:
    """`players` processes of `game` on a Resource of `hosts`: when the last one ends."""
    env = simpy.Environment()
    judit = simpy.Resource(env, capacity=hosts)
    for _ in range(players):
        env.process(game(env, judit))
    env.run()
    return env.now
