"""SimPy, scheduled at exact times: the one module that reaches into SimPy's internals.

`Environment.schedule` takes a delay, and `now + (when - now)` need not be
`when` in floating point. The cooperative engine knows a game's ready time
as an exact sum of its steps and must wake at that very float, or a tie at
that instant would be missed; so events go into the queue at their time.
And an event that must be scheduled at a priority or time of its own
choosing, rather than by `succeed` (now, NORMAL), has to be triggered
without `succeed`, as SimPy's own `Timeout` and `run(until=…)` do.

Both need SimPy's private attributes (`Environment._queue`, `._eid`,
`._now`; `Event._ok`, `._value`), which is why pyproject.toml pins SimPy's
major version. Every other module goes through the names below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappush
from typing import Any

import numpy as np
import simpy
from simpy.events import Event

__all__ = ["DIGITS", "Clock", "Due", "Entry", "instant", "instants"]

#: One entry of SimPy's event queue, as `Environment.schedule` pushes it and `step` pops
#: it: (time, priority, ticket, event). Tickets come from one counter, so events due at
#: the same time and priority are processed in the order they were scheduled.
Entry = tuple[float, int, int, Event]


#: Decimal places of an instant where games share under cooperative and synchronous:
#: times are sums of durations, and two paths to one instant (0.04 + 0.002 and
#: 0.03 + 0.012) differ in their last bit as floats; rounded, they are one instant, as
#: asyncio's loop (to 1e-9 s) takes them, and its requests are settled together.
DIGITS = 12
_PER_SECOND = 10.0**DIGITS


def instant(seconds: float) -> float:
    """The instant `seconds` falls on: the nearest whole number of 10**-DIGITS s, as a
    float (next to nothing past 10**4 s, where a float holds fewer decimals than that).
    A product and a quotient rather than `round(seconds, DIGITS)`, which goes through a
    string and doubles what this costs an event."""
    return round(seconds * _PER_SECOND) / _PER_SECOND


def instants(seconds: np.ndarray) -> np.ndarray:
    """`instant` of every element, to the same bit (numpy rounds half to even, as
    `round` does, and the division is the same), in place: the array is returned."""
    np.multiply(seconds, _PER_SECOND, out=seconds)
    np.round(seconds, out=seconds)
    return np.divide(seconds, _PER_SECOND, out=seconds)


class Clock(simpy.Environment):
    """A SimPy environment that also schedules events at an exact time."""

    def schedule_at(self, event: Event, priority: int, when: float) -> None:
        """Schedule the triggered `event` at time `when` (not before now) with `priority`."""
        if when < self._now:
            raise ValueError(f"cannot schedule at {when}, before now ({self._now})")
        heappush(self._queue, (when, priority, next(self._eid), event))

    def queue(self) -> tuple[list[Entry], Iterator[int]]:
        """SimPy's event queue itself, a heapq heap of `Entry`, and its ticket counter.

        For a loop too hot for a call per event: the cooperative engine's
        step ends, where calls to push, peek and read the time would add a
        tenth to its run. It pushes `(when, priority, next(tickets), event)`,
        what `schedule_at` does unchecked, so only triggered events at `now`
        or later; and reads `queue[0][0]` when `queue` is not empty: the next
        event's time, what `peek` returns.
        """
        return self._queue, self._eid


class Due(Event):
    """An event triggered with `value` at birth, that calls `callback` when processed.

    What `Timeout` is without its delay, and cheaper to make: it is scheduled
    by whoever made it, at the time and priority of their choice
    (`Environment.schedule`, `Clock.schedule_at`). Once processed, a `Due`
    may be given callbacks again and be scheduled anew, still triggered:
    SimPy's `step` only empties `callbacks`. The engines make one per host step
    or more.
    """

    def __init__(self, env: simpy.Environment, value: Any, callback: Callable[[Event], None]):
        # Event.__init__ is skipped on purpose: these four fields are all it would set
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
