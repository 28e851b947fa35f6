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
- timers within `CLOCK_RESOLUTION` of now are due now, as on Linux.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["CLOCK_RESOLUTION", "Stalled", "VirtualLoop"]

#: asyncio treats timers this close to now as due now: `time.get_clock_info("monotonic")`
#: resolution on Linux, fixed here so that results do not depend on the machine.
CLOCK_RESOLUTION = 1e-9

T = TypeVar("T")


class Stalled(Exception):
    """The loop would wait for I/O for ever: every task waits for another."""


class _Clock:
    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0


class _Selector(selectors.SelectSelector):
    """Registers the loop's own wake-up socket as usual; never waits on it."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list:
        if timeout is None:
            raise Stalled
        if timeout > 0:  # as `selectors.EpollSelector.select` rounds it
            self._clock.now += math.ceil(timeout * 1e3) * 1e-3
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    """A `SelectorEventLoop` whose clock moves only when it would wait or is told to."""

    def __init__(self) -> None:
        clock = _Clock()
        super().__init__(_Selector(clock))
        self._clock = clock
        self._clock_resolution = CLOCK_RESOLUTION
        self.set_debug(False)  # its slow-callback warnings would read the virtual clock

    def time(self) -> float:
        return self._clock.now

    def advance(self, seconds: float) -> None:
        """CPU work or a blocking call of `seconds`: the loop is held meanwhile."""
        self._clock.now += seconds

    def play(self, main: Coroutine[Any, Any, T]) -> T:
        """Run `main` to its end and close the loop; on `Stalled`, every task left is
        cancelled and let finish first, so none is destroyed pending."""
        try:
            return self.run_until_complete(main)
        except Stalled:
            left = asyncio.all_tasks(self)
            for task in left:
                task.cancel()
            self.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            raise
        finally:
            self.close()
