"""The games played for real on the wall clock, one player per execution model.

Each player takes the games as lists of `(kind, seconds)` steps, durations
already divided by the scale, and returns when every game ended, in real
seconds from the moment all were released. The engine is not consulted: these
are the measurements the engine is judged by.

- cooperative: one asyncio loop; a host step is CPU work on the loop (it holds
  the loop), a `block` step is `time.sleep` on the loop, a wait step is
  `asyncio.sleep`; a game yields after a step that held the loop, as a
  coroutine does at its next `await`. With `host.count` > 1 the loop hands
  host and block steps to a pool of that many processes instead.
- synchronous: the games one after another, in this process; with
  `host.count` > 1, a pool of that many processes, one game at a time each.
- threaded: one thread per game, or `threads` threads taking games in file
  order (as `ThreadPoolExecutor(max_workers=threads)`), all released together.
- parallel: a `multiprocessing` pool of `processes` workers, each playing games
  synchronously, handed out in file order.

Pools are started and warmed up before the clock starts: their start cost is
not measured (and is simulated as zero). Workers are forked where that is
safe, else spawned (then the caller's main module must be import-safe).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sim.verify.work import burn, cpu_wait, pid_after, play_game, timed_step

__all__ = ["PLAYERS", "Run", "cooperative", "parallel", "synchronous", "threaded"]

Steps = list[tuple[str, float]]
#: Seconds a warm-up task sleeps, long enough for every worker to take one.
_WARM_UP = 0.1


@dataclass(frozen=True, slots=True)
class Run:
    """One real run: when each game ended, in seconds after the release.

    `cpu_wait`: seconds its threads and workers, added up, were ready to run
    but had no CPU (other work on the machine); NaN where unknown.
    """

    game_ends: tuple[float, ...]
    cpu_wait: float = math.nan

    @property
    def makespan(self) -> float:
        return max(self.game_ends, default=0.0)


def cooperative(games: list[Steps], hosts: int = 1) -> Run:
    """All games as coroutines of one asyncio loop."""
    if hosts == 1:
        return _in_fresh_thread(lambda: asyncio.run(_on_the_loop(games)))
    with concurrent.futures.ProcessPoolExecutor(hosts, mp_context=_context()) as pool:
        _warm(lambda n: list(pool.map(pid_after, [_WARM_UP] * n)), hosts)
        return _in_fresh_thread(lambda: asyncio.run(_offloaded(games, pool)))


async def _on_the_loop(games: list[Steps]) -> Run:
    async def game(steps: Steps) -> float:
        last = len(steps) - 1
        for index, (kind, seconds) in enumerate(steps):
            if kind == "wait":
                await asyncio.sleep(seconds)
                continue
            if kind == "host":
                burn(seconds)
            elif kind == "block":
                time.sleep(seconds)
            else:
                raise ValueError(f"no real counterpart for step kind {kind!r}")
            if index < last and steps[index + 1][0] != "wait":
                await asyncio.sleep(0)  # the coroutine's next await: others may run
        return time.perf_counter()

    waited, began = cpu_wait(), time.perf_counter()
    ends = await asyncio.gather(*(game(steps) for steps in games))
    return Run(tuple(end - began for end in ends), cpu_wait() - waited)


async def _offloaded(games: list[Steps], pool: concurrent.futures.Executor) -> Run:
    loop = asyncio.get_running_loop()
    waits: list[float] = []

    async def game(steps: Steps) -> float:
        for kind, seconds in steps:
            if kind == "wait":
                await asyncio.sleep(seconds)
            else:
                waits.append(await loop.run_in_executor(pool, timed_step, kind, seconds))
        return time.perf_counter()

    waited, began = cpu_wait(), time.perf_counter()
    ends = await asyncio.gather(*(game(steps) for steps in games))
    return Run(tuple(end - began for end in ends), cpu_wait() - waited + sum(waits))


def synchronous(games: list[Steps], hosts: int = 1) -> Run:
    """The games one after another (on each of `hosts` processes)."""
    if hosts > 1:
        return parallel(games, hosts)
    began = time.perf_counter()
    played = [play_game(steps) for steps in games]
    return _run(began, played)


def threaded(games: list[Steps], threads: int | None = None) -> Run:
    """One thread per game, or `threads` threads taking games in file order."""
    count = len(games) if threads is None else max(1, min(threads, len(games)))
    queue = iter(enumerate(games))
    taking = threading.Lock()
    played = [(0.0, 0.0)] * len(games)
    ready = threading.Barrier(count + 1)
    go = threading.Event()

    def worker() -> None:
        ready.wait()
        go.wait()
        while True:
            with taking:
                item = next(queue, None)
            if item is None:
                return
            index, steps = item
            played[index] = play_game(steps)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
    for thread in workers:
        thread.start()
    ready.wait()  # every thread is up and about to wait for the release
    began = time.perf_counter()
    go.set()
    for thread in workers:
        thread.join()
    return _run(began, played)


def parallel(games: list[Steps], processes: int = 1) -> Run:
    """A `multiprocessing` pool of `processes` workers, games handed out in file order."""
    with _context().Pool(processes) as pool:
        _warm(lambda n: pool.map(pid_after, [_WARM_UP] * n, chunksize=1), processes)
        began = time.perf_counter()
        played = list(pool.imap(play_game, games, chunksize=1))
    return _run(began, played)


def _run(began: float, played: list[tuple[float, float]]) -> Run:
    """A run from each game's (end, seconds waited for a CPU)."""
    return Run(tuple(end - began for end, _ in played), sum(wait for _, wait in played))


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux, no other thread running), else spawn.

    A forked worker does not re-run the caller's main module, so a script that
    calls the players without an `if __name__ == "__main__":` guard still works.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _warm(run_tasks: Callable[[int], list[int]], workers: int, tries: int = 20) -> None:
    """Run warm-up tasks until every worker of the pool has taken one."""
    for _ in range(tries):
        if len(set(run_tasks(workers))) == workers:
            return
    raise RuntimeError(f"a pool of {workers} workers did not start in time")


def _in_fresh_thread(play: Callable[[], Run]) -> Run:
    """Run `play` in a thread with no event loop of its own (a caller's may be running)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return play()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(play).result()


#: Each execution model's player and the parameter that sizes it.
PLAYERS: dict[str, Callable[..., Run]] = {
    "synchronous": synchronous,
    "cooperative": cooperative,
    "threaded": threaded,
    "parallel": parallel,
}
