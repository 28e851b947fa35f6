"""Resources shared by every game: `asyncio.Semaphore`, a connection pool, an executor.

A resource has `capacity` units. A request for `units` is granted while
that many are free and nobody asked before it; otherwise it waits, and
waiters are served first come, first served, a newcomer never passing a
queued waiter (a head asking for more units than are free holds the others
back). Requests made at one instant are ordered by docs/design.md's tie
rule, (time asked, game, …), the same key the hosts use.

Two ways of settling an instant, as the schedule has it:

- settled (cooperative, synchronous): every request waits for the end of
  its instant, when the waiters are served in key order, so the order of
  same-instant requests is the tie rule's and not the order SimPy happened
  to process them in (`sim verify` replays it on asyncio);
- at once (threaded, parallel): a request for free units is granted on the
  spot, and a release hands its units to the waiters there and then, as a
  thread's `acquire` returns at once when it can.

A grant calls the waiter back through an event at the same instant, never
from inside the releaser's own call.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

from simpy.events import NORMAL

from sim.engine.clock import Clock, Due

__all__ = ["SETTLE", "Semaphore", "Settling"]

#: Priority of the end-of-instant hand-out of resources and queues: after every normal
#: event of the instant, before the hosts (`HOSTS_LAST`), so that a game let through
#: a limit asks for its host in the same hand-out as the others.
SETTLE = NORMAL + 1

Callback = Callable[[], None]


class Settling:
    """Something whose waiters are served at the end of the instant (or at once).

    `_serve` hands out what it can and lists who to call back (`_grants`); the
    callers are called after it, in the order served: directly when settling
    at the end of the instant (nothing else is due then, and a waiter going on
    may ask again), as events at this instant otherwise, never from inside the
    call of the game that let them through.
    """

    def __init__(self, env: Clock, settled: bool) -> None:
        self._env = env
        self._settled = settled
        self._due = False
        self._grants: list[Callback] = []

    def _wake(self) -> None:
        if not self._settled:
            self._serve()
            grants, self._grants = self._grants, []
            for grant in grants:
                self._env.schedule(Due(self._env, None, lambda _event, g=grant: g()), NORMAL)
        elif not self._due:
            self._due = True
            self._env.schedule(Due(self._env, None, self._on_settle), SETTLE)

    def _on_settle(self, _event: Any) -> None:
        self._due = False
        self._serve()
        grants, self._grants = self._grants, []
        for grant in grants:
            grant()

    def _serve(self) -> None:
        raise NotImplementedError


class Semaphore(Settling):
    """`capacity` units handed out first come, first served."""

    def __init__(self, env: Clock, name: str, capacity: int, settled: bool) -> None:
        super().__init__(env, settled)
        self.name = name
        self.capacity = capacity
        self.free = capacity
        self._waiting: list[tuple[tuple, int, Callback]] = []  # heap by key
        self.holders: dict[Any, int] = {}  # who holds how many units, for deadlock reports

    def request(self, key: tuple, units: int, holder: Any, granted: Callback) -> bool:
        """Ask for `units`; True if granted now, else `granted()` is called when they are."""
        if not self._settled and not self._waiting and self.free >= units:
            self._take(holder, units)
            return True
        heappush(self._waiting, (key, units, lambda: self._granted(holder, units, granted)))
        self._wake()
        return False

    def release(self, holder: Any, units: int) -> None:
        self.free += units
        left = self.holders[holder] - units
        if left:
            self.holders[holder] = left
        else:
            del self.holders[holder]
        if self._waiting:
            self._wake()

    def waiting(self) -> int:
        return len(self._waiting)

    def _serve(self) -> None:
        while self._waiting and self._waiting[0][1] <= self.free:
            _key, units, grant = heappop(self._waiting)
            self.free -= units
            self._grants.append(grant)

    def _granted(self, holder: Any, units: int, granted: Callback) -> None:
        self.holders[holder] = self.holders.get(holder, 0) + units
        granted()

    def _take(self, holder: Any, units: int) -> None:
        self.free -= units
        self.holders[holder] = self.holders.get(holder, 0) + units
