"""CPython's global interpreter lock, as `Python/ceval_gil.c` (3.11–3.13) makes it behave.

Only the thread holding the GIL runs Python. The rules modelled, from the C
source:

- A thread that wants the GIL while another holds it waits on a condition
  with a timeout of the switch interval (`take_gil`). When its wait times
  out and no switch happened since that wait began (`switch_number`
  unchanged), it sets `gil_drop_request`; otherwise it simply waits again.
  So a waiter's timer keeps its phase: it restarts every interval from the
  moment the thread began to wait.
- The holder checks the request at once (a pure-Python loop checks the eval
  breaker every few bytecodes), drops the GIL and signals the condition,
  which wakes *some* waiter: the OS decides which, so here it is a draw
  from the run's random generator. The waiter that set the request has
  just timed out and is still awake, so it sometimes takes the GIL before
  the woken one gets to run: it wins `REQUESTER_FIRST` of the time,
  otherwise any waiter is equally likely. With FORCE_SWITCHING the old
  holder then waits until the new one has taken the GIL and only then
  starts waiting itself, so its own timer begins at the switch: in a busy
  interpreter every slice lasts exactly one interval, and the old holder is
  the next to ask. Random handoffs let some threads finish their host step
  well before others, which is why real threads drift apart instead of
  moving in lockstep as a fair round-robin would.
- A thread entering a wait or block step (`time.sleep`, I/O) drops the GIL
  at once (`PyEval_SaveThread`) and signals a waiter; a thread that wants
  the GIL while nobody holds it takes it at once.

Hence the next drop request after a switch at time t comes from the waiter
whose timer next restarts at or after t, one interval after that restart:
exactly t + interval after a forced switch (the old holder's request),
between t + interval and t + 2 intervals after a voluntary one.

Nothing here is a number of seconds: scale every duration and the interval
by k and the run scales by k. Durations in whole intervals make the rules
meet at one instant all the time, and those ties are settled by rule, never
by float rounding (ten slices of 0.005 s are 0.05 s at one scale and a hair
more at another):
- a step that ends when a drop request comes is done: a real slice gives its
  thread at least one interval of CPU, as a timed wait never returns early;
- a timer restarting at the instant of a switch begins its wait after it;
- the lock decides after every other event of its instant, so threads
  arriving then are among the waiters (as the tie rule settles an instant
  before it hands out a host).
Instants closer than `TIE` of an interval are one instant.

A switch to a thread playing another game costs `host.switch_cost` (a
context switch): the GIL is in transit, nobody progresses, and the switch
counts from when the new holder has it. A holder moving on to another game
itself pays the cost as extra work.

Hot path: forced switches change nothing outside the lock, so they are
played inline, without a SimPy event each, up to the next event of the
environment, long runs of them in one tight loop: a polgar-sized run has
hundreds of thousands.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from functools import partial

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.engine.clock import Due

__all__ = ["Gil"]

_INF = math.inf
#: Forced switches settled together: only when a typical host step lasts this many
#: intervals and as many fit before the next event (a shorter run costs more to set up
#: than it saves).
RUN_AT_LEAST = 16
#: How often the waiter that set the drop request, awake at that moment, takes the GIL
#: at the forced switch it asked for, before any waiter the condition's signal wakes.
#: Measured on real CPython 3.11 threads on an idle 2-core machine (`bench/gil_handoffs.py`):
#: among 4 and 8 CPU-bound threads the requester took 41 % and 25 % of the handoffs,
#: where uniform draws give 33 % and 14 %, i.e. it wins first about one time in eight.
REQUESTER_FIRST = 0.1
#: Two instants closer than this many switch intervals are one instant. Sums that meet
#: on paper (a 50 ms step, ten slices of 5 ms) differ in their last bits as floats, and
#: 20 million intervals from 0 (as far as a run may go) a last bit is 3e-9 of an
#: interval; a tolerance in seconds would tie them at one time scale and not at another.
TIE = 1e-6


class Gil:
    """The lock shared by `threads` threads; `acquire`/`release` as the interpreter calls them.

    `on_done(thread)` is called, at the instant it happens, when the holder
    has done all the work of its current host step; the thread still holds
    the GIL then and must `acquire` its next host step or `release`.
    `typical_work` (a host step's usual length) tells whether long runs of
    forced switches are likely, worth settling together.
    """

    def __init__(
        self,
        env: simpy.Environment,
        threads: int,
        interval: float,
        switch_cost: float,
        rng: np.random.Generator,
        on_done: Callable[[int], None],
        typical_work: float = 0.0,
    ) -> None:
        self._env = env
        self._runs = typical_work >= RUN_AT_LEAST * interval
        self._interval = interval
        self._tie = interval * TIE
        self._cost = switch_cost
        self._rng = rng
        self._draws: list[float] = []
        self._on_done = on_done
        self.holder = -1
        self._from = 0.0  # the holder progresses from this time (after a switch's transit)
        self._left = 0.0  # work the holder still has at `_from`
        self._switched = 0.0  # when the GIL last changed hands (`switch_number` moved)
        self._drop_at = _INF  # when a waiter will set `gil_drop_request`
        self._requester = -1  # the waiter that will set it
        self._last_game = -1  # the game that last ran Python
        self._waiting: list[int] = []  # waiters, in no meaningful order
        self._slot = [-1] * threads  # per thread: its place in `_waiting`
        # per thread: when its timed wait began; a typed array that numpy reads in place
        self._since = array("d", bytes(8 * threads))
        self._work = [0.0] * threads  # per thread: work left in its current host step
        self._game = [-1] * threads  # per thread: the game of that step
        self._began = [math.nan] * threads  # per thread: when that step first ran
        self._token = 0  # only the latest scheduled tick counts
        self._busy = False  # inside a tick: schedule once at its end
        self.switches = 0
        self.switch_time = 0.0

    def began(self, thread: int) -> float:
        """When `thread`'s current host step first ran (after any switch cost)."""
        return self._began[thread]

    def holds(self, thread: int) -> bool:
        return self.holder == thread

    def acquire(self, thread: int, game: int, work: float) -> bool:
        """`thread` reaches a host step of `work` seconds; True if it is done at once."""
        now = self._env.now
        self._work[thread] = work
        self._game[thread] = game
        self._began[thread] = math.nan
        if self.holder == thread:  # it kept the GIL from its previous host step
            cost = self._switch_to(game)
            self._began[thread] = now + cost
            if cost == 0 and work == 0:
                return True
            self._from, self._left = now, cost + work
        elif self.holder < 0:
            cost = self._take(thread, now)
            if cost == 0 and work == 0:
                return True
        else:
            self._wait(thread, now)
            request = self._request_of(thread)
            if request < self._drop_at - self._tie:
                self._drop_at, self._requester = request, thread
        self._schedule()
        return False

    def release(self, thread: int) -> None:
        """The holder drops the GIL (a wait or block step, or its last step is done)."""
        assert self.holder == thread, (self.holder, thread)
        now = self._env.now
        if not self._waiting:
            self.holder = -1
            self._drop_at, self._requester = _INF, -1
        else:
            self._take(self._remove(self._uniform()), now)
            self._next_request()
        self._schedule()

    # --- the lock's own events ------------------------------------------------------------

    def _tick(self, token: int, _event: simpy.Event) -> None:
        if token != self._token:
            return
        now, tie = self._env.now, self._tie
        until = self._env.peek()
        if until <= now + tie:  # the rest of this instant first: threads arriving then wait too
            self._token += 1
            due = Due(self._env, None, partial(self._tick, self._token))
            self._env.schedule(due, NORMAL, until - now)
            return
        self._busy = True
        if self._from + self._left <= self._drop_at + tie:  # the holder's step is done
            self._left = 0.0
            self._from = now
            self._on_done(self.holder)
            if self.holder >= 0 and self._drop_at <= now + tie and self._waiting:
                self._preempt(now)  # a request was pending: dropped at the first check
        else:  # at the request, or now if that request waited for arrivals at its instant
            self._preempt(max(self._drop_at, now))
        # Hot path: forced switches up to the next event of the environment, inline.
        period = self._interval + self._cost
        while self._waiting and self._drop_at + tie < self._from + self._left:
            until = self._env.peek()
            if self._drop_at >= until - tie:
                break
            if self._runs and until - self._drop_at > RUN_AT_LEAST * period:
                self._preempt_run(until)
            else:
                self._preempt(self._drop_at)
        self._busy = False
        self._schedule()

    def _schedule(self) -> None:
        if self._busy:
            return
        self._token += 1
        if self.holder < 0:
            return
        now = self._env.now
        done = (self._from - now) + self._left  # exact when the holder started now
        request = self._drop_at - now
        # a step ending at the request (within `TIE`) ends first, never before its time
        delay = max(0.0, done if done <= request + self._tie else request)
        # a Due, not `succeed`, which would schedule it now
        self._env.schedule(Due(self._env, None, partial(self._tick, self._token)), NORMAL, delay)

    # --- the rules ----------------------------------------------------------------------

    def _preempt(self, at: float) -> None:
        """Forced switch at `at`: the holder drops, a waiter takes it, the old one waits."""
        old = self.holder
        self._work[old] = self._left - max(0.0, at - self._from)
        self._take(self._remove(self._woken()), at)
        self._wait(old, self._switched)  # FORCE_SWITCHING: it waits once the switch is done
        self._drop_at, self._requester = self._switched + self._interval, old

    def _preempt_run(self, until: float) -> None:
        """Forced switches from `_drop_at` on, every interval + cost, all before `until`.

        `_preempt` in a loop, with the lock's state in local variables: nothing
        else happens before `until`, every switch goes to another thread (hence
        another game), and the loop ends with the switch that gives the GIL to
        a thread able to finish within its slice.
        """
        waiting, slot, since = self._waiting, self._slot, self._since
        work, began = self._work, self._began
        interval, cost, first = self._interval, self._cost, REQUESTER_FIRST
        last_slice, stop = interval + self._tie, until - self._tie  # within `TIE`: one instant
        draws, fresh = self._draws, self._rng.random
        holder, requester = self.holder, self._requester
        at = start = self._drop_at
        period = interval + cost
        left = self._left - (at - self._from)
        played = 0.0  # switches so far, as a float: each `at` is computed from it
        while True:
            work[holder] = left
            if len(draws) < 2:  # the one left is drawn first, as `_draw` would
                draws = fresh(1024).tolist() + draws
            if requester >= 0 and slot[requester] >= 0 and draws.pop() < first:
                taker = requester
            else:
                taker = waiting[int(draws.pop() * len(waiting))]
            place, last = slot[taker], waiting.pop()  # take the taker out of `waiting`
            if last != taker:
                waiting[place] = last
                slot[last] = place
            switched = at + cost
            slot[holder] = len(waiting)  # the old holder waits from the switch on
            waiting.append(holder)
            since[holder] = switched
            slot[taker] = -1
            if began[taker] != began[taker]:  # NaN: its step's first slice
                began[taker] = switched
            requester, holder = holder, taker
            played += 1.0
            left = work[holder]
            at = start + played * period  # not `switched + interval`: no error piles up
            if left <= last_slice or at >= stop:
                break
            left -= interval  # a whole slice, up to the next switch
        self._draws = draws
        self.holder, self._left = holder, left
        self._from = self._switched = switched
        self._drop_at, self._requester = at, requester
        self._last_game = self._game[holder]
        switches = int(played)
        self.switches += switches
        self.switch_time += switches * cost

    def _take(self, thread: int, at: float) -> float:
        """`thread` takes the free GIL at `at`; return the switch cost it waits for first."""
        cost = self._switch_to(self._game[thread])
        self.holder = thread
        self._from = self._switched = at + cost
        self._left = self._work[thread]
        if math.isnan(self._began[thread]):
            self._began[thread] = self._from
        return cost

    def _switch_to(self, game: int) -> float:
        last, self._last_game = self._last_game, game
        if last == game or last < 0:
            return 0.0
        self.switches += 1
        self.switch_time += self._cost
        return self._cost

    def _wait(self, thread: int, since: float) -> None:
        self._slot[thread] = len(self._waiting)
        self._waiting.append(thread)
        self._since[thread] = since

    def _draw(self) -> float:
        if not self._draws:
            self._draws = self._rng.random(1024).tolist()
        return self._draws.pop()

    def _uniform(self) -> int:
        """Any waiter, all alike: the OS's choice when the holder drops the GIL to sleep."""
        return self._waiting[int(self._draw() * len(self._waiting))]

    def _woken(self) -> int:
        """Who takes the GIL at a forced switch.

        The requester has just timed out and is awake, not yet back asleep on
        the condition, so it is first to take the GIL `REQUESTER_FIRST` of the
        time; otherwise the signal wakes a waiter the OS picks.
        """
        asking = self._requester
        if asking >= 0 and self._slot[asking] >= 0 and self._draw() < REQUESTER_FIRST:
            return asking
        return self._uniform()

    def _remove(self, thread: int) -> int:
        waiting, slot = self._waiting, self._slot[thread]
        last = waiting.pop()
        if last != thread:
            waiting[slot] = last
            self._slot[last] = slot
        self._slot[thread] = -1
        return thread

    def _next_request(self) -> None:
        """After a voluntary switch: the waiter whose timer first sees no switch asks next."""
        self._drop_at, self._requester = _INF, -1
        if len(self._waiting) > 64:  # many waiters: the same arithmetic on arrays
            waiting = np.fromiter(self._waiting, dtype=np.int64, count=len(self._waiting))
            since = np.frombuffer(self._since)[waiting]  # a view of `_since`, released on return
            late = since < self._switched - self._tie
            laps = np.ceil((self._switched - since[late]) / self._interval - TIE)
            since[late] += laps * self._interval
            best = int(np.argmax(since <= since.min() + self._tie))  # the first of equals
            self._drop_at = float(since[best]) + self._interval
            self._requester = int(waiting[best])
            return
        if not self._waiting:
            return
        requests = [self._request_of(thread) for thread in self._waiting]
        first = min(requests) + self._tie
        best = next(i for i, request in enumerate(requests) if request <= first)
        self._drop_at, self._requester = requests[best], self._waiting[best]

    def _request_of(self, thread: int) -> float:
        """When waiter `thread` sets a drop request if the GIL does not change hands first.

        Its timed wait restarts every interval from `since`; the first restart
        at or after the last switch sees no switch when it times out.
        """
        since, interval = self._since[thread], self._interval
        if since < self._switched - self._tie:
            since += math.ceil((self._switched - since) / interval - TIE) * interval
        return since + interval
