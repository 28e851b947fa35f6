"""Which steps hold a host under which schedule: one lookup, used by every engine.

A step kind means different things to different schedules (a `wait` holds
nothing under cooperative, yet its game keeps the host under synchronous), so
the engines never test a kind directly: they ask this table once per run and
get one boolean per step.
"""

from __future__ import annotations

import numpy as np

from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS, StepKind
from sim.scenario.schedules import ScheduleKind

__all__ = ["HOLDS_HOST", "holds_host"]

#: Step kinds that hold a host for their duration, per schedule. Under synchronous a
#: game holds its host from its first step to its last whatever the kinds, so every
#: kind is listed; under cooperative a block step (`time.sleep` in a coroutine) and a
#: native step (C code computing in a coroutine) hold the loop like a host step. (Threads
#: and processes keep their own books.)
HOLDS_HOST: dict[ScheduleKind, frozenset[StepKind]] = {
    "synchronous": frozenset(STEP_KINDS),
    "cooperative": frozenset({"host", "block", "native"}),
}


def holds_host(workload: Workload, schedule: ScheduleKind) -> np.ndarray:
    """One boolean per step of `workload`: does it hold a host under `schedule`?"""
    by_code = np.array([kind in HOLDS_HOST[schedule] for kind in STEP_KINDS], dtype=bool)
    return by_code[workload.kind]
