"""The engine's trace against another trace of the same workload, game by game.

No printing: `compare` says whether every game ends at the same instant (to
`TOLERANCE`), which game differs first in file order, and the earliest step
where the two diverge in time; `against_asyncio` plays and compares a
scenario's schedules; `same_instant_ties` finds the instants where asyncio's
order may differ from docs/design.md's tie rule. `Agreement.passes` is the
verdict: a difference in the order of same-instant requests alone is none.

Where games share resources and queues, each trace carries the rows it
played (a consumer has as many rounds as items it took), so rows are matched
by (game, round, step), and a run may end in a `Deadlock`: `Deadlocked` then
sets the two outcomes side by side, agreeing when both sides deadlock at the
same instant with the same tasks waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from sim.engine import play
from sim.engine.deadlock import Deadlock
from sim.engine.plan import Op
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule
from sim.verify.virtual import HOLDS_THE_LOOP, not_replayed, replay

__all__ = [
    "TOLERANCE",
    "Agreement",
    "Deadlocked",
    "Divergence",
    "against_asyncio",
    "compare",
    "same_instant_ties",
    "waiting",
]

#: Seconds by which two instants may differ and still be the same instant.
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Divergence:
    """One step (row of the workload) whose start differs between the two traces."""

    row: int
    player: str
    move: int  # from 1, as in the tables
    step: int  # from 1
    engine_start: float
    other_start: float


@dataclass(frozen=True, eq=False)
class Agreement:
    """The engine's trace beside another of the same workload and schedule."""

    engine: Trace
    other: Trace
    tolerance: float = TOLERANCE
    #: Where asyncio's own order disagrees: the replay with the tie rule imposed.
    settled: Agreement | None = None

    @property
    def label(self) -> str:
        return self.engine.schedule.label

    @property
    def engine_makespan(self) -> float:
        return self.engine.makespan

    @property
    def other_makespan(self) -> float:
        return self.other.makespan

    @property
    def difference(self) -> float:
        """Other's makespan minus the engine's."""
        return self.other_makespan - self.engine_makespan

    @cached_property
    def differing_games(self) -> np.ndarray:
        """Indices of the games whose end differs by more than the tolerance, in file order."""
        gap = np.abs(self.other.game_ends() - self.engine.game_ends())
        return np.flatnonzero(gap > self.tolerance)

    @property
    def makespans_agree(self) -> bool:
        return abs(self.difference) <= self.tolerance

    @property
    def agrees(self) -> bool:
        """Every game ends at the same instant, and so does the last."""
        return not len(self.differing_games) and self.makespans_agree

    @property
    def order_only(self) -> bool:
        """Games differ, but only by the order of same-instant requests.

        The makespans agree and the replay with the tie rule imposed agrees game
        by game, so asyncio's own order is the whole difference, not the engine.
        """
        return (
            not self.agrees
            and self.makespans_agree
            and self.settled is not None
            and self.settled.agrees
        )

    @property
    def passes(self) -> bool:
        """The verdict of `sim verify`: exact agreement, or a difference of order alone."""
        return self.agrees or self.order_only

    @property
    def first_game(self) -> int | None:
        """The first differing game in file order, or None."""
        return int(self.differing_games[0]) if len(self.differing_games) else None

    @cached_property
    def divergence(self) -> Divergence | None:
        """The step where the two first part ways in time: the earliest differing start
        among the steps both played."""
        mine, theirs = _common_rows(self.engine.workload, self.other.workload)
        starts_e, starts_o = self.engine.start[mine], self.other.start[theirs]
        found = np.flatnonzero(np.abs(starts_e - starts_o) > self.tolerance)
        if not len(found):
            return None
        when = np.minimum(starts_e[found], starts_o[found])
        first = int(found[np.lexsort((found, when))[0]])
        row = int(mine[first])
        workload = self.engine.workload
        return Divergence(
            row=row,
            player=workload.players[workload.game[row]],
            move=int(workload.move[row]) + 1,
            step=int(workload.step[row]) + 1,
            engine_start=float(starts_e[first]),
            other_start=float(starts_o[first]),
        )

    @cached_property
    def ties(self) -> np.ndarray:
        """Same-instant ties in the engine's trace (see `same_instant_ties`)."""
        return same_instant_ties(self.engine, self.tolerance)


@dataclass(frozen=True, eq=False)
class Deadlocked:
    """A schedule under which the engine, the replay or both ran into a deadlock."""

    engine: Trace | Deadlock
    other: Trace | Deadlock
    label: str
    tolerance: float = TOLERANCE
    #: Where asyncio's own order disagrees: the replay with the tie rule imposed.
    settled: Agreement | Deadlocked | None = None

    @property
    def same_instant(self) -> bool:
        """Both deadlock, at the same instant."""
        engine, other = self.engine, self.other
        return (
            isinstance(engine, Deadlock)
            and isinstance(other, Deadlock)
            and abs(engine.at - other.at) <= self.tolerance
        )

    @property
    def agrees(self) -> bool:
        """Both deadlock at the same instant, with the same tasks waiting."""
        return self.same_instant and waiting(self.engine) == waiting(self.other)  # type: ignore[arg-type]

    @property
    def order_only(self) -> bool:
        """Both deadlock at one instant, other tasks waiting, and the tie rule explains it."""
        return (
            not self.agrees
            and self.same_instant
            and self.settled is not None
            and self.settled.agrees
        )

    @property
    def passes(self) -> bool:
        return self.agrees or self.order_only


def waiting(deadlock: Deadlock) -> list[str]:
    """The tasks a deadlock left waiting, by name (`producer`, `page-3/2`)."""
    return sorted(wait.partition(" waits")[0] for wait in deadlock.waits)


def compare(engine: Trace, other: Trace, tolerance: float = TOLERANCE) -> Agreement:
    """Set two traces of one workload and schedule side by side.

    Where games share, each trace carries the workload it played, of one scenario.
    """
    same = engine.workload is other.workload or (
        engine.workload.shared is not None and engine.workload.scenario is other.workload.scenario
    )
    if not same or engine.schedule != other.schedule:
        raise ValueError("compare traces of the same workload and schedule")
    return Agreement(engine, other, tolerance)


def compared(
    engine: Trace | Deadlock, other: Trace | Deadlock, label: str, tolerance: float = TOLERANCE
) -> Agreement | Deadlocked:
    """Two outcomes side by side: traces, or a deadlock on either side."""
    if isinstance(engine, Trace) and isinstance(other, Trace):
        return compare(engine, other, tolerance)
    return Deadlocked(engine, other, label, tolerance)


def against_asyncio(
    workload: Workload, schedules: Sequence[Schedule], tie_rule: bool = False
) -> list[Agreement | Deadlocked]:
    """The engine against the asyncio replay, for each schedule asyncio can play.

    Where the replay in asyncio's own order disagrees, it is replayed again
    with the tie rule imposed (`settled`): agreement then shows the difference
    is the order of same-instant ties alone. That is cooperative, and
    synchronous where games share resources and queues (several hosts may
    ask for them at one instant).
    """
    rows: list[Agreement | Deadlocked] = []
    for schedule in schedules:
        if not_replayed(schedule) is not None:
            continue
        engine = _outcome(lambda s=schedule: play(workload, s))
        other = _outcome(lambda s=schedule: replay(workload, s, tie_rule))
        row = compared(engine, other, schedule.label)
        settles = schedule.kind == "cooperative" or workload.shared is not None
        if not row.agrees and not tie_rule and settles:
            settled = _outcome(lambda s=schedule: replay(workload, s, tie_rule=True))
            row = replace(row, settled=compared(engine, settled, schedule.label))
        rows.append(row)
    return rows


def _outcome(play_it: Callable[[], Trace]) -> Trace | Deadlock:
    try:
        return play_it()
    except Deadlock as deadlock:
        return deadlock


def _common_rows(mine: Workload, theirs: Workload) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two played workloads that are the same step (game, round, place), aligned."""
    columns = ("game", "move", "step")
    if mine is theirs or all(np.array_equal(getattr(mine, c), getattr(theirs, c)) for c in columns):
        every = np.arange(len(mine.game))
        return every, every
    moves = int(max(mine.move.max(initial=0), theirs.move.max(initial=0))) + 1
    steps = int(max(mine.step.max(initial=0), theirs.step.max(initial=0))) + 1

    def keys(workload: Workload) -> np.ndarray:
        game, move = workload.game.astype(np.int64), workload.move.astype(np.int64)
        return (game * moves + move) * steps + workload.step

    _, left, right = np.intersect1d(keys(mine), keys(theirs), return_indices=True)
    return left, right


def same_instant_ties(trace: Trace, tolerance: float = TOLERANCE) -> np.ndarray:
    """Instants where two or more games (or gathered children) asked at once for a host
    (cooperative) or for one resource or queue (games that share).

    There the engine serves them in file order, but asyncio in the order the
    games' tasks resume, which is the order its timer heap yields their
    sleeps (docs/explanation/tie-rule.md). Games asking at 0 with their first
    step only are not a tie: asyncio starts tasks in file order too. Synchronous
    hosts have none: games queue in file order at 0 and a free host takes the next.
    """
    workload = trace.workload
    requests = np.zeros(len(workload.kind), dtype=bool)
    wanted = np.full(len(workload.kind), -1, dtype=np.int64)  # -1: a host
    if trace.schedule.kind == "cooperative":
        codes = [STEP_KINDS.index(kind) for kind in HOLDS_THE_LOOP if kind in STEP_KINDS]
        requests |= np.isin(workload.kind, codes)
    if workload.shared is not None:
        shared = workload.shared >= 0
        requests |= shared
        wanted[shared] = workload.shared[shared]
    rows = np.flatnonzero(requests)
    if not len(rows):
        return np.empty(0)
    ready, games, lines = trace.ready[rows], workload.game[rows], _lines(workload)[rows]
    order = np.lexsort((ready, wanted[rows]))
    ready, games, lines, rows = ready[order], games[order], lines[order], rows[order]
    things = wanted[rows]
    # a run of requests for one thing at one instant from at least two tasks
    pairs = np.flatnonzero(
        (np.diff(ready) <= tolerance)
        & (things[1:] == things[:-1])
        & ((games[1:] != games[:-1]) | (lines[1:] != lines[:-1]))
    )
    instants = np.unique(ready[pairs])
    at_zero = ready <= tolerance
    if len(instants) and instants[0] <= tolerance:
        opening = workload.first_step[games[at_zero]] == rows[at_zero]
        if opening.all():
            instants = instants[1:]
    return instants


def _lines(workload: Workload) -> np.ndarray:
    """Per row: which task of its game played it, as the round's leaf that task began
    at (0: the game itself), with the round, so that no two tasks share a number."""
    if workload.shared is None:
        return np.zeros(len(workload.game), dtype=np.int64)
    starts = [_task_starts(ops, len(leaves)) for ops, leaves in zip(
        workload.plan.ops, workload.plan.leaves, strict=True)]  # fmt: skip
    group = workload.group[workload.game]
    began = np.zeros(len(workload.game), dtype=np.int64)
    for g, table in enumerate(starts):
        rows = group == g
        began[rows] = table[workload.step[rows]]
    return workload.move.astype(np.int64) * (1 + int(workload.step.max(initial=0))) + began


def _task_starts(ops: tuple[Op, ...], width: int) -> np.ndarray:
    """Per leaf of a round: the leaf its task began at (0 for the game's own steps)."""
    table = np.zeros(width, dtype=np.int64)

    def walk(ops: tuple[Op, ...], base: int) -> None:
        for op in ops:
            if op.count:
                for i in range(op.count):
                    first = base + op.leaf + 1 + i * op.width
                    table[first : first + op.width] = first
                    walk(op.child, first)

    walk(ops, 0)
    return table
