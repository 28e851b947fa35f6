"""Resources and queues on the replay's loop, in the tie rule's order.

Every resource is a real `asyncio.Semaphore` and every queue a real
`asyncio.Queue(maxsize)`; what differs from asyncio's own order
(`sim.engine.asyncio_shared.LoopShared`, which the engine plays too) is who
decides the order of requests made at one instant.

- `SettledShared`: the tie rule (docs/design.md, "Shared limits, queues and
  fan-out"). A request waits until the instant is settled
  (`sim.verify.loop_hosts.SettledHosts`); then, as the engine's `Settler`
  does, the waiter with the smallest key (time asked, game, round, place)
  among the heads that can be served goes first and runs on until it waits
  again, what it asks for then competing in the same hand-out; and so on
  until no head can be served. The real primitive is called in that order:
  a queue's `put_nowait` and `get_nowait` by the settler, a Semaphore's
  `acquire()` by the granted task, for units set aside for it.
"""

from __future__ import annotations

import asyncio
from heapq import heappop, heappush
from typing import Any

from sim.engine.plan import Plan
from sim.verify.loop_hosts import SettledHosts

__all__ = ["SettledShared"]


class _Resource:
    __slots__ = ("free", "semaphore", "waiting")

    def __init__(self, capacity: int) -> None:
        self.semaphore = asyncio.Semaphore(capacity)
        self.free = capacity  # units neither held nor set aside for a granted task
        self.waiting: list[tuple[tuple, int, asyncio.Future[None]]] = []


class _Queue:
    __slots__ = ("getters", "producers", "putters", "queue")

    def __init__(self, maxsize: int, producers: int) -> None:
        self.queue: asyncio.Queue[None] = asyncio.Queue(maxsize)
        self.producers = producers
        self.putters: list[tuple[tuple, asyncio.Future[None]]] = []
        self.getters: list[tuple[tuple, asyncio.Future[bool]]] = []

    @property
    def closed(self) -> bool:
        return self.producers == 0 and self.queue.empty() and not self.putters


class SettledShared:
    """The tie rule: requests wait for the settled instant, then go in key order."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, plan: Plan, producers: list[int], hosts: SettledHosts
    ) -> None:
        self._loop = loop
        self._hosts = hosts
        self._shared: list[_Resource | _Queue] = [
            _Queue(capacity, producers[index]) if plan.is_queue(index) else _Resource(capacity)
            for index, capacity in enumerate(plan.capacity)
        ]
        hosts.serving_first(self._serve_next)

    async def acquire(self, key: tuple, index: int, units: int) -> None:
        resource = self._shared[index]
        assert isinstance(resource, _Resource)
        granted: asyncio.Future[None] = self._loop.create_future()
        heappush(resource.waiting, (key, units, granted))
        self._hosts.suspend()
        await granted
        for _ in range(units):  # never waits: the units were set aside at the grant
            await resource.semaphore.acquire()

    def release(self, index: int, units: int) -> None:
        resource = self._shared[index]
        assert isinstance(resource, _Resource)
        for _ in range(units):
            resource.semaphore.release()
        resource.free += units

    async def put(self, key: tuple, index: int) -> None:
        queue = self._shared[index]
        assert isinstance(queue, _Queue)
        done: asyncio.Future[None] = self._loop.create_future()
        heappush(queue.putters, (key, done))
        self._hosts.suspend()
        await done

    async def get(self, key: tuple, index: int) -> bool:
        """Take an item: True, or False once the queue has closed."""
        queue = self._shared[index]
        assert isinstance(queue, _Queue)
        taken: asyncio.Future[bool] = self._loop.create_future()
        heappush(queue.getters, (key, taken))
        self._hosts.suspend()
        return await taken

    def producer_ended(self, index: int) -> None:
        queue = self._shared[index]
        assert isinstance(queue, _Queue)
        queue.producers -= 1

    def _serve_next(self) -> bool:
        """Let the waiter with the smallest key that can be served go on (True), if any."""
        best: tuple | None = None
        serve: Any = None
        for shared in self._shared:
            key, how = self._head(shared)
            if key is not None and (best is None or key < best):
                best, serve = key, how
        if serve is None:
            return False
        serve()
        return True

    def _head(self, shared: _Resource | _Queue) -> tuple[tuple | None, Any]:
        """The key of the waiter `shared` would serve now, and how to serve it."""
        if isinstance(shared, _Resource):
            waiting = shared.waiting
            if waiting and waiting[0][1] <= shared.free:
                return waiting[0][0], lambda: self._grant_units(shared)
            return None, None
        queue = shared.queue
        putter = shared.putters[0][0] if shared.putters and not queue.full() else None
        getter = None
        if shared.getters and (not queue.empty() or shared.closed):
            getter = shared.getters[0][0]
        if putter is not None and (getter is None or putter < getter):
            return putter, lambda: self._accept(shared)
        if getter is not None:
            return getter, lambda: self._hand(shared)
        return None, None

    def _grant_units(self, resource: _Resource) -> None:
        _key, units, granted = heappop(resource.waiting)
        resource.free -= units
        self._go(granted, None)

    def _accept(self, queue: _Queue) -> None:
        _key, done = heappop(queue.putters)
        queue.queue.put_nowait(None)
        self._go(done, None)

    def _hand(self, queue: _Queue) -> None:
        _key, taken = heappop(queue.getters)
        if queue.queue.empty():  # closed
            self._go(taken, False)
            return
        queue.queue.get_nowait()
        self._go(taken, True)

    def _go(self, future: asyncio.Future[Any], value: Any) -> None:
        self._hosts.resumed()
        future.set_result(value)
