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
        served: dict[int, np.ndarray] = {}
        game_lengths, group_of_game, players = [], [], []
        for index, group in enumerate(scenario.players):
            width = len(plan.leaves[index])
            laid_out = 0 if group.serves is not None else group.moves * width
            game_lengths += [laid_out] * group.count
            group_of_game += [index] * group.count
            players += group.player_names()
        first_step = np.zeros(len(game_lengths) + 1, dtype=np.int64)
        np.cumsum(game_lengths, out=first_step[1:])
        # every column made at its full length and filled group by group, in place: no
        # group's part is made and then copied in (fresh memory is much of what a
        # million-row workload costs)
        rows = int(first_step[-1])
        move = np.empty(rows, dtype=np.int32)
        step = np.empty(rows, dtype=np.int32)
        game = np.empty(rows, dtype=np.int32)
        kind = np.empty(rows, dtype=np.int8)
        duration = np.empty(rows, dtype=np.float64)
        shared = np.empty(rows, dtype=np.int16) if shares else None
        at = first_game = 0
        for index, group in enumerate(scenario.players):
            round_ = plan.leaves[index]
            width = len(round_)
            if group.serves is not None:  # rows made while playing; durations drawn now
                table = np.empty(items[group.serves] * width)
                _durations(round_, items[group.serves], rng, table)
                served[index] = table.reshape(-1, width)
            else:
                repeats = group.count * group.moves
                end = at + repeats * width
                by_round = (repeats, width)
                kind[at:end].reshape(by_round)[:] = [leaf.code for leaf in round_]
                _durations(round_, repeats, rng, duration[at:end])
                step[at:end].reshape(by_round)[:] = np.arange(width, dtype=np.int32)
                move[at:end].reshape(group.count, group.moves, width)[:] = np.arange(
                    group.moves, dtype=np.int32
                )[:, None]
                if shared is not None:
                    shared[at:end].reshape(by_round)[:] = [leaf.shared for leaf in round_]
                game[at:end].reshape(group.count, -1)[:] = np.arange(
                    first_game, first_game + group.count, dtype=np.int32
                )[:, None]
                at = end
            first_game += group.count
        workload = cls(
            scenario=scenario,
            group=np.array(group_of_game, dtype=np.int32),
            players=tuple(players),
            first_step=first_step,
            game=game,
            move=move,
            step=step,
            kind=kind,
            duration=duration,
            shared=shared,
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
        durations: np.ndarray | None = None,
    ) -> tuple[Workload, list[np.ndarray]]:
        """The workload of a run that played this workload's own rows as laid out and made
        others (a consumer's rounds: `made` is their game, move, leaf, kind, shared and
        duration, in any order); and each of `times` placed in it: a column of the caller's
        whose first rows are the own rows' (it may be written into, and is, when it is
        long enough and no own row moves), and a column of the made rows. What `played`
        gives, without sorting the rows laid out: they only move up past the made rows of
        games before theirs.

        `durations`, a column of the caller's laid out as `times` are (the own rows'
        durations first), is placed as they are and becomes the played workload's: where
        it can be written into, no column of durations is made anew."""
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

        def placed(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
            if kept == len(self.game) and len(ours) >= total:
                ours[at] = theirs
                return ours[:total]
            return place(ours[: len(self.game)], theirs, ours.dtype)

        if durations is None:
            durations = place(self.duration, duration, np.float64)
        else:
            durations = placed(durations, duration)
        played = dataclasses.replace(
            self,
            first_step=first_step,
            game=place(self.game, game, np.int32),  # what a repeat per game gives, copied
            move=place(self.move, move, np.int32),
            step=place(self.step, leaf, np.int32),
            kind=place(self.kind, kind, np.int8),
            duration=durations,
            shared=place(self._shared(), shared, np.int16),
            served=None,
        )
        played.__dict__["plan"] = self.plan
        return played, [placed(ours, theirs) for ours, theirs in times]

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


def _durations(
    round_: Sequence[Leaf], repeats: int, rng: np.random.Generator | None, out: np.ndarray
) -> np.ndarray:
    """`repeats` rounds of durations, row-major (round after round), written into `out`
    (and returned); random steps drawn."""
    table = out.reshape(repeats, len(round_))
    table[:] = [leaf.duration for leaf in round_]
    for column, leaf in enumerate(round_):
        if leaf.law is not None:
            assert rng is not None
            (stream,) = rng.spawn(1)
            table[:, column] = leaf.law.sample(stream, repeats)
    return out
