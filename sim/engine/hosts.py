"""Hosts handed out by docs/design.md's tie rule, on a SimPy environment.

Why not `simpy.Resource` (or `PriorityResource`): they grant a request the
moment it is made, so when several games become ready at one instant the
first *event* wins a free host, not the first game in file order. Here a
request only joins a heap keyed by (ready time, game index); one dispatch
event per instant, scheduled after every normal event of that instant, then
gives the free hosts (lowest number first) to the smallest keys.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL

from sim.engine.clock import Due

__all__ = ["END_OF_INSTANT", "HOSTS_LAST", "HostPool"]

#: Event priority after SimPy's NORMAL: runs once all else at the instant is settled.
END_OF_INSTANT = NORMAL + 1
#: Where games also share resources and queues, hosts go out after those are settled
#: (`sim.engine.semaphores.SETTLE`), so a game let through a limit at an instant asks for
#: its host in that instant's hand-out.
HOSTS_LAST = END_OF_INSTANT + 1


class HostPool:
    """`count` hosts; `request` returns an event whose value is the host granted."""

    def __init__(self, env: simpy.Environment, count: int, priority: int = END_OF_INSTANT) -> None:
        self._env = env
        self._priority = priority
        self._free = list(range(count))  # a heap: the lowest free host goes first
        self._waiting: list[tuple[float, object, simpy.Event | Callable[[int], None]]] = []
        self._dispatch_due = False

    def request(self, game: int, ready: float | None = None) -> simpy.Event:
        """Ask for a host for `game`, ready since `ready` (default: now)."""
        granted = simpy.Event(self._env)
        heappush(self._waiting, (self._env.now if ready is None else ready, game, granted))
        self._wake()
        return granted

    def ask(self, game: object, ready: float, granted: Callable[[int], None]) -> None:
        """Like `request`, but `granted(host)` is called at the hand-out itself, with no
        event of its own: for callers that only start a timer there."""
        heappush(self._waiting, (ready, game, granted))
        self._wake()

    def release(self, host: int) -> None:
        heappush(self._free, host)
        if self._waiting:
            self._wake()

    def hand_on(self, host: int) -> None:
        """Release `host` where its user has already gone on: straight to the head of the
        queue, with no hand-out event, when the end-of-instant hand-out could only make
        that choice (the head is ready, no other host is free to hand out, and nothing
        else is due at this instant to join the queue); else as `release`.

        Only for `ask`ed hosts: the head is called back at once."""
        env = self._env
        if self._waiting and not self._dispatch_due:
            ready, _game, granted = self._waiting[0]
            now = env.now
            if ready <= now and env.peek() > now and not isinstance(granted, simpy.Event):
                heappop(self._waiting)
                granted(host)
                return
        self.release(host)

    def _wake(self) -> None:
        if self._dispatch_due or not self._free:
            return
        self._dispatch_due = True
        # a Due, not `succeed`, which would schedule it at NORMAL priority
        self._env.schedule(Due(self._env, None, self._dispatch), self._priority)

    def _dispatch(self, _event: simpy.Event) -> None:
        self._dispatch_due = False
        while self._free and self._waiting:
            _ready, _game, granted = heappop(self._waiting)
            if isinstance(granted, simpy.Event):
                granted.succeed(heappop(self._free))
            else:
                granted(heappop(self._free))
