"""Where independent runs are played: this process, a local process pool, or Dask.

Replications and sweep points share nothing, so they can go anywhere. Every
executor returns results in the order of the items it was given, whatever
order they finished in, and each item carries its own random streams
(`sim.experiment.streams`), so the results do not depend on the executor or on the
number of workers.

- `InProcess`: `--jobs 1`, and whenever there is a single item.
- `ProcessPool`: `--jobs N`, a `concurrent.futures` pool of N processes, forked
  while the process is still single-threaded (else from a fork server).
- `DaskCluster`: `--dask ADDRESS` (a running scheduler) or `--dask local` (a
  `LocalCluster` of N single-threaded worker processes), with Dask's own
  futures. Dask is imported only here, and only then.

Stopping: Ctrl-C and SIGTERM are this process's to handle, never a worker's
(a terminal and `timeout` send them to the whole process group). While this
process runs the pool's or Dask's own code they are noted and handled on the
way out (`_Stops`), never in the middle of it, where an exception could leave a
lock held. `open_executor` aborts the executor when the work inside it raises
(an interrupt, a worker's error): the workers are killed where they are, not
waited for, so a stopped play ends at once and leaves no process behind.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import resource_tracker
from multiprocessing.process import BaseProcess
from queue import SimpleQueue
from types import FrameType
from typing import Any, TypeVar

__all__ = [
    "DaskCluster",
    "Executor",
    "ExecutorError",
    "InProcess",
    "ProcessPool",
    "cores",
    "kill_workers",
    "open_executor",
]

#: How long to wait for a Dask scheduler given by address.
CONNECT_TIMEOUT = "10s"
#: How long `--dask local` may take to start its workers, in seconds.
START_TIMEOUT = 60
#: How `--dask local` builds its LocalCluster (with one worker per job): single-threaded
#: worker processes, as the engine is pure Python; its web server on any free port.
LOCAL_CLUSTER: dict[str, Any] = {
    "threads_per_worker": 1,
    "processes": True,
    "dashboard_address": ":0",
    "silence_logs": logging.ERROR,
}

#: What stops a play: Ctrl-C and SIGTERM.
_STOPS = (signal.SIGINT, signal.SIGTERM)

T = TypeVar("T")
R = TypeVar("R")
Done = Callable[[Any], None]


class ExecutorError(Exception):
    """An executor that cannot be had (no such Dask scheduler, Dask not installed)."""


def cores() -> int:
    """Cores this process may use: the default number of jobs."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Executor(ABC):
    """Maps a function over items somewhere; `workers` says how many run at once."""

    workers: int = 1
    name: str = "in-process"

    @abstractmethod
    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        """`fn` of every item, in the items' order; `done(item)` as each one finishes."""

    @abstractmethod
    def close(self) -> None:
        """Release the workers, once the items given to them are done."""

    def abort(self) -> None:
        """Release the workers now, whatever they are playing (the play is stopped)."""
        self.close()


class InProcess(Executor):
    """One item after another, right here."""

    def close(self) -> None:
        """Nothing to release."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        results = []
        for item in items:
            results.append(fn(item))
            if done is not None:
                done(item)
        return results


class ProcessPool(Executor):
    """A pool of `jobs` local processes, all started before this returns.

    Forked when this process has a single thread (the CLI before its progress
    bar starts: instant, and safe); otherwise started by a fork server, which
    imports `sim` once and forks from a clean, single-threaded process.

    A worker ignores Ctrl-C and dies of SIGTERM (`_worker_signals`): both reach
    the whole process group from a terminal or `timeout`, and a worker that raised
    on them mid-item could die holding the pool's queue lock, which hangs every
    other process on it. This process stops the play and kills the workers
    (`abort`). Both signals are blocked while the workers start, so none is lost and
    none reaches a worker before its own handlers are set.
    """

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self.name = f"{jobs} processes"
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        elif "forkserver" in methods:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["sim.experiment.replications"])
        else:
            context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_signals)
        try:
            with _stops_blocked():
                for started in [self._pool.submit(int) for _ in range(jobs)]:
                    started.result()  # every worker up now, before any thread of ours starts
        except BaseException:  # interrupted as the workers started: leave none behind
            self.abort()
            raise

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        def start() -> list[Future]:
            return [self._pool.submit(fn, item) for item in items]

        futures = _played(start, items, done, Future.result, self.abort)
        return [future.result() for future in futures]

    def close(self) -> None:
        with _Stops():
            self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Kill the workers mid-item; wait only for the pool's own thread to see it.

        Futures are not cancelled here: the pool's thread marks them failed itself,
        where a cancel of ours could race it (`InvalidStateError` in that thread)."""
        with _Stops():
            kill_workers(self._pool)
            self._pool.shutdown(wait=True, cancel_futures=True)


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a process pool's workers where they are (`shutdown` would wait for the items
    they play): what a stopped play does before it shuts the pool down."""
    kill = getattr(pool, "kill_workers", None)  # Python 3.14
    if kill is not None:
        kill()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()


def _worker_signals() -> None:
    """A pool worker's first act: Ctrl-C ignored (this process handles it), SIGTERM the
    default (end at once: a worker holds nothing to clean up); then the signals blocked
    while it started are let through."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


@contextmanager
def _stops_blocked() -> Iterator[None]:
    """Block Ctrl-C and SIGTERM in this thread while workers start; they arrive after.

    A worker forked meanwhile inherits the mask and the handlers of this process:
    the mask keeps those handlers from running there before `_worker_signals`
    replaces them. The pool's own threads, started here, keep the mask: signals are
    the main thread's business."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Stops:
    """Ctrl-C and SIGTERM noted, not handled, while this thread runs an executor's code;
    handled on leaving it.

    The pool's and Dask's code takes locks that its own threads take too: an
    exception raised by a signal handler between an acquire and its release leaves
    the lock held and those threads waiting on it for ever (the hang of a sweep
    stopped mid-play). Here a signal only calls `wake` (to end a wait); on leaving,
    the handlers are put back and the first signal is raised again, where no lock is
    held. Signals this process ignores stay ignored; off the main thread, where no
    handler runs, this does nothing.
    """

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self.caught: list[int] = []
        self._wake = wake
        self._previous: dict[int, Any] = {}

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        self.caught.append(signum)
        if self._wake is not None:
            self._wake()

    def __enter__(self) -> _Stops:
        if threading.current_thread() is threading.main_thread():
            for signum in _STOPS:
                if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                    self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self.caught:
            signal.raise_signal(self.caught[0])  # its own handler: an exception, or the end
            raise KeyboardInterrupt  # a handler that returned: the play is stopped all the same


def _played(
    start: Callable[[], Sequence[Any]],
    items: Sequence[Any],
    done: Done | None,
    check: Callable[[Any], object],
    stop: Callable[[], None],
) -> Sequence[Any]:
    """The futures `start()` makes, one per item, once all are done: `done(item)` as each
    finishes, `check(future)` first, to raise a worker's error at once.

    Ctrl-C and SIGTERM wait meanwhile (`_Stops`); either ends the wait, and then
    `stop()` before the signal is handled. Futures report through callbacks into a
    queue whose `put` may be called from a signal handler.
    """
    finished: SimpleQueue[int | None] = SimpleQueue()
    with _Stops(wake=lambda: finished.put(None)) as stops:
        futures = start()
        for i, future in enumerate(futures):
            future.add_done_callback(lambda _future, i=i: finished.put(i))
        for _ in futures:
            i = finished.get()
            if i is None:
                break
            check(futures[i])
            if done is not None:
                done(items[i])
        if stops.caught:
            stop()
    return futures


class DaskCluster(Executor):
    """A Dask distributed client: on a scheduler's address, or on a LocalCluster."""

    def __init__(self, address: str, jobs: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(
                "--dask needs Dask: pip install 'sim[dask]' (dask and distributed)"
            ) from None
        self._cluster = None
        self._futures: list = []
        self._processes: list[BaseProcess] = []
        try:
            if address == "local":
                with _stops_held():  # by Dask's threads too, which it starts meanwhile
                    self._cluster = cluster = LocalCluster(n_workers=0, **LOCAL_CLUSTER)
                    spawned = jobs if LOCAL_CLUSTER.get("processes", True) else 0
                    self._processes = _spawned(lambda: cluster.scale(jobs), spawned)
                self._client = Client(cluster)
                self._client.wait_for_workers(jobs, timeout=START_TIMEOUT)
                self.name = f"Dask LocalCluster, {jobs} workers"
            else:
                self._client = Client(address, timeout=CONNECT_TIMEOUT)
                self.name = f"Dask scheduler {address}"
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            self.close()
            raise ExecutorError(f"--dask {address}: cannot connect: {error}") from None
        except BaseException:  # interrupted while the cluster starts: leave nothing behind
            self.abort()
            raise
        self.workers = max(1, sum(self._client.nthreads().values()))

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        def start() -> list:
            self._futures = self._client.map(fn, items, pure=False)
            return self._futures

        def check(future: Any) -> None:
            if future.status == "error":
                future.result()  # raise the worker's error here

        futures = _played(start, items, done, check, self._cancel)
        with _Stops():
            return self._client.gather(futures)

    def _cancel(self) -> None:
        """Drop what a scheduler of someone else's still has to play of the last map (a
        LocalCluster is closed instead, faster without it)."""
        if self._futures and self._cluster is None:
            self._client.cancel(self._futures)
        self._futures = []

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def abort(self) -> None:
        """Drop the work left and close at once: a LocalCluster's nannies are told not to
        restart their workers, which are then killed (a graceful close waits seconds
        for them), and Dask's complaints about the workers lost are not shown."""
        with _Stops():
            for logger in ("distributed", "tornado.application"):  # the latter: its event loop's
                logging.getLogger(logger).setLevel(logging.CRITICAL)
            if getattr(self, "_client", None) is not None:
                self._cancel()
            if self._cluster is not None:
                for nanny in self._cluster.workers.values():
                    if hasattr(nanny, "close_gracefully"):
                        nanny.close_gracefully()
                for process in self._processes:
                    process.kill()
                self._cluster.close()
                self._cluster = None
            self.close()


def _spawned(start: Callable[[], object], count: int) -> list[BaseProcess]:
    """The `count` worker processes `start()` spawns in the background, with Ctrl-C and
    SIGTERM ignored until they are: they inherit that, so a signal to the whole process
    group stops only this process, which shuts the cluster down (`DaskCluster.abort`)
    instead of every worker printing its own traceback, or dying and being restarted.

    Only the spawning is waited for here (milliseconds), not the workers' start-up
    (seconds, which a signal interrupts as any other wait). A signal that comes while
    the spawning ignores it is kept for later by `_stops_held`, if the caller holds it.
    """
    before = set(multiprocessing.active_children())
    deadline = time.monotonic() + START_TIMEOUT
    ignoring = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOPS if ignoring}
    try:
        start()
        while len(new := [p for p in multiprocessing.active_children() if p not in before]) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} worker processes did not start in {START_TIMEOUT} s")
            time.sleep(0.005)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return new


@contextmanager
def _stops_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held pending in this thread and in the threads it starts meanwhile
    (a thread starts with its creator's mask), handled on leaving, once the handlers are
    back: an ignored signal is dropped as it comes, but Linux keeps one pending while
    every thread blocks it, whatever its handler is at that moment. Off the main thread,
    where no handler runs, this does nothing.

    multiprocessing's resource tracker is started first: the first process spawned
    starts it, and starting it unblocks both signals (CPython's bpo-33613 mask).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def open_executor(
    jobs: int | None = None, dask: str | None = None, items: int = 2
) -> Iterator[Executor]:
    """The executor asked for: Dask if `dask` is given, else `jobs` processes (default: all
    cores). A single process, or a single item, runs in this process: no pool to start."""
    jobs = cores() if jobs is None else jobs
    if dask is not None:
        executor: Executor = DaskCluster(dask, jobs)
    elif jobs <= 1 or items <= 1:
        executor = InProcess()
    else:
        executor = ProcessPool(min(jobs, items))
    try:
        yield executor
    except BaseException:  # interrupted, or a worker's error: stop the others where they are
        executor.abort()
        raise
    try:
        executor.close()
    except BaseException:  # interrupted while the workers finish
        executor.abort()
        raise
