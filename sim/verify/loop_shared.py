"""Resources and queues on the replay's loop: asyncio's own primitives, in asyncio's order
or in the tie rule's.

Every resource is a real `asyncio.Semaphore` and every queue a real
`asyncio.Queue(maxsize)`; what differs is who decides the order of requests
made at one instant.

- `LoopShared`: asyncio decides. A request calls the primitive at once.
  A resource some step asks several units of at once is a Semaphore behind
  an `asyncio.Lock`: the request holding the lock takes its units one by
  one while the others queue for the lock, so nobody passes it, as the
  engine's head waiter for several units holds the others back (units taken
  by separate `acquire()` calls would go to whoever asks next). A queue
  closes for its consumers when every game that puts into it has ended and
  it is empty: consumers then waiting in `get()` are cancelled, as a program
  cancels its consumer tasks once the producers are done.
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

from sim.engine.plan import ACQUIRE, Op, Plan
from sim.verify.loop_hosts import SettledHosts

__all__ = ["LoopShared", "SettledShared", "several_units"]


def several_units(plan: Plan) -> set[int]:
    """Resources some step of the plan asks more than one unit of at once."""
    found: set[int] = set()

    def walk(ops: tuple[Op, ...]) -> None:
        for op in ops:
            if op.code == ACQUIRE and op.units > 1:
                found.add(op.shared)
            walk(op.child)

    for ops in plan.ops:
        walk(ops)
    return found


class LoopShared:
    """asyncio's own order: requests call the primitives as they come."""

    def __init__(self, plan: Plan, producers: list[int]) -> None:
        several = several_units(plan)
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self._turns: dict[int, asyncio.Lock] = {}
        self._queues: dict[int, asyncio.Queue[None]] = {}
        for index, capacity in enumerate(plan.capacity):
            if plan.is_queue(index):
                self._queues[index] = asyncio.Queue(capacity)
            else:
                self._semaphores[index] = asyncio.Semaphore(capacity)
                if index in several:
                    self._turns[index] = asyncio.Lock()
        self._producers = list(producers)
        self._getting: dict[int, set[asyncio.Task[Any]]] = {i: set() for i in self._queues}
        self._closing: set[asyncio.Task[Any]] = set()

    async def acquire(self, key: tuple, index: int, units: int) -> None:
        semaphore, turn = self._semaphores[index], self._turns.get(index)
        if turn is None:
            await semaphore.acquire()
            return
        async with turn:
            for _ in range(units):
                await semaphore.acquire()

    def release(self, index: int, units: int) -> None:
        for _ in range(units):
            self._semaphores[index].release()

    async def put(self, key: tuple, index: int) -> None:
        await self._queues[index].put(None)

    async def get(self, key: tuple, index: int) -> bool:
        """Take an item: True, or False once the queue has closed."""
        queue = self._queues[index]
        if self._closed(index):
            return False
        task = asyncio.current_task()
        assert task is not None
        self._getting[index].add(task)
        try:
            await queue.get()
        except asyncio.CancelledError:
            if task not in self._closing:
                raise
            self._closing.discard(task)
            task.uncancel()
            return False
        finally:
            self._getting[index].discard(task)
        self._close_if_done(index)  # another getter may have been woken for this item
        return True

    def producer_ended(self, index: int) -> None:
        self._producers[index] -= 1
        self._close_if_done(index)

    def _closed(self, index: int) -> bool:
        return self._producers[index] == 0 and self._queues[index].empty()

    def _close_if_done(self, index: int) -> None:
        if not self._closed(index):
            return
        for task in self._getting[index]:
            if task not in self._closing:
                self._closing.add(task)
                task.cancel()


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
