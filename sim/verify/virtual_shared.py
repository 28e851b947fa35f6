"""The replay of games that share resources, queues and fan-out, on asyncio's loop.

Every game is a coroutine walking its group's compiled round
(`sim.engine.plan`), operation by operation, as the engine's tasks do
(`sim.engine.programs`); what they share are asyncio's own primitives
(`sim.verify.loop_shared`): a `with` block acquires a real
`asyncio.Semaphore` and releases it after the steps inside, a `put` and a
consumer's `get` use a real `asyncio.Queue`, and a `gather` is
`asyncio.gather` of child coroutines.

- cooperative: games are tasks on the loop; a host, block or native step
  acquires a host (`sim.verify.loop_hosts`), a wait step only sleeps; gather
  children are tasks started in order.
- synchronous: each game first takes a host, in the engine's hand-out
  order (file order, a queue's consumers after the games that put into it),
  and keeps it to its end, waiting on resources and queues while holding
  it; gather children play one after another on it.

Rows are recorded as they are played and sorted by (game, round, place)
into a played workload built as the engine builds its own, so the two traces
line up row for row when the games played alike. A consumer's k-th round,
counted over its group in the order items were taken, plays the k-th row of
the durations drawn for the group (`Workload.served`).

When the loop has nothing left to do while games still wait (looptime's
idle timeout), the replay raises the engine's `Deadlock`, naming the tasks
that wait as the engine does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from sim.engine.asyncio_shared import LoopShared
from sim.engine.deadlock import Deadlock
from sim.engine.holding import HOLDS_HOST
from sim.engine.plan import ACQUIRE, GATHER, GET, PUT, RELEASE, TIMED, Op
from sim.engine.played_rows import PlayedRows, RoundDurations, children, play_rounds
from sim.engine.programs import hand_out_order, producers_of
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule
from sim.verify.loop_hosts import SemaphoreHosts, SettledHosts
from sim.verify.loop_shared import SettledShared

__all__ = ["play_shared"]

_HOLDS_THE_LOOP = frozenset(STEP_KINDS.index(kind) for kind in HOLDS_HOST["cooperative"])
_WITH, _GATHER, _PUT, _GET = (STEP_KINDS.index(k) for k in ("with", "gather", "put", "get"))


@dataclasses.dataclass(eq=False)
class _Line:
    """A game's line of play, or one child of a gather."""

    game: int
    name: str
    ops: tuple[Op, ...]
    leaf: int = 0  # the round's leaf this line's leaf 0 is
    move: int = 0
    durations: Any = None  # the round's durations, by leaf
    row: int = 0  # offset of this round in `durations`
    first_ready: float | None = None  # its first row was ready since then
    worker: int = NO_HOST  # synchronous: the game's host
    waits: str = "waits"
    open: dict[int, int] = dataclasses.field(default_factory=dict)

    def key(self, leaf: int) -> tuple[int, int, int]:
        return (self.game, self.move, self.leaf + leaf)


class _Replay:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        workload: Workload,
        schedule: Schedule,
        tie_rule: bool,
    ) -> None:
        self.loop, self.workload, self.schedule = loop, workload, schedule
        self.synchronous = schedule.kind == "synchronous"
        plan = self.plan = workload.plan
        count = schedule.hosts(workload.hosts)
        producers = producers_of(workload)
        self.hosts: Any
        self.shared: Any
        if tie_rule:
            self.hosts = SettledHosts(loop, count, workload.games)
            self.shared = SettledShared(loop, plan, producers, self.hosts)
        else:
            self.hosts = SemaphoreHosts(loop, count, workload.games)
            self.shared = LoopShared(plan, producers)
        self.switch_cost = float(workload.switch_cost)
        self.last_game = [-1] * count  # per host: the game it served last
        self.switches, self.switch_time = 0, 0.0
        self.durations = RoundDurations(workload)
        self.alive: dict[_Line, None] = {}
        self.played = PlayedRows()
        self.times = self.played.times

    # --- playing --------------------------------------------------------------------------

    async def main(self) -> None:
        workload = self.workload
        plan = self.plan
        group = workload.group.tolist()
        order = hand_out_order(workload) if self.synchronous else range(workload.games)
        tasks = [
            self.loop.create_task(
                self.game(_Line(game, workload.players[game], plan.ops[group[game]]), place)
            )
            for place, game in enumerate(order)
        ]
        try:
            await asyncio.gather(*tasks)
        except Exception as error:
            import looptime

            if not isinstance(error, looptime.IdleTimeoutError):
                raise
            await self._wind_down()
            raise self._deadlock() from None

    async def game(self, line: _Line, place: int) -> None:
        """A game from its first round to its last; `place`: its turn for a host (synchronous)."""
        self.alive[line] = None
        group = int(self.workload.group[line.game])
        host = NO_HOST
        if self.synchronous:
            line.waits = "waits for a host"
            host = await self.hosts.acquire(place, 0.0)
            line.worker, line.first_ready = host, 0.0
            cost = self._switch(host, line.game)
            if cost:
                await self.hosts.sleep(cost)
        await play_rounds(line, self.durations, self.play)
        del self.alive[line]
        for queue in self.plan.puts[group]:
            self.shared.producer_ended(queue)
        if self.synchronous:
            self.hosts.release(host)
        self.hosts.done()

    async def play(self, line: _Line) -> bool:
        """Play one round's operations; False when a consumer found its queue closed."""
        loop, shared = self.loop, self.shared
        for op in line.ops:
            code = op.code
            if code == TIMED:
                await self._timed(line, op)
            elif code == ACQUIRE:
                record = self._record(line, op, _WITH)
                line.open[op.leaf] = record
                units = "1 unit" if op.units == 1 else f"{op.units} units"
                line.waits = f"waits for {units} of {self.plan.names[op.shared]}"
                await shared.acquire((loop.time(), *line.key(op.leaf)), op.shared, op.units)
                self.times["start"][record] = loop.time()
            elif code == RELEASE:
                self.times["end"][line.open.pop(op.leaf)] = loop.time()
                shared.release(op.shared, op.units)
            elif code == PUT:
                record = self._record(line, op, _PUT)
                line.waits = f"waits to put into {self.plan.names[op.shared]}"
                await shared.put((loop.time(), *line.key(op.leaf)), op.shared)
                self.times["start"][record] = self.times["end"][record] = loop.time()
            elif code == GET:
                record = self._record(line, op, _GET)
                line.waits = f"waits to take from {self.plan.names[op.shared]}"
                took = await shared.get((loop.time(), *line.key(op.leaf)), op.shared)
                self.times["start"][record] = self.times["end"][record] = loop.time()
                if not took:
                    return False
                line.durations, line.row = self.durations.taken(line.game)
            else:
                assert code == GATHER
                await self._gather(line, op)
        return True

    async def _timed(self, line: _Line, op: Op) -> None:
        loop, hosts = self.loop, self.hosts
        duration = line.durations[line.row + line.leaf + op.leaf]
        record = self._record(line, op, op.kind, duration)
        if not self.synchronous and op.kind in _HOLDS_THE_LOOP:
            line.waits = "waits for a host"
            host = await hosts.acquire(line.key(op.leaf), loop.time())
            self.times["host"][record] = host
            cost = self._switch(host, line.game)
            if cost:
                await hosts.sleep(cost)
            self.times["start"][record] = loop.time()
            await hosts.sleep(duration)
            hosts.release(host)
        else:
            self.times["start"][record] = loop.time()
            await hosts.sleep(duration)
        self.times["end"][record] = loop.time()

    async def _gather(self, line: _Line, op: Op) -> None:
        now = self.loop.time()
        record = self._record(line, op, _GATHER)
        self.times["start"][record] = now
        gathered = children(line, op, first_ready=now)
        line.waits = f"waits for its {op.count} gathered children"
        self.alive.update(dict.fromkeys(gathered))
        hop = self.hosts.hop  # the engine starts a child, and goes on after, as events
        if self.synchronous:  # one after another, on the game's host
            for child in gathered:
                await hop()
                await self.play(child)
                del self.alive[child]
        else:
            left = [op.count]
            self.hosts.fork(op.count)

            async def child_task(child: _Line) -> None:
                await hop()
                await self.play(child)
                del self.alive[child]
                left[0] -= 1
                self.hosts.joined(not left[0])

            await asyncio.gather(*map(child_task, gathered))
        self.times["end"][record] = self.loop.time()
        await hop()

    def _record(self, line: _Line, op: Op, kind: int, duration: float = 0.0) -> int:
        """A new row for `op` of `line`, ready now, or, a timed step, since the line was
        handed in (before a request for units or items, it waited for its turn)."""
        ready = self.loop.time()
        if line.first_ready is not None:
            if op.code == TIMED:
                ready = line.first_ready
            line.first_ready = None
        shared = op.shared if op.code != TIMED else -1
        leaf = line.leaf + op.leaf
        return self.played.add(
            line.game, line.move, leaf, kind, shared, duration, ready, line.worker
        )

    def _switch(self, host: int, game: int) -> float:
        """`host` takes up `game`: the switch cost it pays first, as the engine charges it."""
        last, self.last_game[host] = self.last_game[host], game
        if last == game or last < 0 or not self.switch_cost:
            return 0.0
        self.switches += 1
        self.switch_time += self.switch_cost
        return self.switch_cost

    # --- the outcome ----------------------------------------------------------------------

    async def _wind_down(self) -> None:
        """Let every task take the error looptime handed it, so none is left pending."""
        me = asyncio.current_task()
        while pending := [task for task in asyncio.all_tasks() if task is not me]:
            await asyncio.wait(pending)
            for task in pending:
                if task.done() and not task.cancelled():
                    task.exception()

    def _deadlock(self) -> Deadlock:
        at = self.played.latest()
        lines = sorted(self.alive, key=lambda line: (line.game, line.leaf))
        return Deadlock(self.schedule.label, at, [f"{line.name} {line.waits}" for line in lines])

    def trace(self) -> Trace:
        return self.played.trace(self.workload, self.schedule, self.switches, self.switch_time)


def play_shared(
    loop: asyncio.AbstractEventLoop, workload: Workload, schedule: Schedule, tie_rule: bool
) -> Any:
    """A coroutine that replays `workload` under `schedule` and returns its `Trace`
    (or raises `Deadlock`)."""
    replay = _Replay(loop, workload, schedule, tie_rule)

    async def run() -> Trace:
        await replay.main()
        return replay.trace()

    return run()
