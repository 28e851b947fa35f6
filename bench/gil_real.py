"""Real CPython threads on polgar-shaped work, to calibrate the threaded schedule.

Each game runs in its own `threading.Thread` (or in a `ThreadPoolExecutor`):
a host step is a pure-Python busy loop that runs until the thread has used the
step's duration of its *own* CPU time (`time.thread_time`, so being preempted
by the GIL does not shorten the work); a wait step is `time.sleep`, which
releases the GIL. All threads are released together by one event. Durations
are divided by `scale`; the makespan is reported multiplied back by it, so it
compares with a simulation that uses the real durations and a switch interval
of 5 ms × scale.

Beside each real figure: the threaded schedule's mean over `--seeds` seeds on
the same run (real durations, switch interval 5 ms × scale), and the figures
measured for the table in docs/explanation/schedules-and-the-gil.md.

Plain script, run by `make bench-threads` (several minutes; real threads are
sensitive to other load on the machine, so it prints the load average and the
median of `--repeat` runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from sim.engine import play
from sim.engine.workload import Workload
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule


@dataclass(frozen=True)
class Run:
    """n games of `rounds` rounds: host step c, then wait step w (seconds), / scale."""

    label: str
    n: int
    rounds: int
    c: float
    w: float
    scale: float
    pool: int | None = None  # None: one thread per game
    reference: str = ""  # measured before, on an idle machine of the same kind

    def simulated(self, seeds: int) -> float:
        """The threaded schedule's mean makespan over `seeds` seeds, for this run."""
        group = {"name": "p", "count": self.n, "moves": self.rounds, "host_move": self.c}
        if self.w:
            group["player_move"] = self.w
        workload = Workload.of(Scenario(players=[group]))
        schedule = Schedule.of("threaded", threads=self.pool, switch_interval=0.005 * self.scale)
        runs = [play(workload, schedule, np.random.default_rng(s)).makespan for s in range(seeds)]
        return float(np.mean(runs))


RUNS = (
    Run("n=24, 10 rounds, scale 100", 24, 10, 5.0, 55.0, 100, reference="1 270–1 320"),
    Run("n=24, 30 rounds, scale 100", 24, 30, 5.0, 55.0, 100, reference="3 661–3 671"),
    Run("n=24, 3 rounds, scale 5", 24, 3, 5.0, 55.0, 5, reference="467"),
    Run("n=8, 10 rounds, scale 100", 8, 10, 5.0, 55.0, 100, reference="665–672"),
    Run("n=24, 10 rounds, pool of 8, scale 100", 24, 10, 5.0, 55.0, 100, 8, "1 876–1 934"),
    Run("4 CPU-only tasks of 1 s", 4, 1, 1.0, 0.0, 1, reference="4.0"),
)


def busy(seconds: float) -> None:
    """Burn `seconds` of this thread's own CPU time in pure Python."""
    clock = time.thread_time
    end = clock() + seconds
    while clock() < end:
        pass


def game(
    run: Run, gate: threading.Event, ends: list[float], index: int, moves: list | None = None
) -> None:
    gate.wait()
    c, w = run.c / run.scale, run.w / run.scale
    for _ in range(run.rounds):
        busy(c)
        if moves is not None:
            moves.append((index, time.perf_counter()))
        if w:
            time.sleep(w)
    ends[index] = time.perf_counter()


def real(run: Run, moves: list | None = None) -> float:
    """One real run: makespan in seconds, multiplied back by the scale.

    `moves`, if given, receives (game, time × scale) at the end of every host step.
    """
    if moves is not None:
        moves.clear()  # the last run's only
    gate = threading.Event()
    ends = [0.0] * run.n
    work: Callable[[int], None] = lambda i: game(run, gate, ends, i, moves)  # noqa: E731
    if run.pool is None:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(run.n)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)  # every thread is parked on the gate
        began = time.perf_counter()
        gate.set()
        for thread in threads:
            thread.join()
    else:
        with ThreadPoolExecutor(max_workers=run.pool) as pool:
            futures = [pool.submit(work, i) for i in range(run.n)]
            time.sleep(0.2)
            began = time.perf_counter()
            gate.set()
            for future in futures:
                future.result()
    if moves is not None:
        moves[:] = [(index, (at - began) * run.scale) for index, at in moves]
    return (max(ends) - began) * run.scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=40, help="seeds of the simulated mean")
    parser.add_argument("--simulated-only", action="store_true", help="skip the real runs")
    parser.add_argument("--only", help="run only the runs whose label contains this text")
    parser.add_argument(
        "--moves", action="store_true", help="also print when each game's host steps ended"
    )
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, switch interval {sys.getswitchinterval() * 1e3:g} ms")
    print(
        f"{'run (× scale, s)':40} {'simulated':>9} {'reference':>12} {'real median':>12}  "
        f"{'all real runs':24} load before → after"
    )
    for run in RUNS:
        if args.only and args.only not in run.label:
            continue
        line = f"{run.label:40} {run.simulated(args.seeds):9,.0f} {run.reference:>12}"
        if args.simulated_only:
            print(line, flush=True)
            continue
        moves: list | None = [] if args.moves else None
        before = os.getloadavg()[0]
        figures = [real(run, moves) for _ in range(args.repeat)]
        after = os.getloadavg()[0]
        shown = ", ".join(f"{x:,.0f}" for x in figures)
        print(
            f"{line} {statistics.median(figures):12,.0f}  {shown:24} {before:.2f} → {after:.2f}",
            flush=True,
        )
        for index in range(run.n if moves else 0):
            ends = ", ".join(f"{at:.0f}" for game, at in moves or () if game == index)
            print(f"    game {index}: host steps ended at {ends}")


if __name__ == "__main__":
    main()
