"""Queues between games: `asyncio.Queue`, `queue.Queue`, a `multiprocessing.Queue`.

Items go in at the back and come out at the front. A `put` waits while the
queue holds `maxsize` items (0: never), a `get` while it is empty; both kinds
of waiter are served first come, first served, ordered at one instant by
the tie rule's key, and settled at the end of the instant or at once as the
schedule has it (`sim.engine.semaphores.Settling`).

The queue closes for its consumers when every game that puts into it has
ended and it is empty: a waiting `get` then returns no item and its consumer
ends, as a consumer task is cancelled once `queue.join()` returns.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush

from sim.engine.clock import Clock
from sim.engine.semaphores import Callback, Settling

__all__ = ["Queue"]

Taken = "Callable[[bool], None]"


class Queue(Settling):
    """A FIFO of items; `producers` games put into it."""

    def __init__(self, env: Clock, name: str, maxsize: int, producers: int, settled: bool) -> None:
        super().__init__(env, settled)
        self.name = name
        self.maxsize = maxsize
        self.items: deque[int] = deque()  # each item: the row that put it
        self.producers = producers
        self._putters: list[tuple[tuple, int, Callback]] = []
        self._getters: list[tuple[tuple, object]] = []
        self.put_count = 0
        self.taken = 0

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self.items)

    @property
    def closed(self) -> bool:
        return self.producers == 0 and not self.items and not self._putters

    def put(self, key: tuple, item: int, done: Callback) -> bool:
        """Put `item`; True if it went in now, else `done()` is called when it has."""
        if not self._settled and not self._putters and not self.full():
            self._add(item)
            return True
        heappush(self._putters, (key, item, done))
        self._wake()
        return False

    def get(self, key: tuple, taken) -> tuple[bool, int] | None:
        """Take an item: `(True, item)` now, `(False, -1)` now if closed, or None and
        `taken(item_or_-1)` later."""
        if not self._settled and not self._getters:
            if self.items:
                self.taken += 1
                item = self.items.popleft()
                if self._putters:
                    self._wake()
                return True, item
            if self.closed:
                return False, -1
        heappush(self._getters, (key, taken))
        self._wake()
        return None

    def producer_ended(self) -> None:
        self.producers -= 1
        if self.producers == 0:
            self._wake()

    def waiting(self) -> tuple[int, int]:
        """Putters and getters waiting."""
        return len(self._putters), len(self._getters)

    def _add(self, item: int) -> None:
        self.items.append(item)
        self.put_count += 1
        if self._getters:
            self._wake()

    def _serve(self) -> None:
        while True:
            if self._putters and not self.full():
                _key, item, done = heappop(self._putters)
                self.items.append(item)
                self.put_count += 1
                self._grants.append(done)
            elif self._getters and self.items:
                _key, taken = heappop(self._getters)
                item = self.items.popleft()
                self.taken += 1
                self._grants.append(lambda taken=taken, item=item: taken(item))
            elif self._getters and self.closed:
                _key, taken = heappop(self._getters)
                self._grants.append(lambda taken=taken: taken(-1))
            else:
                return
