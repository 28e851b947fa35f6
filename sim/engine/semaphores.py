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

__all__ = ["SETTLE", "Semaphore", "Settler", "Settling"]

#: Priority of the end-of-instant hand-out of resources and queues: after every normal
#: event of the instant, before the hosts (`HOSTS_LAST`), so that a game let through
#: a limit asks for its host in the same hand-out as the others.
SETTLE = NORMAL + 1

Callback = Callable[[], None]
Key = tuple


class Settler:
    """The end-of-instant hand-out of every resource and queue of a run, as one.

    Once the instant is settled, the waiter with the smallest key among all the
    heads that can be served now goes first, and is called back at once; what
    it asks for next joins its resource's or queue's waiters and competes in
    the same hand-out. So a game let through a free limit asks for a queue in
    the same hand-out as games that asked for it directly, and wins by the tie
    rule when its key is smaller, as in asyncio, where taking a free semaphore
    does not suspend the task.
    """

    def __init__(self, env: Clock) -> None:
        self._env = env
        self._due = False
        self.members: list[Settling] = []

    def wake(self) -> None:
        if not self._due:
            self._due = True
            self._env.schedule(Due(self._env, None, self._settle), SETTLE)

    def _settle(self, _event: Any) -> None:
        members = self.members
        while True:
            best: Settling | None = None
            best_key: Key | None = None
            for member in members:
                key = member.head()
                if key is not None and (best_key is None or key < best_key):
                    best, best_key = member, key
            if best is None:
                break
            best.serve_head()()
        self._due = False


class Settling:
    """Something with waiters: served by the run's `Settler` at the end of the instant
    (settled), or at once and called back through events of their own (not settled),
    never from inside the call of the game that let them through."""

    def __init__(self, env: Clock, settler: Settler | None) -> None:
        self._env = env
        self._settler = settler
        self._settled = settler is not None
        if settler is not None:
            settler.members.append(self)

    def head(self) -> Key | None:
        """The key of the waiter to serve next, if it can be served now."""
        raise NotImplementedError

    def serve_head(self) -> Callback:
        """Serve that waiter; return how to call it back."""
        raise NotImplementedError

    def _wake(self) -> None:
        if self._settler is not None:
            self._settler.wake()
            return
        while self.head() is not None:
            grant = self.serve_head()
            self._env.schedule(Due(self._env, None, lambda _event, g=grant: g()), NORMAL)


class Semaphore(Settling):
    """`capacity` units handed out first come, first served."""

    def __init__(self, env: Clock, name: str, capacity: int, settler: Settler | None) -> None:
        super().__init__(env, settler)
        self.name = name
        self.capacity = capacity
        self.free = capacity
        self._waiting: list[tuple[Key, int, Any, Callback]] = []  # heap by key
        self.holders: dict[Any, int] = {}  # who holds how many units, for deadlock reports

    def request(self, key: Key, units: int, holder: Any, granted: Callback) -> bool:
        """Ask for `units`; True if granted now, else `granted()` is called when they are."""
        if not self._settled and not self._waiting and self.free >= units:
            self._take(holder, units)
            return True
        heappush(self._waiting, (key, units, holder, granted))
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

    def head(self) -> Key | None:
        waiting = self._waiting
        return waiting[0][0] if waiting and waiting[0][1] <= self.free else None

    def serve_head(self) -> Callback:
        _key, units, holder, granted = heappop(self._waiting)
        self._take(holder, units)
        return granted

    def _take(self, holder: Any, units: int) -> None:
        self.free -= units
        self.holders[holder] = self.holders.get(holder, 0) + units
