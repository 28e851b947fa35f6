"""Cooperative: games share hosts step by step, as coroutines share asyncio's loop.

Every game starts at 0. At a step that holds a host it queues for one (FIFO
by ready time, ties in file order); at a wait step it holds nothing, so a
host is free to serve the others meanwhile.

Played on SimPy with as few events as docs/design.md's tie rule allows; the plain
`stepwise` engine (a process and a timeout per step) is the yardstick the
tests difference this one against, bit for bit:

- a host step is one SimPy event, its end, with a callback: no process, no
  request event;
- the wait steps after it are no event at all: when the host step ends, its
  game's waits are added up one by one (the very floats a timeout per step
  would give) and the game joins the host queue with that future ready time;
- the hot loop records only when each host step started and on which host;
  `completion.complete_from_starts` computes every other time afterwards, in numpy;
- a freed host goes straight to the head of the queue, with no dispatch
  event, when the end-of-instant hand-out could only make that choice. No
  other host may be free. Then either (a) nothing else is due at this
  instant and the head is ready: whatever joins the queue later at this
  instant is a consequence of this very hand-out (a zero-length step), as in
  the rule's next round; or (b) the head has been ready since before now (so
  nothing joining at this instant can pass it), every lower-numbered host is
  busy past this instant (so this host is the lowest to be handed out), and
  the step takes time (so the host is not back in a later round of this
  instant). (b) keeps k hosts that free up together, as integer durations
  make them, on this path. Otherwise one dispatch at the end of the instant,
  or at the head's ready time when it is not ready yet, hands hosts out;
- the queue is a deque while games join it in (ready time, game) order, as
  they do when the games' waits are alike, and a heap takes the rest; its
  head is the smaller of the two heads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from itertools import pairwise

import numpy as np
from simpy.events import NORMAL, Event

from sim.engine import stepwise
from sim.engine.clock import Clock, Due
from sim.engine.completion import complete_from_starts
from sim.engine.holding import holds_host
from sim.engine.hosts import END_OF_INSTANT
from sim.engine.recorder import Recorder
from sim.engine.switching import with_switches_counted
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.schedules import Schedule

__all__ = ["play"]

_NEVER = float("inf")
#: Hosts below this number may take the head while other hosts free up at the same
#: instant (checking that every lower host stays busy costs a scan of them).
_LOWER = 16


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    """Play every game cooperatively; return when each step was ready, ran and on which host."""
    if workload.switch_cost or schedule.hosts(workload.hosts) != workload.hosts:
        return stepwise.play(workload, schedule, rng)  # walks between games, fewer hosts
    trace = Recorder(workload).trace(schedule)  # empty columns, filled in place
    holds = holds_host(workload, schedule.kind)
    _run(trace, holds)
    complete_from_starts(trace, holds)
    return with_switches_counted(trace)


def _run(trace: Trace, holds_array: np.ndarray) -> None:
    """Fill the trace's `start` and `host` of every host-holding step, in place.

    Written as closures over local variables, not methods: the callbacks run
    once per host step (millions of times), and local lookups are the cheapest
    Python has. Columns are read and written through memoryviews, which give
    and take plain Python floats and ints.

    A game is known by the row of its next host step: rows of one game are
    contiguous and games are in file order, so (ready time, row) sorts the
    queue exactly as (ready time, game) does, and no per-game state is kept.
    Each `_StepEnd` event knows its step's row and its host; the time it is
    processed at, now, is its host's `busy_until`.
    """
    workload = trace.workload
    env = Clock()
    # SimPy's own queue, pushed to directly in the hot path (what `Clock.schedule_at`
    # does, written out) and read to learn whether anything else is due this instant
    events, eid = env.queue()
    duration = memoryview(np.ascontiguousarray(workload.duration))
    following = memoryview(_next_held(workload, holds_array))
    start = memoryview(trace.start)
    on_host = memoryview(trace.host)
    free = list(range(workload.hosts))  # a heap: the lowest free host goes first
    in_order: deque[tuple[float, int]] = deque()  # the queue, joined in (ready, row) order
    out_of_order: list[tuple[float, int]] = []  # a heap: the queue's other entries
    wake = [_NEVER]  # the earliest pending dispatch
    busy_until = [0.0] * workload.hosts  # per host: when its current step ends

    def join(ready_at: float, row: int) -> None:
        """Queue the host step at `row`, ready at `ready_at`."""
        entry = (ready_at, row)
        if not in_order or entry > in_order[-1]:
            in_order.append(entry)
        else:
            heappush(out_of_order, entry)
        if free:
            dispatch_at(max(ready_at, env.now))

    def head() -> tuple[float, int] | None:
        if in_order and (not out_of_order or in_order[0] < out_of_order[0]):
            return in_order[0]
        return out_of_order[0] if out_of_order else None

    def serve(host: int, now: float) -> None:
        """Start the host step at the queue's head on `host`; its end is its one event."""
        if in_order and (not out_of_order or in_order[0] < out_of_order[0]):
            row = in_order.popleft()[1]
        else:
            row = heappop(out_of_order)[1]
        start[row] = now
        on_host[row] = host
        until = busy_until[host] = now + duration[row]
        heappush(events, (until, NORMAL, next(eid), _StepEnd(env, row, host, step_end)))

    def step_end(event: _StepEnd) -> None:
        """A host step ended: queue its game's next host step, hand its host on.

        The hottest code of all: `join` and `serve` are written out here.
        """
        host = event.host
        now = busy_until[host]  # when this step was to end: the time it is processed at
        row = event.row
        later = following[row]
        if later >= 0:
            # the wait steps in between, added one by one as they would run
            ready_at = now
            row += 1
            while row < later:
                ready_at = ready_at + duration[row]
                row += 1
            entry = (ready_at, later)
            if not in_order or entry > in_order[-1]:
                in_order.append(entry)
            else:
                heappush(out_of_order, entry)
        if not free:
            # the end-of-instant hand-out may be foreseen (see the module docstring)
            if in_order and (not out_of_order or in_order[0] < out_of_order[0]):
                queue = in_order
            elif out_of_order:
                queue = out_of_order
            else:
                queue = None
            if queue is not None:
                ready_at, row = queue[0]
                until = now + duration[row]
                if (ready_at <= now and (not events or events[0][0] > now)) or (
                    ready_at < now
                    and until > now
                    and (host == 0 or (host < _LOWER and min(busy_until[:host]) > now))
                ):
                    if queue is in_order:
                        in_order.popleft()
                    else:
                        heappop(out_of_order)
                    start[row] = now
                    on_host[row] = host
                    busy_until[host] = until
                    # SimPy is done with `event` (its callbacks have run): it is re-armed as
                    # this step's end rather than a new one made, a fifth of this loop's time
                    event.callbacks = [step_end]
                    event.row = row
                    heappush(events, (until, NORMAL, next(eid), event))
                    return
        heappush(free, host)
        first = head()
        if first is not None:
            dispatch_at(max(first[0], now))

    def dispatch_at(when: float) -> None:
        """Hand out free hosts at the end of instant `when` (once, however often asked)."""
        if when < wake[0]:
            wake[0] = when
            env.schedule_at(Due(env, None, dispatch), END_OF_INSTANT, when)

    def dispatch(_event: Event) -> None:
        """The tie rule: free hosts, lowest first, to the queue by (ready time, game)."""
        now = env.now
        if wake[0] <= now:
            wake[0] = _NEVER
        while free:
            first = head()
            if first is None:
                return
            if first[0] > now:
                dispatch_at(first[0])
                return
            serve(heappop(free), now)

    for row, ready_at in _first_held(workload, holds_array):
        join(ready_at, row)
    env.run()


class _StepEnd(Due):
    """The end of a host step: it knows the step's row and its host."""

    def __init__(self, env: Clock, row: int, host: int, callback: Callable[[Event], None]):
        super().__init__(env, None, callback)
        self.row = row
        self.host = host


def _next_held(workload: Workload, holds: np.ndarray) -> np.ndarray:
    """Per host-holding step: the row of its game's next one, or -1 (rows elsewhere: -1)."""
    held = np.flatnonzero(holds)
    following = np.full(len(holds), -1, dtype=np.int32 if len(holds) < 2**31 else np.int64)
    same_game = workload.game[held[1:]] == workload.game[held[:-1]]
    following[held[:-1][same_game]] = held[1:][same_game]
    return following


def _first_held(workload: Workload, holds: np.ndarray) -> list[tuple[float, int]]:
    """Each game's first host-holding step and when it is ready: after the waits before it."""
    duration = memoryview(np.ascontiguousarray(workload.duration))
    steps = memoryview(holds)
    first = workload.first_step.tolist()
    found = []
    for lo, hi in pairwise(first):
        ready_at, row = 0.0, lo
        while row < hi and not steps[row]:
            ready_at = ready_at + duration[row]
            row += 1
        if row < hi:
            found.append((row, ready_at))
    return found
