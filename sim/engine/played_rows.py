"""Rounds played operation by operation as coroutines: their durations, and the rows
they write in any order, made into a trace.

A player that walks rounds this way (asyncio's own order,
`sim.engine.asyncio_order`; `sim verify`'s replay) takes each round's
durations from `RoundDurations` (`play_rounds` walks a game's rounds) and
writes a row as it reaches each step, `with`, `put`, `get` and `gather`,
children and consumers' rounds interleaved as they happen. The trace sorts
them by (game, round, place) into the workload they make (`Workload.played`),
as the task engine lays its own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from sim.engine.plan import Op
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["PlayedRows", "RoundDurations", "children", "play_rounds"]

_ROWS = ("game", "move", "leaf", "kind", "shared", "duration")
_TIMES = ("ready", "start", "end", "host")


class PlayedRows:
    """Per row: what it is (`rows`) and when it was ready, started and ended, on which
    host (`times`); start and end NaN until the player sets them."""

    def __init__(self) -> None:
        self.rows: dict[str, list] = {name: [] for name in _ROWS}
        self.times: dict[str, list] = {name: [] for name in _TIMES}

    def add(
        self,
        game: int,
        move: int,
        leaf: int,
        kind: int,
        shared: int,
        duration: float,
        ready: float,
        host: int = NO_HOST,
    ) -> int:
        """A new row; its number."""
        for name, value in zip(_ROWS, (game, move, leaf, kind, shared, duration), strict=True):
            self.rows[name].append(value)
        for name, value in zip(_TIMES, (ready, math.nan, math.nan, host), strict=True):
            self.times[name].append(value)
        return len(self.times["ready"]) - 1

    def latest(self) -> float:
        """The latest time any row reached (0 before any)."""
        times = np.array(self.times["ready"] + self.times["start"] + self.times["end"])
        return float(np.nanmax(times)) if len(times) else 0.0

    def trace(
        self, workload: Workload, schedule: Schedule, switches: int = 0, switch_time: float = 0.0
    ) -> Trace:
        """The rows sorted into the workload they make; where games share nothing, the
        workload's own rows as laid out."""
        rows, times = self.rows, self.times
        played, order = workload.played(*(rows[name] for name in _ROWS))
        if workload.shared is None:
            played = dataclasses.replace(played, shared=None)
            played.__dict__["plan"] = workload.plan

        def column(values: list, dtype: type) -> np.ndarray:
            return np.array(values, dtype=dtype)[order]

        return Trace(
            played,
            schedule,
            column(times["ready"], np.float64),
            column(times["start"], np.float64),
            column(times["end"], np.float64),
            column(times["host"], np.int32),
            switches=switches,
            switch_time=switch_time,
        )


class RoundDurations:
    """Where a round finds its durations: a game's own rounds are laid out in the
    workload; a consumer's k-th round, counted over its group in the order items were
    taken, plays the k-th row drawn for the group (`Workload.served`)."""

    def __init__(self, workload: Workload) -> None:
        self._workload = workload
        self._laid_out = workload.duration.tolist()
        self._served = {g: table.tolist() for g, table in (workload.served or {}).items()}
        self._taken = dict.fromkeys(self._served, 0)

    def rounds(self, game: int) -> int:
        """The rounds `game` plays; 0 for a consumer, which plays until its queue closes."""
        workload = self._workload
        group = int(workload.group[game])
        return 0 if workload.plan.serves[group] >= 0 else workload.scenario.players[group].moves

    def laid_out(self, game: int, move: int) -> tuple[list[float], int]:
        """Round `move` of `game`: the durations, and where the round begins in them."""
        workload = self._workload
        width = len(workload.plan.leaves[int(workload.group[game])])
        return self._laid_out, int(workload.first_step[game]) + move * width

    def taken(self, game: int) -> tuple[list[float], int]:
        """The round a consumer plays for the item it just took."""
        group = int(self._workload.group[game])
        k, self._taken[group] = self._taken[group], self._taken[group] + 1
        return self._served[group][k], 0


async def play_rounds(
    line: Any, durations: RoundDurations, play: Callable[[Any], Awaitable[bool]]
) -> None:
    """Play `line`'s game round after round (`play` False: a consumer's queue closed),
    each laid-out round with its durations."""
    rounds = durations.rounds(line.game)
    while True:
        if rounds:
            line.durations, line.row = durations.laid_out(line.game, line.move)
        if not await play(line):
            return
        line.move += 1
        if rounds and line.move == rounds:
            return


def children(line: Any, op: Op, **fields: Any) -> list[Any]:
    """The lines of the children a gather `op` of `line` starts: `name/1`, `name/2`, …,
    each playing the gather's steps from its own first leaf, holding nothing, with
    `fields` (when each is ready since) set as the player keeps them."""
    return [
        dataclasses.replace(
            line,
            name=f"{line.name}/{i + 1}",
            ops=op.child,
            leaf=line.leaf + op.leaf + 1 + i * op.width,
            open={},
            **fields,
        )
        for i in range(op.count)
    ]
