"""How the replay's games get a host on asyncio's loop: asyncio's order, or the tie rule.

- `SemaphoreHosts`: `asyncio.Semaphore(count)`. A game gets a host in the
  order it called `acquire()`; games asking at one instant call it in the
  order their tasks resume (docs/explanation/tie-rule.md).
- `SettledHosts`: docs/design.md's tie rule on the same loop. Requests wait until
  the instant is settled, that is no game is running and no sleep is due
  now, and free hosts then go by (ready time, file order). To know that, every
  game reports when it starts to sleep, wakes and ends; public API only, no
  peeking into the loop.

Both number the hosts as the engine does (the lowest free one), so traces
can be compared host for host.
"""

from __future__ import annotations

import asyncio
from heapq import heappop, heappush

__all__ = ["CLOCK_RESOLUTION", "SemaphoreHosts", "SettledHosts"]

#: asyncio treats timers this close to now as due now (`BaseEventLoop._clock_resolution`).
CLOCK_RESOLUTION = 1e-9


class SemaphoreHosts:
    """`count` hosts behind an `asyncio.Semaphore`: FIFO in the order `acquire()` is called."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int, games: int) -> None:
        self._semaphore = asyncio.Semaphore(count)
        self._free = list(range(count))

    async def acquire(self, game: int, ready: float) -> int:
        await self._semaphore.acquire()
        return heappop(self._free)

    def release(self, host: int) -> None:
        heappush(self._free, host)
        self._semaphore.release()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def done(self) -> None:
        """A game has ended."""


class SettledHosts:
    """`count` hosts handed out once each instant is settled, by (ready time, game)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int, games: int) -> None:
        self._loop = loop
        self._free = list(range(count))
        self._waiting: list[tuple[float, int, asyncio.Future[int]]] = []
        self._running = games  # games whose task is due to run at this instant
        self._due: list[float] = []  # when each sleep in progress ends

    async def acquire(self, game: int, ready: float) -> int:
        granted: asyncio.Future[int] = self._loop.create_future()
        heappush(self._waiting, (ready, game, granted))
        self._running -= 1
        self._settle()
        return await granted  # `_settle` counted the game as running again

    def release(self, host: int) -> None:
        heappush(self._free, host)  # the releasing game runs on: nothing settles yet

    async def sleep(self, seconds: float) -> None:
        if seconds == 0:  # a bare yield: the game stays due at this instant
            await asyncio.sleep(0)
            return
        heappush(self._due, self._loop.time() + seconds)  # as asyncio computes the deadline
        self._running -= 1
        self._settle()
        await asyncio.sleep(seconds)
        heappop(self._due)  # the earliest deadlines are the ones ending now
        self._running += 1

    def done(self) -> None:
        self._running -= 1
        self._settle()

    def _settle(self) -> None:
        """Hand free hosts out if nothing else can happen at this instant."""
        if self._running or (self._due and self._due[0] <= self._loop.time() + CLOCK_RESOLUTION):
            return
        while self._free and self._waiting:
            _ready, _game, granted = heappop(self._waiting)
            self._running += 1
            granted.set_result(heappop(self._free))
