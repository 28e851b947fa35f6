"""SimPy, scheduled at exact times: the environment and the event the fast engines use.

`Environment.schedule` takes a delay, and `now + (when - now)` need not be
`when` in floating point. The cooperative engine knows a game's ready time
as an exact sum of its steps and must wake at that very float, or a tie at
that instant would be missed; so events go into the queue at their time.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.events import Event

__all__ = ["Clock", "Due"]


class Clock(simpy.Environment):
    def schedule_at(self, event: Event, priority: int, when: float) -> None:
        """Schedule `event` at time `when` (not before now) with `priority`."""
        if when < self._now:
            raise ValueError(f"cannot schedule at {when}, before now ({self._now})")
        heappush(self._queue, (when, priority, next(self._eid), event))


class Due(Event):
    """An event triggered with `value` at birth, that calls `callback` when processed.

    What `Timeout` is without its delay, and cheaper to make: the engines make
    one per host step.
    """

    def __init__(self, env: simpy.Environment, value: Any, callback: Callable[[Event], None]):
        # Event.__init__ is skipped on purpose: these four fields are all it would set
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
