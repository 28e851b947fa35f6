"""Rows written as a run plays them, in any order, and the trace they make.

A player that walks rounds operation by operation (asyncio's own order,
`sim.engine.asyncio_order`; `sim verify`'s replay) writes a row as it reaches
each step, `with`, `put`, `get` and `gather`, children and consumers' rounds
interleaved as they happen. The trace sorts them by (game, round, place) into
the workload they make (`Workload.played`), as the task engine lays its own.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["PlayedRows"]

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
