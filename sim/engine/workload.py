"""A scenario expanded into games and steps, laid out as columns.

The engine and the tables work on numbers, not on models: one row per step
(game, move, step, kind, duration) in numpy arrays, built once per scenario
and shared by every schedule, so all schedules play exactly the same steps.
Steps of game `g` are rows `first_step[g]` up to `first_step[g + 1]`.

A random duration is drawn here, once per step, from the generator handed in;
the engine only ever sees numbers. Each random step of a round (in file
order) draws from its own stream spawned from that generator, game after
game, so the durations of game i do not change when games are added after it
(a sweep over `count` keeps its common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario.model import STEP_KINDS, Scenario, Step

__all__ = ["BLOCK", "HOST", "WAIT", "Workload"]

HOST, WAIT, BLOCK = (STEP_KINDS.index(kind) for kind in ("host", "wait", "block"))


@dataclass(frozen=True, eq=False)
class Workload:
    """Every step of every game of one scenario, in file order."""

    scenario: Scenario
    group: np.ndarray  # per game: index of its player group
    players: tuple[str, ...]  # per game: player name
    first_step: np.ndarray  # per game + 1: offset of the game's first step
    game: np.ndarray  # per step: game index
    move: np.ndarray  # per step: round number, from 0
    step: np.ndarray  # per step: place in the round, from 0
    kind: np.ndarray  # per step: code into STEP_KINDS
    duration: np.ndarray  # per step: seconds

    @classmethod
    def of(cls, scenario: Scenario, rng: np.random.Generator | None = None) -> Workload:
        """Expand every group: `count` games of `moves` repetitions of its round.

        `rng` is needed only when some duration is a distribution.
        """
        if rng is None and scenario.random:
            raise ValueError("a scenario with random durations needs a generator to draw from")
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("move", "step", "kind", "duration")}
        game_lengths, group_of_game, players = [], [], []
        for index, group in enumerate(scenario.players):
            round_ = group.round
            width = len(round_)
            per_game = group.moves * width
            kinds = np.array([STEP_KINDS.index(step.kind) for step in round_], dtype=np.int8)
            repeats = group.count * group.moves
            parts["kind"].append(np.tile(kinds, repeats))
            parts["duration"].append(_durations(round_, repeats, rng))
            parts["step"].append(np.tile(np.arange(width, dtype=np.int32), repeats))
            parts["move"].append(
                np.tile(np.repeat(np.arange(group.moves, dtype=np.int32), width), group.count)
            )
            game_lengths += [per_game] * group.count
            group_of_game += [index] * group.count
            players += group.player_names()
        first_step = np.zeros(len(game_lengths) + 1, dtype=np.int64)
        np.cumsum(game_lengths, out=first_step[1:])
        return cls(
            scenario=scenario,
            group=np.array(group_of_game, dtype=np.int32),
            players=tuple(players),
            first_step=first_step,
            game=np.repeat(np.arange(len(game_lengths), dtype=np.int32), game_lengths),
            move=np.concatenate(parts["move"]),
            step=np.concatenate(parts["step"]),
            kind=np.concatenate(parts["kind"]),
            duration=np.concatenate(parts["duration"]),
        )

    @property
    def games(self) -> int:
        return len(self.players)

    @property
    def hosts(self) -> int:
        return self.scenario.host.count

    @property
    def switch_cost(self) -> float:
        return self.scenario.host.switch_cost

    def host_work(self) -> float:
        """Seconds of host steps over all games: what the hosts must do whatever the schedule."""
        return float(self.duration[self.kind == HOST].sum())

    def block_time(self) -> float:
        """Seconds of block steps over all games: blocking calls, which use no CPU."""
        return float(self.duration[self.kind == BLOCK].sum())


def _durations(
    round_: tuple[Step, ...], repeats: int, rng: np.random.Generator | None
) -> np.ndarray:
    """`repeats` rounds of durations, row-major (round after round); random steps drawn."""
    fixed = np.array([step.duration for step in round_], dtype=np.float64)
    laws = [step.law for step in round_]
    if all(law is None for law in laws):
        return np.tile(fixed, repeats)
    assert rng is not None
    table = np.tile(fixed, (repeats, 1))
    for column, law in enumerate(laws):
        if law is not None:
            (stream,) = rng.spawn(1)
            table[:, column] = law.sample(stream, repeats)
    return table.ravel()
