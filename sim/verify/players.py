"""The games played for real on the wall clock, one player per execution model.

Each player takes the games as lists of `(kind, seconds)` steps, durations
already divided by the scale, and returns when every game ended, in real
seconds from the moment all were released. The engine is not consulted: these
are the measurements the engine is judged by.

- cooperative: one asyncio loop; a host step is CPU work on the loop (it holds
  the loop), a `native` step CPU work in C on it (it holds the loop too), a
  `block` step is `time.sleep` on the loop, a wait step is `asyncio.sleep`; a
  game lets the others run only where it suspends, as a coroutine does: at a
  wait, or where a resource, a queue or a gather makes it wait (taking a free
  semaphore or putting into a queue with room does not). With `host.count` > 1
  the loop hands host, native and block steps to a pool of that many
  processes instead.
- synchronous: the games one after another, in this process; with
  `host.count` > 1, a pool of that many processes, one game at a time each.
- threaded: one thread per game, or `threads` threads taking games in file
  order (as `ThreadPoolExecutor(max_workers=threads)`), all released together.
- parallel: a `multiprocessing` pool of `processes` workers, each playing games
  synchronously, handed out in file order.

Games that share resources, queues and fan-out come as a `Program`
(`sim.verify.work`) and are played by `SHARED_PLAYERS`, with each model's own
primitives:

- cooperative: `asyncio.Semaphore`, `asyncio.Queue`, `asyncio.gather` of the
  children, on the one loop (host, native and block steps in the process pool
  when `host.count` > 1); a job on an executor, `run_in_executor` on a
  `ThreadPoolExecutor` of its workers (elsewhere an executor is a semaphore);
- synchronous: games one after another in the engine's hand-out order (a
  queue's consumers after its producers), children one after another; with
  `host.count` > 1, as parallel on that many processes;
- threaded: `threading.Semaphore` and `queue.Queue`; a child is a thread of
  its own, or, with `threads` set, a work item of a `ThreadPoolExecutor`,
  queued behind the games not yet taken;
- parallel: `multiprocessing` semaphores and queues, made before the pool
  and handed to each worker by the pool's initializer; children one after
  another in the worker.

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
from itertools import takewhile
from typing import Any

from sim.experiment.executors import kill_workers
from sim.verify.work import (
    CLOSED,
    ITEM,
    Program,
    Shared,
    Stuck,
    cpu_wait,
    do_step,
    pid_after,
    play_game,
    play_in_worker,
    play_job,
    play_shared,
    share_in_worker,
    timed_step,
    worker_signals,
)

__all__ = [
    "PLAYERS",
    "SHARED_PLAYERS",
    "Run",
    "cooperative",
    "cooperative_shared",
    "parallel",
    "parallel_shared",
    "synchronous",
    "synchronous_shared",
    "threaded",
    "threaded_shared",
]

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
    return _on_a_loop(
        hosts, lambda pool: _on_the_loop(games) if pool is None else _offloaded(games, pool)
    )


def _on_a_loop(
    hosts: int, main: Callable[[concurrent.futures.ProcessPoolExecutor | None], Any]
) -> Run:
    """`main(pool)` run by asyncio in a fresh thread; with several hosts, the host steps
    go to a pool of that many warmed-up processes (None with one host: the loop's own)."""
    if hosts == 1:
        return _in_fresh_thread(lambda: asyncio.run(main(None)))
    pool = concurrent.futures.ProcessPoolExecutor(
        hosts, mp_context=_context(), initializer=worker_signals
    )
    try:
        _warm(lambda n: list(pool.map(pid_after, [_WARM_UP] * n)), hosts)
        return _in_fresh_thread(lambda: asyncio.run(main(pool)))
    except BaseException:  # stopped: the steps its workers are on are not waited for
        kill_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _OnTheLoop:
    """Steps done on the loop's own thread, until one is interrupted.

    Ctrl-C or SIGTERM raises the command's own BaseException in the step running.
    asyncio lets only KeyboardInterrupt and SystemExit out of the loop at once; any
    other it sets on the task, and the loop first runs every other game ready to run,
    each its whole step (hours of steps at a small scale). After an interrupt those
    steps are cancelled instead, so the run ends at once.
    """

    def __init__(self) -> None:
        self.interrupted = False

    def do(self, kind: str, seconds: float) -> None:
        if self.interrupted:
            raise asyncio.CancelledError
        try:
            do_step(kind, seconds)  # a block holds the loop
        except BaseException as error:
            self.interrupted = not isinstance(error, Exception)
            raise


async def _on_the_loop(games: list[Steps]) -> Run:
    held = _OnTheLoop()

    async def game(steps: Steps) -> float:
        for kind, seconds in steps:
            if kind == "wait":
                await asyncio.sleep(seconds)
                continue
            held.do(kind, seconds)  # others run only when the game next suspends
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
    with _context().Pool(processes, initializer=worker_signals) as pool:
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


# --- games that share -----------------------------------------------------------------


def cooperative_shared(program: Program, hosts: int = 1) -> Run:
    """All games as coroutines of one loop, sharing asyncio's own primitives."""
    return _on_a_loop(hosts, lambda pool: _shared_on_the_loop(program, pool))


async def _shared_on_the_loop(
    program: Program, pool: concurrent.futures.Executor | None = None
) -> Run:
    loop = asyncio.get_running_loop()
    resources, queue_indices = (
        range(program.resources),
        range(program.resources, len(program.names)),
    )
    semaphores = {i: asyncio.Semaphore(program.capacity[i]) for i in resources}
    executors = {  # `run_in_executor` on pools of their size
        i: concurrent.futures.ThreadPoolExecutor(program.capacity[i]) for i in program.executors
    }
    turns = {i: asyncio.Lock() for i in resources if i in program.several}
    queues: dict[int, asyncio.Queue] = {
        i: asyncio.Queue(program.capacity[i]) for i in queue_indices
    }
    left = {i: program.producers[i] for i in queue_indices}
    taken = dict.fromkeys(program.served, 0)
    waits: list[float] = []
    closers: list[asyncio.Future] = []
    held = _OnTheLoop()

    async def step(kind: str, seconds: float) -> None:
        if kind == "wait":
            await asyncio.sleep(seconds)
            return
        if pool is not None:
            waits.append(await loop.run_in_executor(pool, timed_step, kind, seconds))
            return
        held.do(kind, seconds)  # others run only when the game next suspends

    async def play_ops(ops: tuple, durations: tuple[float, ...], base: int) -> None:
        walk = iter(ops)
        for op in walk:
            code = op[0]
            if code == "timed":
                await step(op[2], durations[base + op[1]])
            elif code == "acquire" and op[2] in executors:  # to its release: the job
                job = [(o[2], durations[base + o[1]]) for o in takewhile(_not_released, walk)]
                await loop.run_in_executor(executors[op[2]], play_job, job)
            elif code == "acquire":
                semaphore, turn = semaphores[op[2]], turns.get(op[2])
                if turn is None:
                    await semaphore.acquire()
                else:
                    async with turn:
                        for _ in range(op[3]):
                            await semaphore.acquire()
            elif code == "release":
                for _ in range(op[3]):
                    semaphores[op[2]].release()
            elif code == "put":
                await queues[op[2]].put(ITEM)
            else:  # gather
                first, count, width, child = base + op[1] + 1, op[2], op[3], op[4]
                await asyncio.gather(
                    *(play_ops(child, durations, first + i * width) for i in range(count))
                )

    async def game(index: int) -> float:
        group = program.groups[index]
        ops, rounds = program.ops[group], program.rounds[index]
        if rounds is not None:
            for durations in rounds:
                await play_ops(ops, durations, 0)
        else:
            served = queues[ops[0][2]]
            while await served.get() is not CLOSED:
                k, taken[group] = taken[group], taken[group] + 1
                await play_ops(ops[1:], program.served[group][k], 0)
        end = time.perf_counter()
        for queue in program.puts[group]:
            left[queue] -= 1
            if not left[queue]:  # the markers wait for room in a task of their own
                closers.append(asyncio.ensure_future(close(queues[queue], queue)))
        return end

    async def close(queue: asyncio.Queue, index: int) -> None:
        for _ in range(program.consumers[index]):
            await queue.put(CLOSED)

    for i, executor in executors.items():  # its threads started before the clock
        workers = range(program.capacity[i])
        await asyncio.gather(*(loop.run_in_executor(executor, time.sleep, 0.01) for _ in workers))
    waited, began = cpu_wait(), time.perf_counter()
    games = asyncio.gather(*(game(index) for index in range(program.games)))
    try:
        ends = await asyncio.wait_for(games, program.patience)
    except TimeoutError:
        raise Stuck(f"the games did not end within {program.patience:g} s") from None
    finally:
        for executor in executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
    return Run(tuple(end - began for end in ends), cpu_wait() - waited + sum(waits))


def _not_released(op: tuple) -> bool:
    return op[0] != "release"


def synchronous_shared(program: Program, hosts: int = 1) -> Run:
    """The games one after another in hand-out order (on each of `hosts` processes)."""
    if hosts > 1:
        return parallel_shared(program, hosts)
    shared = Shared.threads(program)
    began = time.perf_counter()
    played = dict.fromkeys(range(program.games), (0.0, 0.0))
    for game in program.order:
        played[game] = play_shared(shared, game)
    return _run(began, [played[game] for game in range(program.games)])


def threaded_shared(program: Program, threads: int | None = None) -> Run:
    """One thread per game, children on threads of their own; or a pool of `threads`
    taking games in hand-out order, children queued on it as work items."""
    shared = Shared.threads(program)
    if threads is not None:
        return _on_a_pool(program, shared, threads)
    shared.fan_out = lambda children: _on_threads(children, program.patience)
    played = [(0.0, 0.0)] * program.games
    ready = threading.Barrier(program.games + 1)
    go = threading.Event()

    def worker(game: int) -> None:
        ready.wait()
        go.wait()
        played[game] = play_shared(shared, game)

    workers = [_Thread(worker, game) for game in program.order]
    for thread in workers:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    go.set()
    for thread in workers:
        thread.finish(program.patience)
    return _run(began, played)


def _on_a_pool(program: Program, shared: Shared, threads: int) -> Run:
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        started = threading.Barrier(threads)
        for future in [pool.submit(started.wait) for _ in range(threads)]:
            future.result()  # every thread of the pool is up
        shared.fan_out = lambda children: _results(
            [pool.submit(child) for child in children], program.patience
        )
        began = time.perf_counter()
        games = {game: pool.submit(play_shared, shared, game) for game in program.order}
        played = _results([games[game] for game in range(program.games)], program.patience)
    return _run(began, played)


def _results(futures: list[concurrent.futures.Future], patience: float) -> list:
    try:
        return [future.result(timeout=patience) for future in futures]
    except concurrent.futures.TimeoutError:
        raise Stuck(f"work on the thread pool did not end within {patience:g} s") from None


class _Thread(threading.Thread):
    """A thread that hands its error to whoever joins it."""

    def __init__(self, target: Callable[..., object], *args: object) -> None:
        super().__init__(daemon=True)
        self._call = (target, args)
        self.error: BaseException | None = None

    def run(self) -> None:
        target, args = self._call
        try:
            target(*args)
        except BaseException as error:  # raised again in the thread that joins it
            self.error = error

    def finish(self, patience: float) -> None:
        self.join(patience)
        if self.is_alive():
            raise Stuck(f"a thread did not end within {patience:g} s")
        if self.error is not None:
            raise self.error


def _on_threads(children: list[Callable[[], None]], patience: float) -> None:
    threads = [_Thread(child) for child in children]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.finish(patience)


def parallel_shared(program: Program, processes: int = 1) -> Run:
    """A pool of `processes` workers sharing `multiprocessing` primitives, games handed out
    in order, children one after another in the worker."""
    context = _context()
    shared = Shared.processes(program, context)
    with context.Pool(processes, initializer=share_in_worker, initargs=(shared,)) as pool:
        _warm(lambda n: pool.map(pid_after, [_WARM_UP] * n, chunksize=1), processes)
        began = time.perf_counter()
        played = dict(
            zip(program.order, pool.imap(play_in_worker, program.order, chunksize=1), strict=True)
        )
    return _run(began, [played[game] for game in range(program.games)])


#: Each execution model's player for games that share.
SHARED_PLAYERS: dict[str, Callable[..., Run]] = {
    "synchronous": synchronous_shared,
    "cooperative": cooperative_shared,
    "threaded": threaded_shared,
    "parallel": parallel_shared,
}
