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
from collections.abc import Callable
from heapq import heappop, heappush

from sim.engine.clock import Clock
from sim.engine.semaphores import Callback, Key, Settler, Settling

__all__ = ["Queue"]

Taken = Callable[[int], None]


class Queue(Settling):
    """A FIFO of items; `producers` games put into it."""

    def __init__(
        self, env: Clock, name: str, maxsize: int, producers: int, settler: Settler | None
    ) -> None:
        super().__init__(env, settler)
        self.name = name
        self.maxsize = maxsize
        self.items: deque[int] = deque()  # each item: the row that put it
        self.producers = producers
        self._putters: list[tuple[Key, int, Callback]] = []
        self._getters: list[tuple[Key, Taken]] = []

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self.items)

    @property
    def closed(self) -> bool:
        return self.producers == 0 and not self.items and not self._putters

    def put(self, key: Key, item: int, done: Callback) -> bool:
        """Put `item`; True if it went in now, else `done()` is called when it has."""
        if not self._settled and not self._putters and not self.full():
            self.items.append(item)
            if self._getters:
                self._wake()
            return True
        heappush(self._putters, (key, item, done))
        self._wake()
        return False

    def get(self, key: Key, taken: Taken) -> int | None:
        """Take an item: the item now (-1 if the queue is closed), or None and
        `taken(item or -1)` later."""
        if not self._settled and not self._getters and (self.items or self.closed):
            if not self.items:
                return -1
            item = self.items.popleft()
            if self._putters:
                self._wake()
            return item
        heappush(self._getters, (key, taken))
        self._wake()
        return None

    def producer_ended(self) -> None:
        self.producers -= 1
        if self.producers == 0:
            self._wake()

    def head(self) -> Key | None:
        keys = []
        if self._putters and not self.full():
            keys.append(self._putters[0][0])
        if self._getters and (self.items or self.closed):
            keys.append(self._getters[0][0])
        return min(keys) if keys else None

    def serve_head(self) -> Callback:
        putter = self._putters[0][0] if self._putters and not self.full() else None
        getter = self._getters[0][0] if self._getters and (self.items or self.closed) else None
        if putter is not None and (getter is None or putter < getter):
            _key, item, done = heappop(self._putters)
            self.items.append(item)
            return done
        _key, taken = heappop(self._getters)
        item = self.items.popleft() if self.items else -1
        return lambda: taken(item)
