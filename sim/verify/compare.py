"""The engine's trace against another trace of the same workload, game by game.

No printing: `compare` says whether every game ends at the same instant (to
`TOLERANCE`), which game differs first in file order, and the earliest step
where the two diverge in time; `against_asyncio` plays and compares a
scenario's schedules; `same_instant_ties` finds the instants where asyncio's
order may differ from docs/design.md's tie rule. `Agreement.passes` is the
verdict: a difference in the order of same-instant requests alone is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from sim.engine import play
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule
from sim.verify.virtual import HOLDS_THE_LOOP, REPLAYABLE, replay

__all__ = [
    "TOLERANCE",
    "Agreement",
    "Divergence",
    "against_asyncio",
    "compare",
    "same_instant_ties",
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
        """The step where the two first part ways in time: the earliest differing start."""
        starts_e, starts_o = self.engine.start, self.other.start
        rows = np.flatnonzero(np.abs(starts_e - starts_o) > self.tolerance)
        if not len(rows):
            return None
        when = np.minimum(starts_e[rows], starts_o[rows])
        row = int(rows[np.lexsort((rows, when))[0]])
        workload = self.engine.workload
        return Divergence(
            row=row,
            player=workload.players[workload.game[row]],
            move=int(workload.move[row]) + 1,
            step=int(workload.step[row]) + 1,
            engine_start=float(starts_e[row]),
            other_start=float(starts_o[row]),
        )

    @cached_property
    def ties(self) -> np.ndarray:
        """Same-instant ties in the engine's trace (see `same_instant_ties`)."""
        return same_instant_ties(self.engine, self.tolerance)


def compare(engine: Trace, other: Trace, tolerance: float = TOLERANCE) -> Agreement:
    """Set two traces of one workload and schedule side by side."""
    if engine.workload is not other.workload or engine.schedule != other.schedule:
        raise ValueError("compare traces of the same workload and schedule")
    return Agreement(engine, other, tolerance)


def against_asyncio(
    workload: Workload, schedules: Sequence[Schedule], tie_rule: bool = False
) -> list[Agreement]:
    """The engine against the asyncio replay, for each schedule asyncio can play.

    Where the replay in asyncio's own order disagrees, it is replayed again
    with the tie rule imposed (`settled`): agreement then shows the difference
    is the order of same-instant ties alone.
    """
    rows = []
    for schedule in schedules:
        if schedule.kind not in REPLAYABLE:
            continue
        engine = play(workload, schedule)
        row = compare(engine, replay(workload, schedule, tie_rule))
        if not row.agrees and not tie_rule and schedule.kind == "cooperative":
            settled = compare(engine, replay(workload, schedule, tie_rule=True))
            row = replace(row, settled=settled)
        rows.append(row)
    return rows


def same_instant_ties(trace: Trace, tolerance: float = TOLERANCE) -> np.ndarray:
    """Instants where two or more games asked for a host at once (cooperative only).

    There the engine hands hosts out in file order, but asyncio in the order
    the games' tasks resume, which is the order its timer heap yields their
    sleeps (docs/explanation/tie-rule.md). Games asking at 0 with their first
    step only are not a tie: asyncio starts tasks in file order too. Synchronous
    has none: games queue in file order at 0 and a free host takes the next.
    """
    if trace.schedule.kind != "cooperative":
        return np.empty(0)
    workload = trace.workload
    codes = [STEP_KINDS.index(kind) for kind in HOLDS_THE_LOOP if kind in STEP_KINDS]
    rows = np.flatnonzero(np.isin(workload.kind, codes))
    ready, games = trace.ready[rows], workload.game[rows]
    order = np.argsort(ready, kind="stable")
    ready, games, rows = ready[order], games[order], rows[order]
    # a run of requests at one instant from at least two different games
    pairs = np.flatnonzero((np.diff(ready) <= tolerance) & (games[1:] != games[:-1]))
    instants = np.unique(ready[pairs])
    at_zero = ready <= tolerance
    if len(instants) and instants[0] <= tolerance:
        opening = workload.first_step[games[at_zero]] == rows[at_zero]
        if opening.all():
            instants = instants[1:]
    return instants
