"""What the tasks of `sim.engine.programs` run on, schedule by schedule.

A runner hands games their worker (a host, a thread, a process, or nothing
under cooperative), plays timed steps on it, starts a gather's children and
lets the worker go while a task waits on a limit or a queue where the
schedule does (a thread drops the GIL). Each follows its schedule's own
engine module, whose docstrings give the rules; `tests/test_programs.py`
differences them against those engines on scenarios that share nothing.
"""

from __future__ import annotations

import dataclasses
import gc
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import Any

import numpy as np
from simpy.events import NORMAL

from sim.engine import eventloop, parallel, sequential, threaded
from sim.engine.clock import Due, instant
from sim.engine.gil import Gil
from sim.engine.holding import HOLDS_HOST
from sim.engine.hosts import HOSTS_LAST, HostPool
from sim.engine.plan import Op
from sim.engine.programs import Run, Task
from sim.engine.sharing import CpuShare, stalled
from sim.engine.switching import Switches
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import CPU, HOST, NATIVE, Workload
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

__all__ = ["play", "play_tasks", "runner_for"]

#: The fast player of a schedule where games share: a trace, or None where it does not
#: apply (the docstrings say where), and the task engine plays.
FAST: dict[str, Callable[[Workload, Schedule], Trace | None]] = {
    "cooperative": eventloop.play,
    "synchronous": sequential.play,
}
#: Timed kinds that ask for a host under cooperative: those that hold the loop.
_HOLD_THE_LOOP = frozenset(STEP_KINDS.index(kind) for kind in HOLDS_HOST["cooperative"])


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    """Play every game of a scenario that shares more than its hosts, under `schedule`:
    on a fast path where one applies (`sim.engine.eventloop`, `sim.engine.sequential`),
    else task by task (`play_tasks`), which also reports a deadlock."""
    fast = FAST.get(schedule.kind)
    if fast is not None:
        with _no_collection():
            trace = fast(workload, schedule)
        if trace is not None:
            return trace
    return play_tasks(workload, schedule, rng)


def play_tasks(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    """Play every game task by task, operation by operation: every schedule, every case."""
    if schedule.kind == "threaded":
        threaded.refuse_too_many_switches(workload, schedule)
    run = Run(workload, schedule)
    run.runner = runner_for(run, rng)
    # a task engine makes objects by the million, all alive to the end: the cyclic
    # collector would walk them again and again (a third of the run) for nothing
    with _no_collection():
        return run.play()


@contextmanager
def _no_collection() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def runner_for(run: Run, rng: np.random.Generator) -> Runner:
    kind = run.schedule.kind
    if kind == "cooperative":
        return Cooperative(run)
    if kind == "synchronous":
        return Synchronous(run)
    if kind == "threaded":
        return Threaded(run, rng)
    return Parallel(run)


class Runner:
    """The defaults: nothing to let go while waiting, children one after another on the
    parent's worker, which a game holds from start to end when `game_pool` hands it out."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.env = run.env
        self.game_pool: HostPool | None = None
        # one host playing one game at a time has no same-instant requests to settle: its
        # clock runs on the float sums (one vector sum, `sim.engine.sequential`), and the
        # times recorded are the instants they fall on (`Run.play`)
        settled = run.schedule.kind in ("cooperative", "synchronous") and not run.alone
        self.on_instants = settled and run.workload.shared is not None

    def begin(self, tasks: list[Task]) -> None:
        raise NotImplementedError

    def timed(self, task: Task, op: Op, record: int, duration: float) -> bool:
        """Play a timed step; True if it is done now, else `done` is called when it is."""
        raise NotImplementedError

    def blocked(self, task: Task) -> None:
        """`task` waits on another game: a limit, a queue or its children."""

    def unblocked(self, task: Task) -> None:
        """`task` waits no more."""

    def spawn(self, parent: Task, children: list[Task]) -> None:
        """Children one after another on the parent's worker, as a plain loop calls them."""
        for child in children:
            child.worker = parent.worker
            child.waits = lambda: f"waits for its turn among {parent.name}'s children"
        parent.queued = children[:0:-1]  # the rest, last first: popped from the end
        self.run.resume(children[0])

    def ended(self, task: Task) -> None:
        """`task` is done; a parent playing its children in turn starts the next, and a
        game gives its host or worker back."""
        parent = task.parent
        if parent is not None and parent.queued:
            following = parent.queued.pop()
            following.waits = None
            self.run.resume(following)
        elif parent is None and self.game_pool is not None:
            self.game_pool.release(task.worker)

    def trace(
        self,
        played: Workload,
        ready: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        host: np.ndarray,
        worker: np.ndarray,
    ) -> Trace:
        raise NotImplementedError

    # --- shared by the runners ----------------------------------------------------------

    def on_workers(
        self, played: Workload, times: tuple[np.ndarray, ...], worker: np.ndarray
    ) -> Trace:
        """The trace of games on threads or processes: no single host ran a step, and a
        host step's time beyond its duration was spent waiting for the GIL or a CPU."""
        ready, start, end = times
        no_host = np.full(len(start), NO_HOST, dtype=np.int32)
        late = stalled(played, start, end)
        return Trace(played, self.run.schedule, ready, start, end, no_host, worker, late)

    def after(self, delay: float, then: Callable[[], None]) -> None:
        """Call `then()` in `delay` seconds: at the instant that falls on (`instant`) when
        the run settles its instants (games that share, cooperative or synchronous);
        elsewhere at the float sum, as the schedule's own engine has it."""
        env = self.env
        event = Due(env, None, lambda _event: then())
        if self.on_instants:
            env.schedule_at(event, NORMAL, max(env.now, instant(env.now + delay)))
        else:
            env.schedule(event, NORMAL, delay)

    def done(self, task: Task, record: int) -> None:
        """A timed step of `task` ended now; the task goes on."""
        self.run.r_end[record] = self.env.now
        task.pc += 1
        self.run.advance(task)

    def spend(self, task: Task, op: Op, record: int, duration: float, cpus: CpuShare) -> bool:
        """A timed step begins now: CPU work (host, native) shares `cpus`, any other only
        takes its time; `done` when it ends (never now: False)."""
        self.began(record)
        if op.kind in CPU:
            cpus.run(duration).callbacks.append(lambda _event: self.done(task, record))
        else:
            self.after(duration, lambda: self.done(task, record))
        return False

    def began(self, record: int) -> None:
        self.run.r_start[record] = self.env.now


class OnHosts(Runner):
    """Games served by the schedule's hosts, handed out by the tie rule once resources
    and queues are settled, with what switching between games costs."""

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        workload = run.workload
        count = run.schedule.hosts(workload.hosts)
        self.hosts = HostPool(run.env, count, HOSTS_LAST)
        self.switches = Switches(workload, count)

    def on_hosts(self, played: Workload, times: tuple[np.ndarray, ...]) -> Trace:
        """The trace: `times` are ready, start, end and host per row."""
        return self.switches.stamp(Trace(played, self.run.schedule, *times))


class Cooperative(OnHosts):
    """One event loop per host: a host, block or native step asks for a host by the tie
    rule."""

    def begin(self, tasks: list[Task]) -> None:
        for task in tasks:
            self.run.advance(task)

    def timed(self, task: Task, op: Op, record: int, duration: float) -> bool:
        if op.kind in _HOLD_THE_LOOP:
            self.hosts.ask(
                task.key(op.leaf),
                self.env.now,
                lambda host: self._granted(task, record, duration, host),
            )
            return False
        self.began(record)
        self.after(duration, lambda: self.done(task, record))
        return False

    def _granted(self, task: Task, record: int, duration: float, host: int) -> None:
        self.run.r_host[record] = host
        cost = self.switches.to(host, task.game.index)

        def work() -> None:
            self.began(record)
            self.after(duration, lambda: self._release(task, record, host))

        if cost:
            self.after(cost, work)
        else:
            work()

    def _release(self, task: Task, record: int, host: int) -> None:
        """The host step ended: the task goes on (asking again, if it must, in this very
        instant's queue), then the host goes to whoever the tie rule says."""
        self.done(task, record)
        self.hosts.hand_on(host)

    def spawn(self, parent: Task, children: list[Task]) -> None:
        """Children are tasks on the same loop, started in order."""
        for child in children:
            self.run.resume(child)

    def trace(self, played, ready, start, end, host, worker) -> Trace:
        return self.on_hosts(played, (ready, start, end, host))


class Synchronous(OnHosts):
    """A game holds a host from its first step to its last; consumers after producers."""

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        self.game_pool = self.hosts

    def begin(self, tasks: list[Task]) -> None:
        for task in tasks:
            task.waits = lambda: "waits for a host"
            asked = self.hosts.request(task.game.order, ready=0.0)
            asked.callbacks.append(lambda event, task=task: self._granted(task, event.value))

    def _granted(self, task: Task, host: int) -> None:
        task.worker, task.first_ready, task.waits = host, 0.0, None
        cost = self.switches.to(host, task.game.index)
        if cost:
            self.after(cost, lambda: self.run.advance(task))
        else:
            self.run.advance(task)

    def timed(self, task: Task, op: Op, record: int, duration: float) -> bool:
        self.began(record)
        self.after(duration, lambda: self.done(task, record))
        return False

    def trace(self, played, ready, start, end, host, worker) -> Trace:
        return self.on_hosts(played, (ready, start, end, worker))  # the game's host


class Threaded(Runner):
    """Games on threads under the GIL (`sim.engine.threaded`'s rules); a thread that waits
    on another game, or runs a native step, has dropped the GIL. Children are threads of
    their own, or work items of the pool when it is sized (`threads: N`), queued behind
    the games not yet taken."""

    def __init__(self, run: Run, rng: np.random.Generator) -> None:
        super().__init__(run)
        workload, schedule = run.workload, run.schedule
        params = schedule.threaded
        assert params is not None
        # threads that take the games at 0; a sized pool keeps its other threads for the
        # children, started as `ThreadPoolExecutor` starts them: when work comes
        self.threads = schedule.workers(workload.games, workload.hosts)
        self.sized = params.threads is not None
        pool = params.threads or 0
        bound = pool if self.sized else workload.games + _children_bound(workload)
        self.order = rng.permutation(self.threads).tolist()  # who reaches the GIL first at 0
        self.on_thread: list[Task | None] = [None] * bound
        self.record_of = [0] * bound
        self.work: deque[Task] = deque()  # games and children waiting for a thread
        self.idle: list[int] = list(range(self.threads, pool))  # a heap: free pool threads
        self.next_thread = self.threads
        self.gil: Gil | None = None
        self.cpus = CpuShare(run.env, workload.hosts)  # host steps without the GIL, native steps
        if params.gil:
            typical = _typical_host_step(workload)
            cost, interval = workload.switch_cost, params.switch_interval
            self.gil = Gil(run.env, bound, interval, cost, rng, self._host_done, typical)
        # native steps lose a CPU while anyone holds the GIL: told after every take or drop
        self.beside = self.gil is not None and workload.steps_of(NATIVE) > 0

    def begin(self, tasks: list[Task]) -> None:
        self.work.extend(sorted(tasks, key=lambda task: task.game.order))
        started = [thread for thread in range(self.threads) if self._take(thread)]
        for thread in self.order:
            if thread < len(started):
                self.run.advance(self._task(thread))

    def _take(self, thread: int) -> bool:
        """The thread takes the next game or child; False (and idle) when none is left."""
        if not self.work:
            heappush(self.idle, thread)
            return False
        task = self.work.popleft()
        task.worker, task.waits = thread, None
        if task.parent is None:
            task.first_ready = 0.0  # every game is handed in at 0
        self.on_thread[thread] = task
        return True

    def _task(self, thread: int) -> Task:
        task = self.on_thread[thread]
        assert task is not None
        return task

    def timed(self, task: Task, op: Op, record: int, duration: float) -> bool:
        thread, gil = task.worker, self.gil
        if op.kind == HOST and gil is not None:
            self.record_of[thread] = record
            done = gil.acquire(thread, task.game.index, duration)
            if self.beside:
                self.cpus.resize(threaded.cpus_beside(gil, self.run.workload.hosts))
            if done:
                now = self.env.now
                self.run.r_start[record] = self.run.r_end[record] = now
                return True
            return False  # `_host_done` carries on
        self.blocked(task)  # C code, time.sleep and I/O drop the GIL
        return self.spend(task, op, record, duration, self.cpus)

    def _host_done(self, thread: int) -> None:
        assert self.gil is not None
        record = self.record_of[thread]
        self.run.r_start[record] = self.gil.began(thread)
        self.done(self._task(thread), record)

    def blocked(self, task: Task) -> None:
        gil = self.gil
        if gil is not None and gil.holds(task.worker):
            gil.release(task.worker)
            if self.beside:
                self.cpus.resize(threaded.cpus_beside(gil, self.run.workload.hosts))

    def spawn(self, parent: Task, children: list[Task]) -> None:
        self.blocked(parent)
        if self.sized:
            pool = len(self.on_thread)
            for child in children:
                child.waits = lambda: f"waits for a thread of the pool (all {pool} busy)"
            self.work.extend(children)
            while self.idle and self.work:
                thread = heappop(self.idle)
                self._take(thread)
                self.run.resume(self._task(thread))
            return
        for child in children:
            thread, self.next_thread = self.next_thread, self.next_thread + 1
            child.worker = thread
            self.on_thread[thread] = child
            self.run.resume(child)

    def ended(self, task: Task) -> None:
        thread = task.worker
        self.on_thread[thread] = None
        if (self.sized or task.parent is None) and self._take(thread):
            self.run.advance(self._task(thread))  # on to the next, still holding the GIL
            return
        self.blocked(task)  # the thread ends, or idles in the pool

    def trace(self, played, ready, start, end, host, worker) -> Trace:
        gil = self.gil
        trace = self.on_workers(played, (ready, start, end), worker)
        if gil is None:
            return trace
        return dataclasses.replace(trace, switches=gil.switches, switch_time=gil.switch_time)


class Parallel(Runner):
    """Worker processes sharing the CPUs (`sim.engine.parallel`'s pool): a game holds its
    worker throughout, a host or native step shares the CPUs, a wait holds the worker
    only."""

    def __init__(self, run: Run) -> None:
        super().__init__(run)
        workload, schedule = run.workload, run.schedule
        params = schedule.parallel
        assert params is not None
        processes = schedule.workers(workload.games, workload.hosts)
        # workers no game reaches only start (`sim.engine.parallel`): one job of that many
        self.processes = parallel.played_workers(processes, workload.games)
        self.idle = processes - self.processes
        self.start_cost = params.start_cost
        self.cpus = CpuShare(run.env, workload.hosts)
        self.workers = self.game_pool = HostPool(run.env, self.processes)
        self.switches = Switches(workload, self.processes)

    def begin(self, tasks: list[Task]) -> None:
        if self.idle:
            self.cpus.run(self.start_cost, jobs=self.idle)
        for worker in range(self.processes):
            # (ready -1, key worker - n) sorts before every game, so worker w gets itself
            asked = self.workers.request(worker - self.processes, ready=-1.0)
            asked.callbacks.append(lambda event: self._boot(event.value))
        for task in tasks:
            task.waits = lambda: "waits for a worker process"
            asked = self.workers.request(task.game.order, ready=0.0)
            asked.callbacks.append(lambda event, task=task: self._granted(task, event.value))

    def _boot(self, worker: int) -> None:
        booted = self.cpus.run(self.start_cost)
        booted.callbacks.append(lambda _event: self.workers.release(worker))

    def _granted(self, task: Task, worker: int) -> None:
        task.worker, task.first_ready, task.waits = worker, 0.0, None
        cost = self.switches.to(worker, task.game.index)
        if cost:  # a worker's switch is CPU work
            self.cpus.run(cost).callbacks.append(lambda _event: self.run.advance(task))
        else:
            self.run.advance(task)

    def timed(self, task: Task, op: Op, record: int, duration: float) -> bool:
        return self.spend(task, op, record, duration, self.cpus)

    def trace(self, played, ready, start, end, host, worker) -> Trace:
        return self.switches.stamp(self.on_workers(played, (ready, start, end), worker))


def _children_bound(workload: Workload) -> int:
    """Gather children a run can start at most: threads a thread-per-task run may need."""
    plan = workload.plan
    scenario = workload.scenario
    items = scenario.items()

    def children(ops: Any) -> int:
        return sum(op.count * (1 + children(op.child)) for op in ops if op.count)

    return sum(
        scenario.rounds(group, items.__getitem__) * children(plan.ops[i])
        for i, group in enumerate(scenario.players)
    )


def _typical_host_step(workload: Workload) -> float:
    """The median host step, served rounds included: whether the GIL's long runs pay."""
    steps = [workload.duration[workload.kind == HOST]]
    for group, table in (workload.served or {}).items():
        kinds = np.array([leaf.code for leaf in workload.plan.leaves[group]])
        steps.append(table[:, kinds == HOST].ravel())
    host_steps = np.concatenate(steps)
    return float(np.median(host_steps)) if len(host_steps) else 0.0
