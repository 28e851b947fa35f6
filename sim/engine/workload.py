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

A group that serves a queue has no rows of its own before it plays: how many
rounds each of its players takes is up to the schedule. Its rounds' durations
are drawn all the same, as many as items could reach it (`served`), and the
k-th round the group's players take, in time, plays the k-th row of them. The
trace of such a run carries the workload of the rows that were played.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.engine.plan import Leaf, Plan, plan_of
from sim.scenario.model import STEP_KINDS, Scenario

__all__ = ["BLOCK", "CPU", "HOST", "NATIVE", "WAIT", "Workload"]

HOST, WAIT, BLOCK, NATIVE = (STEP_KINDS.index(k) for k in ("host", "wait", "block", "native"))
#: Kinds that are CPU work whatever the schedule: Python (host) and C code (native).
CPU = (HOST, NATIVE)
_GET = STEP_KINDS.index("get")


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
    #: per step: the resource or queue it waits for (index into `plan.names`), or -1;
    #: None when the scenario shares nothing but the hosts
    shared: np.ndarray | None = None
    #: per group serving a queue: its rounds' durations, one row per round (leaves across)
    served: dict[int, np.ndarray] | None = None

    @classmethod
    def of(cls, scenario: Scenario, rng: np.random.Generator | None = None) -> Workload:
        """Expand every group: `count` games of `moves` repetitions of its round.

        `rng` is needed only when some duration is a distribution.
        """
        if rng is None and scenario.random:
            raise ValueError("a scenario with random durations needs a generator to draw from")
        plan = plan_of(scenario)  # kept: the engine reads it again (`plan`)
        shares = scenario.shares
        items = scenario.items() if shares else {}
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("move", "step", "kind", "duration")}
        parts["shared"] = []
        served: dict[int, np.ndarray] = {}
        game_lengths, group_of_game, players = [], [], []
        for index, group in enumerate(scenario.players):
            round_ = plan.leaves[index]
            width = len(round_)
            if group.serves is not None:  # rows made while playing; durations drawn now
                served[index] = _durations(round_, items[group.serves], rng).reshape(-1, width)
                game_lengths += [0] * group.count
            else:
                repeats = group.count * group.moves
                kinds = np.array([leaf.code for leaf in round_], dtype=np.int8)
                parts["kind"].append(np.tile(kinds, repeats))
                parts["duration"].append(_durations(round_, repeats, rng))
                parts["step"].append(np.tile(np.arange(width, dtype=np.int32), repeats))
                parts["move"].append(
                    np.tile(np.repeat(np.arange(group.moves, dtype=np.int32), width), group.count)
                )
                shared = np.array([leaf.shared for leaf in round_], dtype=np.int16)
                parts["shared"].append(np.tile(shared, repeats))
                game_lengths += [group.moves * width] * group.count
            group_of_game += [index] * group.count
            players += group.player_names()
        first_step = np.zeros(len(game_lengths) + 1, dtype=np.int64)
        np.cumsum(game_lengths, out=first_step[1:])
        workload = cls(
            scenario=scenario,
            group=np.array(group_of_game, dtype=np.int32),
            players=tuple(players),
            first_step=first_step,
            game=np.repeat(np.arange(len(game_lengths), dtype=np.int32), game_lengths),
            move=_joined(parts["move"], np.int32),
            step=_joined(parts["step"], np.int32),
            kind=_joined(parts["kind"], np.int8),
            duration=_joined(parts["duration"], np.float64),
            shared=_joined(parts["shared"], np.int16) if shares else None,
            served=served if shares else None,
        )
        workload.__dict__["plan"] = plan  # what `plan` would compute again, cached
        return workload

    def played(
        self,
        game: np.ndarray,
        move: np.ndarray,
        leaf: np.ndarray,
        kind: np.ndarray,
        shared: np.ndarray,
        duration: np.ndarray,
    ) -> tuple[Workload, np.ndarray]:
        """The workload of the rows a run made while playing, in any order, sorted by
        (game, move, place in the round); and that order, to sort the rows' times by."""
        game = np.asarray(game).astype(np.int32)
        move = np.asarray(move).astype(np.int32)
        leaf = np.asarray(leaf).astype(np.int32)
        order = np.lexsort((leaf, move, game))
        first_step = np.zeros(self.games + 1, dtype=np.int64)
        np.cumsum(np.bincount(game, minlength=self.games), out=first_step[1:])
        played = dataclasses.replace(
            self,
            first_step=first_step,
            game=game[order],
            move=move[order],
            step=leaf[order],
            kind=np.asarray(kind).astype(np.int8)[order],
            duration=np.asarray(duration).astype(np.float64)[order],
            shared=np.asarray(shared).astype(np.int16)[order],
            served=None,
        )
        played.__dict__["plan"] = self.plan  # the same rounds: not compiled again
        return played, order

    def with_rows(
        self,
        made: tuple[np.ndarray, ...],
        times: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    ) -> tuple[Workload, list[np.ndarray]]:
        """The workload of a run that played this workload's own rows as laid out and made
        others (a consumer's rounds: `made` is their game, move, leaf, kind, shared and
        duration, in any order); and each of `times` placed in it: a column of the caller's
        whose first rows are the own rows' (it may be written into, and is, when it is
        long enough and no own row moves), and a column of the made rows. What `played`
        gives, without sorting the rows laid out: they only move up past the made rows of
        games before theirs."""
        game, move, leaf, kind, shared, duration = made
        made_order = np.lexsort((leaf, move, game))
        own_counts = np.diff(self.first_step)
        made_counts = np.bincount(game, minlength=self.games)
        first_step = np.zeros(self.games + 1, dtype=np.int64)
        np.cumsum(own_counts + made_counts, out=first_step[1:])
        made_first = np.zeros(self.games + 1, dtype=np.int64)
        np.cumsum(made_counts, out=made_first[1:])
        by_game = game[made_order]
        at = np.empty(len(game), dtype=np.int64)
        at[made_order] = (
            np.arange(len(game)) - made_first[by_game] + first_step[by_game] + own_counts[by_game]
        )
        # own rows up to the first game that made any stay where they are
        games_made = np.flatnonzero(made_counts)
        kept = int(self.first_step[games_made[0]]) if len(games_made) else len(self.game)
        moved = np.arange(kept, len(self.game), dtype=np.int64)
        moved += (first_step[:-1] - self.first_step[:-1])[self.game[kept:]]
        total = int(first_step[-1])

        def place(ours: np.ndarray, theirs: np.ndarray, dtype: type) -> np.ndarray:
            out = np.empty(total, dtype=dtype)
            out[:kept] = ours[:kept]
            out[moved] = ours[kept:]
            out[at] = theirs
            return out

        played = dataclasses.replace(
            self,
            first_step=first_step,
            game=np.repeat(np.arange(self.games, dtype=np.int32), own_counts + made_counts),
            move=place(self.move, move, np.int32),
            step=place(self.step, leaf, np.int32),
            kind=place(self.kind, kind, np.int8),
            duration=place(self.duration, duration, np.float64),
            shared=place(self._shared(), shared, np.int16),
            served=None,
        )
        played.__dict__["plan"] = self.plan
        placed = []
        for ours, theirs in times:
            if kept == len(self.game) and len(ours) >= total:
                ours[at] = theirs
                placed.append(ours[:total])
            else:
                placed.append(place(ours[: len(self.game)], theirs, ours.dtype))
        return played, placed

    def served_rows(
        self, took: dict[int, list[tuple[int, int]]], closed: list[tuple[int, int, int]]
    ) -> tuple[np.ndarray, ...]:
        """Columns (game, move, leaf, kind, shared, duration) of the rows consumers made:
        per served group, in `served` order, the rounds it took ((game, move) of each,
        the k-th playing the k-th row of durations); then each consumer's last `get`,
        (game, move, queue), which found its queue closed."""
        plan = self.plan
        parts: list[list[np.ndarray]] = [[] for _ in range(6)]
        for group, table in (self.served or {}).items():
            rounds = took.get(group, [])
            leaves = plan.leaves[group]
            width = len(leaves)
            game_move = np.array(rounds, dtype=np.int64).reshape(-1, 2)
            parts[0].append(np.repeat(game_move[:, 0], width))
            parts[1].append(np.repeat(game_move[:, 1], width))
            parts[2].append(np.tile(np.arange(width), len(rounds)))
            parts[3].append(np.tile([leaf.code for leaf in leaves], len(rounds)))
            parts[4].append(np.tile([leaf.shared for leaf in leaves], len(rounds)))
            parts[5].append(table[: len(rounds)].ravel())
        last = np.array(closed, dtype=np.int64).reshape(-1, 3)
        for i, column in enumerate(
            (last[:, 0], last[:, 1], 0 * last[:, 0], np.full(len(last), _GET), last[:, 2],
             np.zeros(len(last)))
        ):  # fmt: skip
            parts[i].append(column)
        dtypes = (np.int32, np.int32, np.int32, np.int8, np.int16, np.float64)
        return tuple(np.concatenate(p).astype(t) for p, t in zip(parts, dtypes, strict=True))

    def _shared(self) -> np.ndarray:
        return self.shared if self.shared is not None else np.full(len(self.game), -1, np.int16)

    @cached_property
    def plan(self) -> Plan:
        """Every group's round compiled for the engine (scenarios that share something)."""
        return plan_of(self.scenario)

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
        """Seconds of CPU work over all games, host and native steps: what the hosts must do
        whatever the schedule (before a run, consumers counted as if their group took every
        item)."""
        return self._work(HOST) + self._work(NATIVE)

    def python_work(self) -> float:
        """Seconds of host steps alone: the Python the GIL lets one thread run at a time
        (counted as `host_work` counts them)."""
        return self._work(HOST)

    def host_steps(self) -> int:
        """Host steps over all games (before a run, counted as `host_work` counts them)."""
        return self.steps_of(HOST)

    def steps_of(self, code: int) -> int:
        """Steps of kind `code` over all games (consumers counted as `host_work` counts them)."""
        served = sum(table.size for table in self._served_columns(code))
        return int(np.count_nonzero(self.kind == code)) + served

    def _work(self, code: int) -> float:
        """Seconds of steps of kind `code`, the rounds drawn for consumers included."""
        return float(self.duration[self.kind == code].sum()) + sum(
            float(table.sum()) for table in self._served_columns(code)
        )

    def _served_columns(self, code: int) -> list[np.ndarray]:
        """The columns of kind `code` of the rounds drawn for consumers."""
        if not self.served:
            return []
        plan = self.plan
        tables = []
        for group, table in self.served.items():
            chosen = np.array([leaf.code == code for leaf in plan.leaves[group]])
            tables.append(table[:, chosen])
        return tables

    def block_time(self) -> float:
        """Seconds of block steps over all games: blocking calls, which use no CPU."""
        return float(self.duration[self.kind == BLOCK].sum())


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _durations(round_: Sequence[Leaf], repeats: int, rng: np.random.Generator | None) -> np.ndarray:
    """`repeats` rounds of durations, row-major (round after round); random steps drawn."""
    fixed = np.array([leaf.duration for leaf in round_], dtype=np.float64)
    laws = [leaf.law for leaf in round_]
    if all(law is None for law in laws):
        return np.tile(fixed, repeats)
    assert rng is not None
    table = np.tile(fixed, (repeats, 1))
    for column, law in enumerate(laws):
        if law is not None:
            (stream,) = rng.spawn(1)
            table[:, column] = law.sample(stream, repeats)
    return table.ravel()
