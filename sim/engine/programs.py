"""Games that share limits, queues and fan-out, played operation by operation.

A scenario with `resources`, `queues`, `with`, `put`, `serves` or `gather`
is no longer a set of independent games: a game may wait for another. Its
rounds are compiled (`sim.engine.plan`) and every game, and every child a
`gather` starts, is a *task* walking those operations; what a task runs on
and how a timed step spends its time is the schedule's (`sim.engine.runners`):

- cooperative: tasks on the event loop; a host, block or native step asks
  for a host by the tie rule, a wait holds nothing; gather children are tasks;
- synchronous: a game holds a host from start to end; children play one
  after another; a queue's consumers play after its producers;
- threaded: games on threads under the GIL (or CPUs without it); a thread
  waiting on a limit, a queue or its children, or in a native step, has
  dropped the GIL (native steps share the CPUs); children are threads, or a
  pool's work items when the pool is sized;
- parallel: games on worker processes sharing the CPUs; children play one
  after another in the worker.

Rows are made as they are played, so a consumer has as many rounds as the
items it took; at the end they are sorted by (game, move, step) into the
workload that the trace carries. A run whose tasks wait for ever ends in
`Deadlock`. `sim.engine.runners.play` puts a run and its runner together.
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
from simpy.events import NORMAL

from sim.engine.clock import Clock, Due, instants
from sim.engine.deadlock import Deadlock
from sim.engine.plan import ACQUIRE, GATHER, GET, PUT, RELEASE, TIMED, Op
from sim.engine.queues import Queue
from sim.engine.semaphores import Semaphore, Settler
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

__all__ = ["Game", "Run", "Task", "hand_out_order", "producers_of"]

_WITH, _GATHER, _PUT, _GET = (STEP_KINDS.index(k) for k in ("with", "gather", "put", "get"))


class Task:
    """A game's line of play, or one child of a `gather`."""

    __slots__ = (
        "child",
        "durations",
        "first_ready",
        "game",
        "leaf",
        "left",
        "move",
        "open",
        "ops",
        "parent",
        "pc",
        "queued",
        "row",
        "waits",
        "waits_shared",
        "worker",
    )

    def __init__(self, game: Game, ops: tuple[Op, ...], leaf: int = 0) -> None:
        self.game = game
        self.ops = ops
        self.pc = 0
        self.leaf = leaf  # the round's leaf this task's leaf 0 is
        self.move = 0
        self.durations: list[float] = []  # the round's durations, by leaf
        self.row = 0  # offset of this round in `durations`
        self.parent: Task | None = None
        self.child = 0  # which child of its parent's gather (from 0)
        self.left = 0  # children of its gather not done yet
        self.queued: list[Task] = []  # children still to play, one after another
        self.open: dict[int, int] = {}  # leaf of an open `with` or `gather` → its record
        self.first_ready: float | None = None  # its first row was ready since then
        self.worker = NO_HOST
        self.waits: Callable[[], str] | None = None  # says what it waits for, in a deadlock
        self.waits_shared = False  # for a resource or a queue: the first a report names

    def key(self, leaf: int) -> tuple:
        """The tie rule's key after the time asked: file order, then place in the game."""
        return (self.game.index, self.move, self.leaf + leaf)

    @property
    def name(self) -> str:
        if self.parent is None:
            return self.game.player
        return f"{self.parent.name}/{self.child + 1}"


@dataclasses.dataclass(slots=True)
class Game:
    """One player: where its rows' durations come from, and who waits on it."""

    index: int
    group: int
    player: str
    order: int  # its place in the order games are handed out (file order, mostly)
    first: int  # its first row in the workload (groups that are not served)
    moves: int  # rounds to play; 0 for a consumer, which plays until its queue closes
    width: int  # leaves of a round
    puts: frozenset[int]
    tasks: int = 0  # its tasks still running
    over: bool = False  # a consumer whose queue closed


class Run:
    """One schedule's run: the shared objects, the tasks, and the rows recorded."""

    def __init__(self, workload: Workload, schedule: Schedule) -> None:
        self.workload, self.schedule = workload, schedule
        self.env = env = Clock()
        plan = self.plan = workload.plan
        # one host playing one game at a time never has two requests at an instant:
        # synchronous on it grants on the spot, with no hand-out to wait for
        self.alone = alone = schedule.kind == "synchronous" and schedule.hosts(workload.hosts) == 1
        settled = schedule.kind in ("cooperative", "synchronous") and not alone
        group = workload.group.tolist()
        order = [0] * workload.games  # per game: its place in the hand-out order
        for place, index in enumerate(hand_out_order(workload)):
            order[index] = place
        self.games = []
        for index, player in enumerate(workload.players):
            g = group[index]
            served = plan.serves[g] >= 0
            self.games.append(
                Game(
                    index,
                    g,
                    player,
                    order[index],
                    int(workload.first_step[index]),
                    0 if served else workload.scenario.players[g].moves,
                    len(plan.leaves[g]),
                    plan.puts[g],
                )
            )
        settler = Settler(env) if settled else None
        producers = producers_of(workload)
        self.shared: list[Any] = [
            Semaphore(env, name, plan.capacity[i], settler)
            if not plan.is_queue(i)
            else Queue(env, name, plan.capacity[i], producers[i], settler)
            for i, name in enumerate(plan.names)
        ]
        self.static = workload.duration.tolist()
        self.served = {g: table.tolist() for g, table in (workload.served or {}).items()}
        self.taken = dict.fromkeys(self.served, 0)  # per served group: rounds taken so far
        self.alive: set[Task] = set()
        self.runner: Any = None
        # the rows, as they are played: what is known when a row begins, then its times
        # (typed arrays: a row costs 88 bytes, not a tuple and eight Python numbers)
        self.r_rows = array("d")  # per row: game, move, leaf, kind, shared, duration, ready,
        # worker (whole numbers are exact in a double up to 2**53)
        self.r_start = array("d")
        self.r_end = array("d")
        self.r_host = array("i")

    # --- playing --------------------------------------------------------------------------

    def play(self) -> Trace:
        tasks = []
        for game in self.games:
            task = self.new_task(game, self.plan.ops[game.group])
            self.start_round(task)
            tasks.append(task)
        self.runner.begin(tasks)
        self.env.run()
        if self.alive:
            raise Deadlock(self.schedule.label, self.env.now, self._waits())
        return self._trace()

    def new_task(self, game: Game, ops: tuple[Op, ...], leaf: int = 0) -> Task:
        task = Task(game, ops, leaf)
        game.tasks += 1
        self.alive.add(task)
        return task

    def start_round(self, task: Task) -> None:
        game = task.game
        if game.moves:  # rows laid out in the workload
            task.durations, task.row = self.static, game.first + task.move * game.width

    def advance(self, task: Task) -> None:
        """Play `task` from its next operation until it has to wait for time or another."""
        env, runner = self.env, self.runner
        while True:
            if task.pc == len(task.ops):
                if not self._next_round(task):
                    return
                continue
            op = task.ops[task.pc]
            code = op.code
            if code == TIMED:
                duration = task.durations[task.row + task.leaf + op.leaf]
                record = self.record(task, op, op.kind, duration)
                if not runner.timed(task, op, record, duration):
                    return
                task.pc += 1
            elif code == ACQUIRE:
                record = self.record(task, op, _WITH)
                task.open[op.leaf] = record
                semaphore = self.shared[op.shared]
                key = (env.now, *task.key(op.leaf))
                granted = semaphore.request(
                    key, op.units, task, lambda t=task, r=record: self._go(t, r)
                )
                if not granted:
                    self._wait(task, lambda s=semaphore, n=op.units: _for_units(s, n))
                    return
                self.r_start[record] = env.now
                task.pc += 1
            elif code == RELEASE:
                record = task.open.pop(op.leaf)
                self.r_end[record] = env.now
                self.shared[op.shared].release(task, op.units)
                task.pc += 1
            elif code == PUT:
                record = self.record(task, op, _PUT)
                queue = self.shared[op.shared]
                key = (env.now, *task.key(op.leaf))
                if not queue.put(key, record, lambda t=task, r=record: self._go(t, r, True)):
                    self._wait(task, lambda q=queue: _to_put(q))
                    return
                self.r_start[record] = self.r_end[record] = env.now
                task.pc += 1
            elif code == GET:
                record = self.record(task, op, _GET)
                queue = self.shared[op.shared]
                key = (env.now, *task.key(op.leaf))
                now = queue.get(key, lambda item, t=task, r=record: self._taken(t, r, item))
                if now is None:
                    self._wait(task, lambda q=queue: _to_take(q))
                    return
                if not self._took(task, record, now):
                    return
            else:
                assert code == GATHER
                self._gather(task, op)
                return

    def record(self, task: Task, op: Op, kind: int, duration: float = 0.0) -> int:
        """A new row for `op` of `task`, ready now (or since the task was handed in)."""
        now = self.env.now
        ready = now
        if task.first_ready is not None:
            # waiting for a host, thread or process is waiting for a host: a first row
            # that waits for a resource or a queue is ready from its turn on (the tables
            # count the time before it as waiting for a host)
            if op.code == TIMED:
                ready = task.first_ready
            task.first_ready = None
        shared = op.shared if op.code != TIMED else -1
        self.r_rows.extend(
            (task.game.index, task.move, task.leaf + op.leaf, kind, shared, duration, ready,
             task.worker)
        )  # fmt: skip
        self.r_start.append(math.nan)
        self.r_end.append(math.nan)
        self.r_host.append(NO_HOST)
        return len(self.r_start) - 1

    def resume(self, task: Task) -> None:
        """Go on with `task` at this instant, as an event of its own."""
        self.env.schedule(Due(self.env, None, lambda _event: self.advance(task)), NORMAL)

    # --- waiting on what the games share --------------------------------------------------

    def _wait(self, task: Task, what: Callable[[], str]) -> None:
        task.waits, task.waits_shared = what, True
        self.runner.blocked(task)

    def _go(self, task: Task, record: int, ends: bool = False) -> None:
        """A grant reached `task`: its row starts (and a put ends) now; it goes on."""
        now = self.env.now
        self.r_start[record] = now
        if ends:
            self.r_end[record] = now
        task.waits, task.waits_shared = None, False
        task.pc += 1
        self.runner.unblocked(task)
        self.advance(task)

    def _taken(self, task: Task, record: int, item: int) -> None:
        task.waits, task.waits_shared = None, False
        self.runner.unblocked(task)
        if self._took(task, record, item):
            self.advance(task)

    def _took(self, task: Task, record: int, item: int) -> bool:
        """A consumer's `get` is done: with an item it plays a round; without, it ends."""
        now = self.env.now
        self.r_start[record] = self.r_end[record] = now
        if item < 0:  # closed: the consumer ends
            task.pc = len(task.ops)
            task.game.over = True
            self._next_round(task)
            return False
        group = task.game.group
        task.durations, task.row = self.served[group][self.taken[group]], 0
        self.taken[group] += 1
        task.pc += 1
        return True

    def _gather(self, task: Task, op: Op) -> None:
        record = self.record(task, op, _GATHER)
        self.r_start[record] = self.env.now
        task.open[op.leaf] = record
        children = []
        for i in range(op.count):
            child = self.new_task(task.game, op.child, task.leaf + op.leaf + 1 + i * op.width)
            child.parent, child.child = task, i
            child.move, child.durations, child.row = task.move, task.durations, task.row
            child.first_ready = self.env.now
            children.append(child)
        task.left = op.count
        task.waits = lambda: f"waits for its {op.count} gathered children"
        self.runner.spawn(task, children)

    def _next_round(self, task: Task) -> bool:
        """The task's operations are done: a new round, or the task ends (False)."""
        game = task.game
        if task.parent is None:
            task.move += 1
            if not game.over and (game.moves == 0 or task.move < game.moves):
                task.pc = 0
                self.start_round(task)
                return True
        self.alive.discard(task)
        game.tasks -= 1
        parent = task.parent
        self.runner.ended(task)
        if parent is not None:
            parent.left -= 1
            if parent.left == 0:
                op = parent.ops[parent.pc]
                self.r_end[parent.open.pop(op.leaf)] = self.env.now
                parent.pc += 1
                parent.waits = None
                self.runner.unblocked(parent)
                self.resume(parent)
        elif game.tasks == 0:
            for q in game.puts:
                self.shared[q].producer_ended()
        return False

    # --- the outcome ----------------------------------------------------------------------

    def _waits(self) -> list[str]:
        # those waiting on a resource or a queue first: the others wait on them
        tasks = sorted(self.alive, key=lambda t: (not t.waits_shared, t.game.index, t.leaf))
        return [f"{task.name} {task.waits() if task.waits else 'waits'}" for task in tasks]

    def _trace(self) -> Trace:
        rows = np.frombuffer(self.r_rows, dtype=np.float64).reshape(-1, 8)
        game, move, leaf, kind, shared, duration, ready, worker = rows.T
        played, order = self.workload.played(game, move, leaf, kind, shared, duration)
        times = [ready[order], np.asarray(self.r_start)[order], np.asarray(self.r_end)[order]]
        if self.alone and self.workload.shared is not None:
            times = [instants(column) for column in times]  # 8.4 s, not 8.399999999999974
        return self.runner.trace(
            played,
            *times,
            np.asarray(self.r_host, dtype=np.int32)[order],
            worker.astype(np.int32)[order],
        )


def _for_units(semaphore: Semaphore, units: int) -> str:
    held = ", ".join(sorted({holder.name for holder in semaphore.holders})[:3])
    more = len(semaphore.holders) - 3
    held += f" and {more} more" if more > 0 else ""
    wanted = "1 unit" if units == 1 else f"{units} units"
    return (
        f"waits for {wanted} of {semaphore.name} ({semaphore.free} of {semaphore.capacity} "
        f"free{'; held by ' + held if held else ''})"
    )


def _to_put(queue: Queue) -> str:
    return f"waits to put into {queue.name} (full: {len(queue.items)} of {queue.maxsize})"


def _to_take(queue: Queue) -> str:
    still = queue.producers
    games = "game that puts" if still == 1 else "games that put"
    return f"waits to take from {queue.name} (empty; {still} {games} into it still playing)"


def producers_of(workload: Workload) -> list[int]:
    """Per resource or queue of the plan: the games that put into it (0 for a resource);
    a queue closes for its consumers once they have all ended."""
    plan = workload.plan
    counts = [0] * len(plan.names)
    for group in workload.group.tolist():
        for queue in plan.puts[group]:
            counts[queue] += 1
    return counts


def hand_out_order(workload: Workload) -> list[int]:
    """The games in the order they are handed a host, thread or process: file order,
    except that a queue's consumers come after every game that puts into it (directly
    or through consumers of their own), the only order in which one host can finish
    (what synchronous needs, and harmless elsewhere: every game is handed in at 0)."""
    groups = workload.scenario.players
    depth: dict[int, int] = {}

    def level(index: int) -> int:
        if index not in depth:
            depth[index] = 0
            served = groups[index].serves
            if served is not None:
                feeders = [i for i, g in enumerate(groups) if i != index and g.puts(served)]
                depth[index] = 1 + max(map(level, feeders), default=0)
        return depth[index]

    levels = np.array([level(index) for index in range(len(groups))], dtype=np.int64)
    # a stable sort by level keeps file order among games of one level
    return np.argsort(levels[workload.group], kind="stable").tolist()
