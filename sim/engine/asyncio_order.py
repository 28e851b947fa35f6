"""Cooperative in asyncio's own order (`cooperative: {order: asyncio}`): the games as
coroutines on asyncio's loop, its clock virtual (`sim.engine.virtual_loop`).

The tie rule serves a game the instant it is ready. asyncio's loop runs in
iterations: it moves the timers due by now into its ready queue, then runs
the callbacks queued before the iteration began, in order. On a busy loop a
task whose `asyncio.sleep` ended runs two iterations after its timer was due
(the timer's callback sets the sleep's future, whose callback queues the
task), behind whatever was queued meanwhile; a task woken by another (a
semaphore released, an item put, its gathered children done) one or two
iterations after; and an idle loop sleeps until its next timer rounded up to
the millisecond. Here every game is a task of that loop, as in a program:

- a host, block or native step moves the clock on by its duration while its
  task runs, holding the loop, as CPU work and blocking calls do; one of
  another game than the loop's last pays `host.switch_cost` first;
- a wait step is `asyncio.sleep` (0: one turn of the loop);
- `with`, `put`, a consumer's `get` and the closing of its queue are
  `sim.engine.asyncio_shared`'s; a `gather` is `asyncio.gather` of child
  coroutines, tasks started in order;
- a `with` on an executor is `run_in_executor`: its steps are a job that the
  executor's worker threads take in the order submitted, each the moment a
  worker is free (`_Pool`); a wait in it passes on the worker, a host step
  (Python, which needs the GIL) runs on the loop when the loop gets to it;
  the task learns the job is done through the loop, as asyncio's future
  chained to the executor's tells it;
- the games start as tasks in file order, gathered by a main task.

Rows: a row ends when what it did is done (a wait when its timer is due, a
gather when its last child ends, a `with` when its units are given back),
and the task's next row is ready then; a row starts when the task gets to it
(a `with` when the task, granted its units, is back on the loop; a job's
when a worker takes it). So the time between a row's ready and start is the
loop being busy with other tasks (or, for a job, the workers with others).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import takewhile
from typing import Any

import numpy as np

from sim.engine.asyncio_shared import LoopShared
from sim.engine.deadlock import Deadlock
from sim.engine.holding import HOLDS_HOST
from sim.engine.plan import ACQUIRE, GATHER, GET, PUT, RELEASE, TIMED, Op
from sim.engine.played_rows import PlayedRows, RoundDurations, children, play_rounds
from sim.engine.programs import producers_of
from sim.engine.trace import Trace
from sim.engine.virtual_loop import Stalled, VirtualLoop
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

__all__ = ["play"]

_HOLDS_THE_LOOP = frozenset(STEP_KINDS.index(kind) for kind in HOLDS_HOST["cooperative"])
_WITH, _GATHER, _PUT, _GET, _HOST = (
    STEP_KINDS.index(k) for k in ("with", "gather", "put", "get", "host")
)
#: The loop, as a host number in the trace.
_LOOP = 0


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator | None = None) -> Trace:
    """Play every game as a task on a virtual-clock asyncio loop; raise `Deadlock` when
    the loop is left with tasks that all wait on one another. From inside a running loop
    (a notebook's), in a thread of its own, since one thread cannot run two loops."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _play(workload, schedule)
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(_play, workload, schedule).result()


def _play(workload: Workload, schedule: Schedule) -> Trace:
    loop = VirtualLoop()
    games = _Games(loop, workload, schedule)
    try:
        loop.play(games.main())
    except Stalled:
        raise games.deadlock() from None
    return games.trace()


@dataclasses.dataclass(eq=False)
class _Line:
    """A game's line of play, or one child of a gather."""

    game: int
    name: str
    ops: tuple[Op, ...]
    since: float = 0.0  # ready since then
    leaf: int = 0  # the round's leaf this line's leaf 0 is
    move: int = 0
    durations: Any = None  # the round's durations, by leaf
    row: int = 0  # offset of this round in `durations`
    waits: str = "waits"
    open: dict[int, int] = dataclasses.field(default_factory=dict)
    ended: float = 0.0  # the latest end of its rows


class _Games:
    def __init__(self, loop: VirtualLoop, workload: Workload, schedule: Schedule) -> None:
        self.loop, self.workload, self.schedule = loop, workload, schedule
        self.plan = workload.plan
        self.shared = LoopShared(self.plan, producers_of(workload))
        self.pools = {i: _Pool(self, self.plan.capacity[i]) for i in self.plan.executors}
        self.switch_cost = float(workload.switch_cost)
        self.last_game = -1
        self.switches, self.switch_time = 0, 0.0
        self.durations = RoundDurations(workload)
        self.alive: dict[_Line, None] = {}
        self.played = PlayedRows()
        self.times = self.played.times

    async def main(self) -> None:
        workload, plan = self.workload, self.plan
        lines = [
            _Line(game, workload.players[game], plan.ops[group])
            for game, group in enumerate(workload.group.tolist())
        ]
        self.alive.update(dict.fromkeys(lines))
        await asyncio.gather(*map(self.game, lines))

    async def game(self, line: _Line) -> None:
        """A game from its first round to its last."""
        await play_rounds(line, self.durations, self.play)
        del self.alive[line]
        for queue in self.plan.puts[int(self.workload.group[line.game])]:
            self.shared.producer_ended(queue)

    async def play(self, line: _Line) -> bool:
        """Play one round's operations; False when a consumer found its queue closed."""
        loop, shared, times = self.loop, self.shared, self.times
        ops = iter(line.ops)
        for op in ops:
            code = op.code
            if code == TIMED:
                duration = line.durations[line.row + line.leaf + op.leaf]
                record = self._record(line, op, op.kind, duration)
                if op.kind in _HOLDS_THE_LOOP:
                    self._switch(line.game)
                    times["host"][record] = _LOOP
                    times["start"][record] = loop.time()
                    loop.advance(duration)
                    line.since = self._end(line, record, loop.time())
                else:
                    now = times["start"][record] = loop.time()
                    line.waits = "waits for its timer"
                    await asyncio.sleep(duration)
                    line.since = self._end(line, record, now + duration if duration > 0 else now)
                continue
            if code == RELEASE:  # where the task is now; it was ready since its last row
                self._end(line, line.open.pop(op.leaf), loop.time())
                shared.release(op.shared, op.units)
                continue
            if code == ACQUIRE and op.shared in self.pools:  # to its RELEASE: the job
                await self._job(line, op, tuple(takewhile(lambda o: o.code != RELEASE, ops)))
            elif code == ACQUIRE:
                record = self._record(line, op, _WITH)
                line.open[op.leaf] = record
                units = "1 unit" if op.units == 1 else f"{op.units} units"
                line.waits = f"waits for {units} of {self.plan.names[op.shared]}"
                await shared.acquire((), op.shared, op.units)
                line.since = times["start"][record] = loop.time()
            elif code == PUT:
                record = self._record(line, op, _PUT)
                line.waits = f"waits to put into {self.plan.names[op.shared]}"
                await shared.put((), op.shared)
                line.since = times["start"][record] = self._end(line, record, loop.time())
            elif code == GET:
                record = self._record(line, op, _GET)
                line.waits = f"waits to take from {self.plan.names[op.shared]}"
                took = await shared.get((), op.shared)
                line.since = times["start"][record] = self._end(line, record, loop.time())
                if not took:
                    return False
                line.durations, line.row = self.durations.taken(line.game)
            else:
                assert code == GATHER
                await self._gather(line, op)
        return True

    async def _job(self, line: _Line, op: Op, steps: tuple[Op, ...]) -> None:
        """`run_in_executor` of the steps `steps` (host and wait ones, by validation)."""
        job = _Job(line, self._record(line, op, _WITH))
        for step in steps:
            duration = line.durations[line.row + line.leaf + step.leaf]
            job.steps.append(
                (self._record(line, step, step.kind, duration), step.kind == _HOST, duration)
            )
        line.waits = f"waits for its job on {self.plan.names[op.shared]}"
        await self.pools[op.shared].submit(job)
        line.since = self._end(line, job.record, self.times["end"][job.record])

    def python_in_worker(self, job: _Job, record: int, duration: float) -> None:
        """A job's host step, on the loop's turn: the worker holds the GIL meanwhile."""
        loop, times = self.loop, self.times
        self._switch(job.line.game)
        times["host"][record] = _LOOP
        times["start"][record] = loop.time()
        loop.advance(duration)
        times["end"][record] = loop.time()

    async def _gather(self, line: _Line, op: Op) -> None:
        now = self.loop.time()
        record = self._record(line, op, _GATHER)
        self.times["start"][record] = now
        gathered = children(line, op, since=now, ended=now)
        line.waits = f"waits for its {op.count} gathered children"
        self.alive.update(dict.fromkeys(gathered))
        ended = await asyncio.gather(*map(self._child, gathered))
        line.since = self._end(line, record, max(ended))

    async def _child(self, child: _Line) -> float:
        """Play a gathered child; the latest end of its rows."""
        await self.play(child)
        del self.alive[child]
        return child.ended

    def _end(self, line: _Line, record: int, at: float) -> float:
        """Row `record` of `line` ends `at`."""
        self.times["end"][record] = at
        line.ended = max(line.ended, at)
        return at

    def _record(self, line: _Line, op: Op, kind: int, duration: float = 0.0) -> int:
        """A new row for `op` of `line`, ready since the line could go on."""
        shared = op.shared if op.code != TIMED else -1
        leaf = line.leaf + op.leaf
        return self.played.add(line.game, line.move, leaf, kind, shared, duration, line.since)

    def _switch(self, game: int) -> None:
        """The loop takes up `game`: the switch cost first, if it served another last."""
        last, self.last_game = self.last_game, game
        if last == game or last < 0 or not self.switch_cost:
            return
        self.switches += 1
        self.switch_time += self.switch_cost
        self.loop.advance(self.switch_cost)

    def deadlock(self) -> Deadlock:
        lines = sorted(self.alive, key=lambda line: (line.game, line.leaf))
        waits = [f"{line.name} {line.waits}" for line in lines]
        return Deadlock(self.schedule.label, self.loop.time(), waits)

    def trace(self) -> Trace:
        return self.played.trace(self.workload, self.schedule, self.switches, self.switch_time)


@dataclasses.dataclass(eq=False)
class _Job:
    """A `with` block on an executor, as `run_in_executor` hands it to a worker: its
    steps as (row, holds the GIL, duration), done up to `done`."""

    line: _Line
    record: int  # the `with` row
    steps: list[tuple[int, bool, float]] = dataclasses.field(default_factory=list)
    done: int = 0
    future: asyncio.Future[None] | None = None


class _Pool:
    """An executor's worker threads on the virtual clock (`VirtualLoop.in_thread_at`).

    A job submitted while a worker is idle starts at once; the others wait in
    the executor's queue, and a worker that ends a job takes the next one at
    that very time, with no turn of the loop. Its waits pass on the worker; its
    host step is handed to the loop (`call_soon_threadsafe`) and runs when the
    loop gets to it, the worker waiting meanwhile, as a thread waits for the
    GIL; its end is handed to the loop too, where it sets the task's future.
    """

    def __init__(self, games: _Games, workers: int) -> None:
        self.games, self.loop = games, games.loop
        self.idle = workers
        self.queue: deque[_Job] = deque()

    def submit(self, job: _Job) -> asyncio.Future[None]:
        job.future = self.loop.create_future()
        self.queue.append(job)
        if self.idle:
            self.idle -= 1
            self.loop.in_thread_at(self.loop.time(), self._take)
        return job.future

    def _take(self, now: float) -> None:
        """A worker takes the next job, or goes idle."""
        if not self.queue:
            self.idle += 1
            return
        job = self.queue.popleft()
        self.games.times["start"][job.record] = now
        self._work(job, now)

    def _work(self, job: _Job, now: float) -> None:
        """Play `job` from its step `done` on, at `now`: its waits pass here, a host step
        goes to the loop, and its end comes back at its time."""
        times = self.games.times
        while job.done < len(job.steps):
            record, python, duration = job.steps[job.done]
            job.done += 1
            times["ready"][record] = now
            if python:  # handed to the loop when the worker gets there
                self.loop.in_thread_at(now, partial(self._hand, job, record, duration))
                return
            times["start"][record] = now
            now = times["end"][record] = now + duration
        self.loop.in_thread_at(now, lambda at: self._end(job, at))

    def _hand(self, job: _Job, record: int, duration: float, _now: float) -> None:
        self.loop.call_soon_threadsafe(self._python, job, record, duration)

    def _python(self, job: _Job, record: int, duration: float) -> None:
        self.games.python_in_worker(job, record, duration)
        self.loop.in_thread_at(self.loop.time(), lambda at: self._work(job, at))

    def _end(self, job: _Job, now: float) -> None:
        """The job is done: the task hears of it through the loop; the worker goes on."""
        self.games.times["end"][job.record] = now
        assert job.future is not None
        self.loop.call_soon_threadsafe(_set_done, job.future)
        self._take(now)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():  # cancelled when the loop stalled
        future.set_result(None)
