"""CPUs shared by whoever wants one, as an operating system's scheduler shares them.

When at most `cpus` jobs (threads or processes in a host or native step)
want to run, each has a CPU to itself; when more do, the scheduler's time
slices are far shorter than any step, so each runs at `cpus / jobs` of a
CPU: processor sharing. There are no discrete switches to count here, so
`host.switch_cost` does not apply to the sharing itself. The CPUs on offer
may change while jobs run (`resize`): under the GIL, native steps share the
CPUs but the one a thread runs Python on.

All running jobs progress at the same rate, so one number, the service
every job has received since time 0 (`_served`), tells when each finishes:
a job that started when it stood at v with w seconds of work ends when it
reaches v + w. A heap of those finishing levels gives the next completion
in O(log jobs) per event. For the same reason `jobs` identical jobs started
together are one entry of the heap that counts `jobs` times: a million worker
processes starting at once cost one entry, not a million.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.engine.clock import Due
from sim.engine.workload import CPU, Workload

__all__ = ["CpuShare", "stalled"]


class CpuShare:
    """`cpus` CPUs shared equally by the jobs running on them."""

    def __init__(self, env: simpy.Environment, cpus: int) -> None:
        self._env = env
        self._cpus = cpus
        self._served = 0.0  # service each running job has received since 0
        self._at = 0.0  # when `_served` was last brought up to date
        # (level, order, done, jobs): `jobs` alike jobs ending together as one entry
        self._finishing: list[tuple[float, int, simpy.Event, int]] = []
        self._running = 0  # jobs running: the entries, each counted `jobs` times
        self._order = 0
        self._token = 0

    def run(self, work: float, jobs: int = 1) -> simpy.Event:
        """An event that succeeds when `work` seconds of CPU have been done from now, by
        each of `jobs` jobs started together (they share the CPUs as that many would)."""
        done = simpy.Event(self._env)
        if work <= 0:
            done.succeed()
            return done
        self._catch_up()
        heappush(self._finishing, (self._served + work, self._order, done, jobs))
        self._running += jobs
        self._order += 1
        self._schedule()
        return done

    def resize(self, cpus: int) -> None:
        """From now on the jobs share `cpus` CPUs; with none, they pause until some are back."""
        if cpus == self._cpus:
            return
        self._catch_up()
        self._cpus = cpus
        self._schedule()

    def _rate(self) -> float:
        """CPU each running job gets: a whole one, or a fair share when they outnumber CPUs."""
        running = self._running
        return 1.0 if running <= self._cpus else self._cpus / running

    def _catch_up(self) -> None:
        now = self._env.now
        if self._finishing:
            self._served += (now - self._at) * self._rate()
        self._at = now

    def _schedule(self) -> None:
        self._token += 1
        rate = self._rate()
        if not self._finishing or rate == 0:  # nothing runs, or it waits for `resize`
            return
        delay = max(0.0, (self._finishing[0][0] - self._served) / rate)
        # a Due, not `succeed`, which would schedule it now
        tick = Due(self._env, None, lambda _event, token=self._token: self._tick(token))
        self._env.schedule(tick, NORMAL, delay)

    def _tick(self, token: int) -> None:
        if token != self._token:
            return
        self._catch_up()
        # finishing levels within rounding of the service level end now, in start order;
        # so do those the clock cannot tell from now (late in a run, a step of its float
        # is longer than their remaining work takes: a tick for them would come at now
        # again, and again)
        now = self._env.now
        level = self._served + max(
            1e-12 * max(1.0, abs(self._served)), self._rate() * math.ulp(now)
        )
        done = []
        while self._finishing and self._finishing[0][0] <= level:
            done.append(heappop(self._finishing))
            self._running -= done[-1][3]
        for _level, _order, event, _jobs in sorted(done, key=lambda item: item[1]):
            event.succeed()
        self._schedule()


def stalled(workload: Workload, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """How much longer than its duration each host or native step took (0 for other
    steps): the time it shared a CPU or waited for the GIL. Differences within rounding
    are 0."""
    late = np.where(np.isin(workload.kind, CPU), (end - start) - workload.duration, 0.0)
    late[np.abs(late) <= 1e-9 * np.maximum(1.0, end)] = 0.0
    return late
