"""Resources and queues as asyncio has them: its own primitives, called as requests come.

Every resource is a real `asyncio.Semaphore` and every queue a real
`asyncio.Queue(maxsize)`, so asyncio alone decides who goes next (its
semaphore wakes waiters first come, first served, and lets no newcomer pass
one; its queue wakes getters and putters in order, though a newcomer may take
an item a woken getter has not taken yet). The engine plays them under
`cooperative: {order: asyncio}` (`sim.engine.asyncio_order`), and `sim verify`
replays the tie rule's engine against them (`sim.verify.virtual_shared`).

- A resource some step asks several units of at once is a Semaphore behind an
  `asyncio.Lock`: the request holding the lock takes its units one by one
  while the others queue for the lock, so nobody passes it, as the engine's
  head waiter for several units holds the others back (units taken by
  separate `acquire()` calls would go to whoever asks next).
- A queue closes for its consumers when every game that puts into it has
  ended and it is empty: consumers then waiting in `get()` are cancelled, as a
  program cancels its consumer tasks once the producers are done.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sim.engine.plan import ACQUIRE, Op, Plan

__all__ = ["LoopShared", "several_units"]


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
    """The plan's resources and queues: requests call the primitives as they come."""

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
