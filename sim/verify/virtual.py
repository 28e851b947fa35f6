"""The games as real coroutines on asyncio's loop, with its clock fast-forwarded.

The engine claims to play cooperative and synchronous schedules exactly as
asyncio would. This module asks asyncio itself: every game is a coroutine on
a real event loop whose clock is `looptime`'s, so `asyncio.sleep(55)` returns
at once with `loop.time()` 55 s later, and the result is a `Trace` of the same
shape as the engine's, to be compared step by step.

- cooperative: a step that holds a host (`host`; `block`, a blocking call,
  and `native`, C code computing, hold the loop too) acquires
  `asyncio.Semaphore(host.count)` and sleeps its duration while holding it; a
  `wait` step only sleeps. The semaphore grants
  in the order `acquire()` was called (FIFO; a test pins it: tests/test_verify.py).
  With `tie_rule`, hosts go by docs/design.md's tie rule instead (`sim.verify.loop_hosts`):
  only the order of same-instant requests is then the engine's.
- synchronous: `host.count` host coroutines each await whole games, one after
  another, taking the next game in file order when they are free.

Games that share resources, queues or fan-out (`workload.shared` is set) are
replayed by `sim.verify.virtual_shared`: real `asyncio.Semaphore`s,
`asyncio.Queue`s and `asyncio.gather`, and the played rows in a trace of
their own; a run in which games wait for ever raises the engine's `Deadlock`.

A schedule's own `hosts` parameter, where it has one, replaces `host.count`;
`host.switch_cost`, where the scenario has one, is slept by a host before a
step of a game other than the one it served last, as the engine charges it.

The loop's clock counts in ticks of `RESOLUTION`, far below a float's
precision at the times that matter, so `loop.time() + d` follows the same
float arithmetic as SimPy's `env.now + d`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from itertools import pairwise
from typing import TypeVar

import numpy as np

from sim.engine import on_hosts_in_use
from sim.engine.holding import HOLDS_HOST
from sim.engine.recorder import Recorder
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule
from sim.verify.loop_hosts import SemaphoreHosts, SettledHosts
from sim.verify.virtual_shared import play_shared

__all__ = ["HOLDS_THE_LOOP", "REPLAYABLE", "RESOLUTION", "games_of", "not_replayed", "replay"]

#: Schedules that have an asyncio counterpart.
REPLAYABLE = ("synchronous", "cooperative")


def not_replayed(schedule: Schedule) -> str | None:
    """Why `schedule` is not replayed on asyncio, or None where it is."""
    if schedule.kind not in REPLAYABLE:
        return "no asyncio counterpart"
    if schedule.cooperative is not None and schedule.cooperative.order == "asyncio":
        return "played by asyncio itself"
    return None


#: Step kinds that keep a cooperative host (the loop) to themselves: host, block, native.
HOLDS_THE_LOOP = HOLDS_HOST["cooperative"]
#: looptime's clock tick, in seconds.
RESOLUTION = 1e-15
#: Virtual seconds the loop may idle, nothing due and games waiting, before looptime
#: gives up on them: a deadlock. A thousand ticks, spent in real time too.
IDLE = 1e-12

Steps = list[tuple[str, float]]
T = TypeVar("T")


def replay(workload: Workload, schedule: Schedule, tie_rule: bool = False) -> Trace:
    """Play `workload` under `schedule` on a fast-forwarded asyncio loop.

    `tie_rule`: hand the hosts out by docs/design.md's tie rule instead of in
    `asyncio.Semaphore`'s order (cooperative; synchronous is the same either way),
    and serve resources and queues by it too where games share them.
    """
    if (why := not_replayed(schedule)) is not None:
        raise ValueError(f"{schedule.label}: {why}")
    # on the hosts the games can use at once, as the engine plays: a million idle hosts
    # would be a million host coroutines here
    return on_hosts_in_use(
        lambda played, own, _rng: _replay(played, own, tie_rule),
        workload,
        schedule,
        np.random.default_rng(0),
    )


def _replay(workload: Workload, schedule: Schedule, tie_rule: bool) -> Trace:
    if workload.shared is not None:
        return _run_virtual(lambda loop: play_shared(loop, workload, schedule, tie_rule))
    record = Recorder(workload)
    games = games_of(workload)
    count = schedule.hosts(workload.hosts)
    cost = float(getattr(workload.scenario.host, "switch_cost", 0.0))
    if schedule.kind == "cooperative":
        _run_virtual(lambda loop: _cooperative(loop, games, count, cost, record, tie_rule))
    else:
        _run_virtual(lambda loop: _synchronous(loop, games, count, cost, record))
    return record.trace(schedule)


def games_of(workload: Workload, scale: float = 1.0) -> list[Steps]:
    """Every game as `(kind, seconds ÷ scale)` steps, kinds by name."""
    names = [STEP_KINDS[code] for code in workload.kind.tolist()]
    seconds = (workload.duration / scale if scale != 1 else workload.duration).tolist()
    return [
        list(zip(names[lo:hi], seconds[lo:hi], strict=True))
        for lo, hi in pairwise(workload.first_step.tolist())
    ]


def _run_virtual(main: Callable[[asyncio.AbstractEventLoop], Awaitable[T]]) -> T:
    """Run `main(loop)` to completion on a new looptime loop starting at 0; its result.

    In a thread of its own when the caller already runs a loop (a notebook),
    since one thread cannot run two loops.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_on_new_loop(main)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(_run_on_new_loop, main).result()


def _run_on_new_loop(main: Callable[[asyncio.AbstractEventLoop], Awaitable[T]]) -> T:
    import looptime  # imported here: only `sim verify` needs it

    loop = looptime.new_event_loop(
        start=0.0, resolution=RESOLUTION, noop_cycles=0, idle_timeout=IDLE
    )
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.close()


async def _cooperative(
    loop: asyncio.AbstractEventLoop,
    games: list[Steps],
    count: int,
    switch_cost: float,
    record: Recorder,
    tie_rule: bool,
) -> None:
    hosts = (SettledHosts if tie_rule else SemaphoreHosts)(loop, count, len(games))
    served = [-1] * count  # per host: the game it served last

    async def game(index: int, steps: Steps) -> None:
        ready, start, end, held = [], [], [], []
        for kind, duration in steps:
            ready.append(loop.time())
            if kind in HOLDS_THE_LOOP:
                host = await hosts.acquire(index, ready[-1])
                cost = switch_cost if served[host] not in (-1, index) else 0.0
                served[host] = index
                start.append(loop.time() + cost)
                await hosts.sleep(cost + duration)  # one sleep, as the engine's one timeout
                hosts.release(host)
            else:
                host = NO_HOST
                start.append(loop.time())
                await hosts.sleep(duration)
            end.append(loop.time())
            held.append(host)
        record.game(index, ready, start, end, held)
        hosts.done()

    await asyncio.gather(*(game(index, steps) for index, steps in enumerate(games)))


async def _synchronous(
    loop: asyncio.AbstractEventLoop,
    games: list[Steps],
    hosts: int,
    switch_cost: float,
    record: Recorder,
) -> None:
    queue = iter(enumerate(games))  # shared: a free host takes the next game in file order

    async def host(number: int) -> None:
        first = True
        for index, steps in queue:
            if not first and switch_cost:
                await asyncio.sleep(switch_cost)  # moving on to a different game
            first = False
            start, end = [], []
            for _kind, duration in steps:
                start.append(loop.time())
                await asyncio.sleep(duration)
                end.append(loop.time())
            ready = [0.0, *start[1:]]  # as the engine: the first step waited since 0
            record.game(index, ready, start, end, [number] * len(steps))

    await asyncio.gather(*(host(number) for number in range(hosts)))
