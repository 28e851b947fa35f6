"""Parallel: worker processes, like `multiprocessing.Pool(processes)`.

Each worker is an interpreter of its own: it first spends `start_cost` of CPU
starting up, then plays one game at a time synchronously (a wait or block
step holds the worker, not a CPU). Games go in file order to the first free
worker, the lowest-numbered among workers freed at one instant (the tie rule
of `HostPool`, with workers in the place of hosts). Host and native steps
(Python, C code: CPU work alike in a process of its own) of different
workers run at once on the `host.count` CPUs and share them when more
workers want one (`CpuShare`). A worker moving on to another game pays
`host.switch_cost` of CPU first.

With no more workers than CPUs nothing is shared: that is synchronous on
`processes` hosts, every time later by `start_cost`, and it is computed so
(list scheduling, `sim.engine.synchronous`) rather than played event by event.

Workers past the games' count never take a game (the lowest free worker goes
first), but with a `start_cost` they start with the others and share the CPUs
with them: they are played as one job on the CPUs that counts as that many
(`CpuShare.run`'s `jobs`), so a million idle workers cost one entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator

import numpy as np
import simpy

from sim.engine import synchronous
from sim.engine.hosts import HostPool
from sim.engine.sharing import CpuShare, stalled
from sim.engine.switching import Switches
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import CPU, Workload
from sim.scenario.schedules import Schedule

__all__ = ["play", "played_workers", "pooled"]


def play(workload: Workload, schedule: Schedule, rng: np.random.Generator) -> Trace:
    params = schedule.parallel
    assert params is not None
    processes = schedule.workers(workload.games, workload.hosts)
    if processes <= workload.hosts:
        played = played_workers(processes, workload.games)
        return _a_cpu_each(workload, schedule, played, params.start_cost, rng)
    return pooled(workload, schedule)


def played_workers(processes: int, games: int) -> int:
    """Workers played one by one: those a game can reach (the lowest free one goes first,
    and a game holds its worker throughout); the others only start, if anything."""
    return min(processes, max(games, 1))


def pooled(workload: Workload, schedule: Schedule) -> Trace:
    """The pool played event by event, CPUs shared (the tests difference the other path)."""
    params = schedule.parallel
    assert params is not None
    processes = schedule.workers(workload.games, workload.hosts)
    played = played_workers(processes, workload.games)
    env = simpy.Environment()
    cpus = CpuShare(env, workload.hosts)
    if processes > played:  # the workers no game reaches start too, sharing the CPUs
        cpus.run(params.start_cost, jobs=processes - played)
    workers = HostPool(env, played)
    pool = _Pool(env, workload, cpus, workers, played)
    for worker in range(played):
        env.process(pool.boot(worker, params.start_cost))
    for game in range(workload.games):
        env.process(pool.game(game))
    env.run()
    return pool.trace(schedule)


def _a_cpu_each(
    workload: Workload, schedule: Schedule, processes: int, start: float, rng: np.random.Generator
) -> Trace:
    """Each worker on a CPU of its own: synchronous on `processes` hosts, after starting."""
    own = workload.scenario.model_copy(
        update={"host": workload.scenario.host.model_copy(update={"count": processes})}
    )
    played = synchronous.play(
        dataclasses.replace(workload, scenario=own), Schedule.of("synchronous"), rng
    )
    first = workload.first_step[:-1]
    ready = played.ready + start
    ready[first] = 0.0  # handed in at 0: waiting for the workers to start is waiting
    trace = Trace(
        workload,
        schedule,
        ready,
        played.start + start,
        played.end + start,
        np.full(len(workload.kind), NO_HOST, dtype=np.int32),
        worker=played.host,
        stalled=np.zeros(len(workload.kind)),
    )
    return dataclasses.replace(trace, switches=played.switches, switch_time=played.switch_time)


class _Pool:
    def __init__(
        self,
        env: simpy.Environment,
        workload: Workload,
        cpus: CpuShare,
        workers: HostPool,
        processes: int,
    ) -> None:
        self.env, self.workload, self.cpus, self.workers = env, workload, cpus, workers
        steps = len(workload.kind)
        self.ready = np.zeros(steps)
        self.start = np.zeros(steps)
        self.end = np.zeros(steps)
        self.worker = np.zeros(steps, dtype=np.int32)
        self.processes = processes
        self.switches = Switches(workload, processes)  # per worker: the game it played last

    def boot(self, worker: int, cost: float) -> Generator[simpy.Event, object, None]:
        """Worker `worker` starts up: it holds itself (before any game) for `cost` of CPU."""
        # (ready -1, key worker - n) sorts before every game, so worker w gets itself
        granted = yield self.workers.request(worker - self.processes, ready=-1.0)
        assert granted == worker
        yield self.cpus.run(cost)
        self.workers.release(worker)

    def game(self, game: int) -> Generator[simpy.Event, object, None]:
        env, workload = self.env, self.workload
        worker = yield self.workers.request(game, ready=0.0)
        cost = self.switches.to(worker, game)
        if cost:
            yield self.cpus.run(cost)  # a worker's switch is CPU work
        lo, hi = workload.first_step[game], workload.first_step[game + 1]
        kinds = workload.kind[lo:hi].tolist()
        durations = workload.duration[lo:hi].tolist()
        start, end = [], []
        for kind, duration in zip(kinds, durations, strict=True):
            start.append(env.now)
            if kind in CPU:
                yield self.cpus.run(duration)
            else:
                yield env.timeout(duration)
            end.append(env.now)
        self.workers.release(worker)
        self.start[lo:hi] = start
        self.end[lo:hi] = end
        self.ready[lo:hi] = [0.0, *start[1:]]  # handed in at 0; then the worker holds it
        self.worker[lo:hi] = worker

    def trace(self, schedule: Schedule) -> Trace:
        late = stalled(self.workload, self.start, self.end)
        trace = Trace(
            self.workload,
            schedule,
            self.ready,
            self.start,
            self.end,
            np.full(len(late), NO_HOST, dtype=np.int32),
            worker=self.worker,
            stalled=late,
        )
        return self.switches.stamp(trace)
