"""Threaded: every game on an OS thread, like `threading.Thread` or a `ThreadPoolExecutor`.

`threads` threads (default: one per game) take games in file order; a thread
that finishes a game takes the next one at once, as a pool's worker does. A
host step runs Python: under the GIL (`sim.engine.gil`) one thread at a time,
switched every `switch_interval` when others wait; without it (free-threaded
Python) on `host.count` CPUs shared by the OS (`sim.engine.sharing`). Wait
and block steps (`time.sleep`, I/O) hold the thread but no CPU: a thread
entering one drops the GIL.

A native step is C code that has released the GIL (numpy, hashlib, zlib): a
thread entering one drops the GIL, as for a wait, and the step is CPU work on
the `host.count` CPUs, shared by the OS with the other native steps. While a
thread holds the GIL, its Python has a CPU of its own: native steps share
the others (`cpus_beside`; on one CPU they pause while Python runs). The
GIL's holder is not slowed by them in turn: Python goes first, so the CPUs
are never used past their number, and where they are all busy the makespan
is the same as with a fair share. Without the GIL a native step is a host
step.

All threads are released together at 0; which one gets the GIL first is the
OS's choice, drawn like every other handoff from the run's generator.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from sim.engine.gil import Gil
from sim.engine.sharing import CpuShare, stalled
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import CPU, HOST, NATIVE, Workload
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_count, format_duration, format_seconds

__all__ = ["SWITCH_BUDGET", "cpus_beside", "play", "refuse_too_many_switches", "switches_bound"]

#: GIL switches one threaded run may play: about half a minute of the engine's time.
SWITCH_BUDGET = 20_000_000


def switches_bound(workload: Workload, schedule: Schedule) -> int:
    """At most how often the GIL can change hands: a forced switch every interval of
    host work while threads contend, and a handoff at the end of every host step
    (native steps run without the GIL)."""
    params = schedule.threaded
    if params is None or not params.gil or schedule.workers(workload.games, workload.hosts) < 2:
        return 0
    return int(workload.python_work() / params.switch_interval) + workload.host_steps()


def refuse_too_many_switches(workload: Workload, schedule: Schedule) -> None:
    """Raise the run's ScenarioError when the GIL could change hands past the budget."""
    bound = switches_bound(workload, schedule)
    if bound > SWITCH_BUDGET:
        raise ScenarioError([_too_many_switches(workload, schedule, bound)])


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    params = schedule.threaded
    assert params is not None
    refuse_too_many_switches(workload, schedule)
    threads = schedule.workers(workload.games, workload.hosts)
    return _Threads(workload, schedule, threads, rng).play()


def _too_many_switches(workload: Workload, schedule: Schedule, bound: int) -> Problem:
    assert schedule.threaded is not None
    interval = format_duration(schedule.threaded.switch_interval)
    message = (
        f"up to {format_count(bound)} GIL switches to play "
        f"({format_seconds(workload.python_work())} of host work at one every {interval}), "
        f"more than the {format_count(SWITCH_BUDGET)} a run "
        "may take; give a longer switch_interval (fewer, longer slices), fewer players, "
        "or leave this schedule out"
    )
    return Problem(workload.scenario.name, None, f"schedule {schedule.label}", message)


def cpus_beside(gil: Gil, cpus: int) -> int:
    """CPUs native steps share under the GIL: all but the one its holder runs Python on."""
    return cpus - (gil.holder >= 0)


class _Threads:
    """The threads' state machines: each step ends in a callback that starts the next."""

    def __init__(
        self, workload: Workload, schedule: Schedule, threads: int, rng: np.random.Generator
    ) -> None:
        params = schedule.threaded
        assert params is not None
        self.workload, self.schedule = workload, schedule
        self.env = env = simpy.Environment()
        self.kind = workload.kind.tolist()
        self.duration = workload.duration.tolist()
        self.first = workload.first_step.tolist()
        steps = len(self.kind)
        self.ready = [0.0] * steps
        self.start = [0.0] * steps
        self.end = [0.0] * steps
        self.worker = np.zeros(steps, dtype=np.int32)
        self.queue = deque(range(workload.games))
        self.row = [0] * threads  # per thread: its next step's row
        self.stop = [0] * threads  # per thread: the row after its game's last step
        self.game = [-1] * threads
        self.rng = rng
        self.order = rng.permutation(threads).tolist()  # who reaches the GIL first at 0
        self.gil: Gil | None = None
        self.cpus = CpuShare(env, workload.hosts)  # host steps without the GIL, native steps
        if params.gil:
            cost, interval = workload.switch_cost, params.switch_interval
            host_steps = workload.duration[workload.kind == HOST]
            typical = float(np.median(host_steps)) if len(host_steps) else 0.0
            self.gil = Gil(env, threads, interval, cost, rng, self._host_done, typical)
        # native steps lose a CPU while anyone holds the GIL: told after every take or drop
        self.beside = self.gil is not None and workload.steps_of(NATIVE) > 0

    def play(self) -> Trace:
        started = [thread for thread in range(len(self.row)) if self._next_game(thread)]
        for thread in self.order:
            if thread < len(started):
                self._advance(thread)
        self.env.run()
        start, end = np.array(self.start), np.array(self.end)
        late = stalled(self.workload, start, end)
        gil = self.gil
        return Trace(
            self.workload,
            self.schedule,
            np.array(self.ready),
            start,
            end,
            np.full(len(late), NO_HOST, dtype=np.int32),
            worker=self.worker,
            stalled=late,
            switches=gil.switches if gil else 0,
            switch_time=gil.switch_time if gil else 0.0,
        )

    def _next_game(self, thread: int) -> bool:
        """The thread takes the next game in file order; False when none is left."""
        if not self.queue:
            return False
        game = self.queue.popleft()
        self.game[thread] = game
        self.row[thread], self.stop[thread] = self.first[game], self.first[game + 1]
        self.worker[self.row[thread] : self.stop[thread]] = thread
        return True

    def _advance(self, thread: int) -> None:
        """Play the thread's steps from its next one until one has to wait for time to pass."""
        env, gil = self.env, self.gil
        now = env.now
        while True:
            row = self.row[thread]
            if row == self.stop[thread] and not self._next_game(thread):
                self._drop_gil(thread)  # the thread ends
                return
            row = self.row[thread]
            # every game is handed in at 0: a pool's queued game waited for a thread since then
            self.ready[row] = 0.0 if row == self.first[self.game[thread]] else now
            duration = self.duration[row]
            kind = self.kind[row]
            if kind == HOST and gil is not None:
                done = gil.acquire(thread, self.game[thread], duration)
                if self.beside:
                    self.cpus.resize(cpus_beside(gil, self.workload.hosts))
                if done:
                    self.start[row] = self.end[row] = now
                    self.row[thread] = row + 1
                    continue
                return  # `_host_done` carries on
            self._drop_gil(thread)  # C code, time.sleep and I/O drop the GIL
            self.start[row] = now
            if kind in CPU:
                self.cpus.run(duration).callbacks.append(
                    lambda _event, thread=thread: self._step_done(thread)
                )
                return
            env.timeout(duration).callbacks.append(
                lambda _event, thread=thread: self._step_done(thread)
            )
            return

    def _drop_gil(self, thread: int) -> None:
        """The thread drops the GIL if it holds it; native steps may gain a CPU."""
        gil = self.gil
        if gil is not None and gil.holds(thread):
            gil.release(thread)
            if self.beside:
                self.cpus.resize(cpus_beside(gil, self.workload.hosts))

    def _host_done(self, thread: int) -> None:
        """The GIL says the thread's host step is done; it still holds the GIL."""
        assert self.gil is not None
        self.start[self.row[thread]] = self.gil.began(thread)
        self._step_done(thread)

    def _step_done(self, thread: int) -> None:
        row = self.row[thread]
        self.end[row] = self.env.now
        self.row[thread] = row + 1
        self._advance(thread)
