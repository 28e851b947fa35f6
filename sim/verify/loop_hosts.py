"""How the replay's games get a host on asyncio's loop: asyncio's order, or the tie rule.

- `SemaphoreHosts`: `asyncio.Semaphore(count)`. A game gets a host in the
  order it called `acquire()`; games asking at one instant call it in the
  order their tasks resume (docs/explanation/tie-rule.md).
- `SettledHosts`: docs/design.md's tie rule on the same loop. Requests wait until
  the instant is settled, that is no task is running and no sleep is due
  now, and free hosts then go by (ready time, key). To know that, every
  task reports when it starts to sleep, wakes, waits on another task and
  ends; public API only, no peeking into the loop. Where games share
  resources and queues (`sim.verify.loop_shared`), those are served first
  at a settled instant, one waiter at a time, each going on at once, as the
  engine settles them before its hosts. What the engine does as an event of
  its own at the instant (a zero-length step, a child starting, a parent
  going on after its children) waits, during such a hand-out, until it is
  over (`hop`).

Both number the hosts as the engine does (the lowest free one), so traces
can be compared host for host. The bookkeeping calls (`suspend`, `resumed`,
`fork`, `joined`) mean nothing to `SemaphoreHosts`: asyncio alone decides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

__all__ = ["CLOCK_RESOLUTION", "SemaphoreHosts", "SettledHosts"]

#: asyncio treats timers this close to now as due now (`BaseEventLoop._clock_resolution`).
CLOCK_RESOLUTION = 1e-9


class SemaphoreHosts:
    """`count` hosts behind an `asyncio.Semaphore`: FIFO in the order `acquire()` is called."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int, games: int) -> None:
        self._semaphore = asyncio.Semaphore(count)
        self._free = list(range(count))

    async def acquire(self, game: Any, ready: float) -> int:
        await self._semaphore.acquire()
        return heappop(self._free)

    def release(self, host: int) -> None:
        heappush(self._free, host)
        self._semaphore.release()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def done(self) -> None:
        """A task has ended."""

    async def hop(self) -> None:
        """A step the engine takes as an event of its own at this instant."""

    def suspend(self) -> None:
        """A task waits for a future that another part of the replay will set."""

    def resumed(self) -> None:
        """Such a future was set: its task runs again at this instant."""

    def fork(self, children: int) -> None:
        """A task waits for `children` new tasks, started now."""

    def joined(self, last: bool) -> None:
        """A child task ended; `last`: its parent goes on."""


class SettledHosts:
    """`count` hosts handed out once each instant is settled, by (ready time, key)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int, games: int) -> None:
        self._loop = loop
        self._free = list(range(count))
        self._waiting: list[tuple[float, Any, asyncio.Future[int]]] = []
        self._running = games  # tasks due to run at this instant
        self._due: list[float] = []  # when each sleep in progress ends
        self._first: Callable[[], bool] = lambda: False
        self._handing_out = False  # `_first` let a task go on, and may let another
        self._parked: list[asyncio.Future[None]] = []  # hops held back till it is over

    def serving_first(self, serve: Callable[[], bool]) -> None:
        """At a settled instant, call `serve` before handing hosts out; if it let a task go
        on (True), settle again once that task has had its turn."""
        self._first = serve

    async def acquire(self, game: Any, ready: float) -> int:
        """A host for `game` (file order, or any key ordered as the engine orders it)."""
        granted: asyncio.Future[int] = self._loop.create_future()
        heappush(self._waiting, (ready, game, granted))
        self.suspend()
        return await granted  # `_settle` counted the task as running again

    def release(self, host: int) -> None:
        heappush(self._free, host)  # the releasing task runs on: nothing settles yet

    async def sleep(self, seconds: float) -> None:
        if seconds == 0:
            if self._handing_out:
                await self.hop()
            else:  # a bare yield: the task stays due at this instant
                await asyncio.sleep(0)
            return
        heappush(self._due, self._loop.time() + seconds)  # as asyncio computes the deadline
        self.suspend()
        await asyncio.sleep(seconds)
        heappop(self._due)  # the earliest deadlines are the ones ending now
        self._running += 1

    def done(self) -> None:
        self.suspend()

    async def hop(self) -> None:
        if not self._handing_out:
            return
        parked: asyncio.Future[None] = self._loop.create_future()
        self._parked.append(parked)
        self.suspend()
        await parked

    def suspend(self) -> None:
        self._running -= 1
        self._settle()

    def resumed(self) -> None:
        self._running += 1

    def fork(self, children: int) -> None:
        self._running += children
        self.suspend()

    def joined(self, last: bool) -> None:
        if last:  # the parent is due at this instant before the child is counted out
            self._running += 1
        self.suspend()

    def _settle(self) -> None:
        """Hand free hosts out if nothing else can happen at this instant."""
        if self._running or (self._due and self._due[0] <= self._loop.time() + CLOCK_RESOLUTION):
            return
        self._handing_out = self._first()
        if self._handing_out:
            return
        if self._parked:  # the engine's events of this instant, then another settling
            parked, self._parked = self._parked, []
            for future in parked:
                self._running += 1
                future.set_result(None)
            return
        while self._free and self._waiting:
            _ready, _game, granted = heappop(self._waiting)
            self._running += 1
            granted.set_result(heappop(self._free))
