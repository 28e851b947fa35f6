"""Cooperative: games share hosts step by step, as coroutines share asyncio's loop.

Every game starts at 0. At a step that holds a host it queues for one (FIFO
by ready time, ties in file order); at a wait step it holds nothing, so a
host is free to serve the others meanwhile.

Played on SimPy with as few events as DESIGN.md's tie rule allows; the plain
`stepwise` engine (a process and a timeout per step) is the yardstick the
tests difference this one against, bit for bit:

- a host step is one SimPy event, its end, with a callback: no process, no
  request event;
- the wait steps after it are no event at all: when the host step ends, its
  game's waits are added up one by one (the very floats a timeout per step
  would give) and the game joins the host queue with that future ready time;
- the hot loop records only when each host step started and on which host;
  `derive.fill_in` computes every other time afterwards, in numpy;
- a freed host goes straight to the head of the queue when nothing else can
  happen at this instant (no other host free, no other event due now): the
  end-of-instant hand-out could only make the same choice, since whatever
  joins the queue later at this instant joins behind the head or is a
  consequence of this very hand-out (a zero-length step), as in the rule's
  next round. Otherwise one dispatch at the end of the instant, or at the
  head's ready time when it is not ready yet, hands the free hosts out;
- the queue is a deque while games join it in (ready time, game) order, as
  they do when the games' waits are alike, and a heap takes the rest; its
  head is the smaller of the two heads.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush

import numpy as np
from simpy.events import NORMAL, Event

from sim.engine.clock import Clock, Due
from sim.engine.derive import fill_in
from sim.engine.holds import holds_host
from sim.engine.hosts import END_OF_INSTANT
from sim.schedules import Schedule
from sim.trace import NO_HOST, Trace
from sim.workload import Workload

__all__ = ["play"]

_NEVER = float("inf")


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    """Play every game cooperatively; return when each step was ready, ran and on which host."""
    steps = len(workload.kind)
    trace = Trace(
        workload,
        schedule,
        ready=np.zeros(steps),
        start=np.zeros(steps),
        end=np.zeros(steps),
        host=np.full(steps, NO_HOST, dtype=np.int32),
    )
    holds = holds_host(workload, schedule.kind)
    _run(trace, holds)
    fill_in(trace, holds)
    return trace


def _run(trace: Trace, holds_array: np.ndarray) -> None:
    """Fill the trace's columns in place.

    Written as closures over local variables, not methods: the callbacks run
    once per host step (millions of times), and local lookups are the cheapest
    Python has. Columns are read and written through memoryviews, which give
    and take plain Python floats and ints. Only `start` and `host` of the
    host steps are written here; `fill_in` does the rest.
    """
    workload = trace.workload
    env = Clock()
    # SimPy's own queue, pushed to directly in the hot path (what `Clock.schedule_at`
    # does, written out) and read to learn whether anything else is due this instant
    events, eid = env._queue, env._eid
    duration = memoryview(np.ascontiguousarray(workload.duration))
    holds = memoryview(holds_array)
    start = memoryview(trace.start)
    on_host = memoryview(trace.host)
    next_step = workload.first_step[:-1].tolist()  # per game: the row of its next step
    stop = workload.first_step[1:].tolist()  # per game: one past its last row
    free = list(range(workload.hosts))  # a heap: the lowest free host goes first
    in_order: deque[tuple[float, int]] = deque()  # the queue, joined in (ready, game) order
    out_of_order: list[tuple[float, int]] = []  # a heap: the queue's other entries
    wake = [_NEVER]  # the earliest pending dispatch

    def walk(game: int, row: int, now: float) -> None:
        """Play the game's steps from `row` that hold no host; queue it for the next that does."""
        last = stop[game]
        while row < last and not holds[row]:
            now = now + duration[row]
            row += 1
        next_step[game] = row
        if row < last:
            entry = (now, game)
            if not in_order or entry > in_order[-1]:
                in_order.append(entry)
            else:
                heappush(out_of_order, entry)
            if free:
                dispatch_at(max(now, env._now))

    def head() -> tuple[float, int] | None:
        if in_order and (not out_of_order or in_order[0] < out_of_order[0]):
            return in_order[0]
        return out_of_order[0] if out_of_order else None

    def serve(host: int, now: float) -> None:
        """Start the host step of the queue's head on `host`; its end is the step's one event."""
        if in_order and (not out_of_order or in_order[0] < out_of_order[0]):
            game = in_order.popleft()[1]
        else:
            game = heappop(out_of_order)[1]
        row = next_step[game]
        start[row] = now
        on_host[row] = host
        heappush(events, (now + duration[row], NORMAL, next(eid), Due(env, game, step_end)))

    def step_end(event: Event) -> None:
        """A host step ended: move its game on, then hand its host to the next game.

        The hottest code of all: `walk` and `serve` are written out here.
        """
        now = env._now
        game = event._value
        row = next_step[game]
        host = on_host[row]
        row += 1
        last = stop[game]
        at = now
        while row < last and not holds[row]:
            at = at + duration[row]
            row += 1
        next_step[game] = row
        if row < last:
            entry = (at, game)
            if not in_order or entry > in_order[-1]:
                in_order.append(entry)
            else:
                heappush(out_of_order, entry)
        if not free and (not events or events[0][0] > now):
            # nothing else can happen at this instant (see the module docstring)
            if in_order and (not out_of_order or in_order[0] < out_of_order[0]):
                game = in_order.popleft()[1] if in_order[0][0] <= now else -1
            elif out_of_order and out_of_order[0][0] <= now:
                game = heappop(out_of_order)[1]
            else:
                game = -1
            if game >= 0:
                row = next_step[game]
                start[row] = now
                on_host[row] = host
                # SimPy is done with `event` (its callbacks have run): it is re-armed as
                # this step's end rather than a new one made, a fifth of this loop's time
                event.callbacks = [step_end]
                event._value = game
                heappush(events, (now + duration[row], NORMAL, next(eid), event))
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
        now = env._now
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

    for game in range(len(stop)):
        walk(game, next_step[game], 0.0)
    env.run()
