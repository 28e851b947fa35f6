"""asyncio's own event loop on a virtual clock: its order, none of its waiting.

Why asyncio's loop and not a model of it: the order in which a busy loop runs
its callbacks (timers moved to the ready queue at the start of an iteration,
then only the callbacks queued before it began) decides how late a task runs
after it could, and asyncio's `Task`, `Future`, `Semaphore`, `Queue` and
`gather` each add iterations of their own. Running them is the one way to
have every one of them right, in this Python's version of them.

- `time()` is the clock, in seconds from 0;
- the selector never waits: asked to wait up to `timeout` for I/O, it moves
  the clock on by that much, rounded up to the millisecond as CPython's epoll
  and poll selectors round it; asked to wait for ever (nothing ready, no
  timer), it raises `Stalled`, since no I/O will ever come;
- CPU work and blocking calls are `advance`: the clock moves on while the
  caller holds the loop;
- a worker thread's life is `in_thread_at`: what it does at a time of its
  own runs once the clock gets there (moved on by `advance`, or where the
  loop would wait), in time order, before the loop goes on; what it hands
  the loop with `call_soon_threadsafe` joins the ready queue at that instant,
  behind what the loop queued before it, and wakes a waiting loop at that
  very instant, as writing to its wake-up socket does (no rounding to the
  millisecond); a thread that hands the loop nothing does not wake it;
- a wait that asyncio caps at a day (`MAXIMUM_SELECT_TIMEOUT`: a real loop
  wakes once a day on its way to a far timer) is taken whole, to the first
  timer, rounded up to the millisecond as one wait would be: a sleep of 10¹³ s
  would otherwise take 10⁸ turns of the loop;
- timers within `CLOCK_RESOLUTION` of now are due now, as on Linux, or
  within one step of the clock's float where the time is so late that a
  nanosecond is lost in it (at 4·10⁹ s a step is 0.5 µs): asyncio would
  otherwise find a timer due now never due, and spin.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from asyncio.base_events import MAXIMUM_SELECT_TIMEOUT
from collections.abc import Callable, Coroutine
from heapq import heappop, heappush
from itertools import count
from typing import Any, TypeVar

__all__ = ["CLOCK_RESOLUTION", "Stalled", "VirtualLoop"]

#: asyncio treats timers this close to now as due now: `time.get_clock_info("monotonic")`
#: resolution on Linux, fixed here so that results do not depend on the machine.
CLOCK_RESOLUTION = 1e-9

T = TypeVar("T")


class Stalled(Exception):
    """The loop would wait for I/O for ever: every task waits for another."""


class _Clock:
    """The time, and what worker threads will do at times of their own."""

    __slots__ = ("acts", "now", "tickets", "woken")

    def __init__(self) -> None:
        self.now = 0.0
        self.acts: list[tuple[float, int, Callable[[float], object]]] = []  # a heap
        self.tickets = count()
        self.woken = False  # a thread handed the loop a callback

    def act(self, until: float) -> None:
        """Let the threads do what they do by `until`, in time order, each at its time."""
        acts = self.acts
        while acts and acts[0][0] <= until:
            when, _, act = heappop(acts)
            self.now = max(self.now, when)
            act(when)


class _Selector(selectors.SelectSelector):
    """Registers the loop's own wake-up socket as usual; never waits on it."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock
        #: when the loop's first timer is due (the loop sets it: it owns the timers)
        self.first_timer: Callable[[], float] | None = None

    def select(self, timeout: float | None = None) -> list:
        clock = self._clock
        if timeout is not None and timeout >= MAXIMUM_SELECT_TIMEOUT and self.first_timer:
            timeout = max(timeout, self.first_timer() - clock.now)  # the whole wait at once
        # as `selectors.EpollSelector.select` rounds a timeout
        until = math.inf if timeout is None else clock.now + math.ceil(timeout * 1e3) * 1e-3
        clock.woken = False
        acts = clock.acts
        while acts and acts[0][0] <= until and not clock.woken:
            clock.act(acts[0][0])  # a thread handing the loop a callback wakes it there
        if not clock.woken:
            if timeout is None:
                raise Stalled
            clock.now = max(clock.now, until)
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    """A `SelectorEventLoop` whose clock moves only when it would wait or is told to."""

    def __init__(self) -> None:
        clock = _Clock()
        selector = _Selector(clock)
        super().__init__(selector)
        self._clock = clock
        selector.first_timer = lambda: self._scheduled[0]._when  # asyncio's timer heap
        self.set_debug(False)  # its slow-callback warnings would read the virtual clock

    def time(self) -> float:
        return self._clock.now

    @property  # type: ignore[override]
    def _clock_resolution(self) -> float:
        """What `_run_once` adds to now to find the timers due (see the module docstring)."""
        return max(CLOCK_RESOLUTION, math.ulp(self._clock.now))

    @_clock_resolution.setter
    def _clock_resolution(self, machine: float) -> None:
        """`BaseEventLoop` sets the machine's: this loop's is its own, above."""

    def advance(self, seconds: float) -> None:
        """CPU work or a blocking call of `seconds`: the loop is held meanwhile, and
        the threads do what they do by then."""
        clock = self._clock
        clock.now += seconds
        clock.act(clock.now)

    def in_thread_at(self, when: float, act: Callable[[float], object]) -> None:
        """A worker thread does `act(when)` at `when`: at once if that is not later than now."""
        clock = self._clock
        heappush(clock.acts, (when, next(clock.tickets), act))
        if when <= clock.now:
            clock.act(clock.now)

    def call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.Handle:
        """A worker thread hands the loop `callback`: queued now, waking a waiting loop."""
        self._clock.woken = True
        return self.call_soon(callback, *args, context=context)

    def play(self, main: Coroutine[Any, Any, T]) -> T:
        """Run `main` to its end and close the loop; on `Stalled`, every task left is
        cancelled and let finish first, so none is destroyed pending."""
        try:
            return self.run_until_complete(main)
        except Stalled:
            left = asyncio.all_tasks(self)
            for task in left:
                task.cancel()
            if left:  # (a gather of nothing would be made on another loop)
                self.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            raise
        finally:
            self.close()
