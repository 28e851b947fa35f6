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
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "DaskCluster",
    "Executor",
    "ExecutorError",
    "InProcess",
    "ProcessPool",
    "cores",
    "open_executor",
]

#: How long to wait for a Dask scheduler given by address.
CONNECT_TIMEOUT = "10s"
#: How `--dask local` builds its LocalCluster (with one worker per job): single-threaded
#: worker processes, as the engine is pure Python; its web server on any free port.
LOCAL_CLUSTER: dict[str, Any] = {
    "threads_per_worker": 1,
    "processes": True,
    "dashboard_address": ":0",
    "silence_logs": logging.ERROR,
}

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
        """Release the workers."""


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
        self._pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
        for started in [self._pool.submit(int) for _ in range(jobs)]:
            started.result()  # every worker up now, before any thread of ours starts

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        futures = [self._pool.submit(fn, item) for item in items]
        index = {future: i for i, future in enumerate(futures)}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # raise a worker's error at once
                    if done is not None:
                        done(items[index[future]])
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        return [future.result() for future in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
        try:
            if address == "local":
                with _workers_ignore_ctrl_c():
                    self._cluster = LocalCluster(n_workers=jobs, **LOCAL_CLUSTER)
                self._client = Client(self._cluster)
                self.name = f"Dask LocalCluster, {jobs} workers"
            else:
                self._client = Client(address, timeout=CONNECT_TIMEOUT)
                self.name = f"Dask scheduler {address}"
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            self.close()
            raise ExecutorError(f"--dask {address}: cannot connect: {error}") from None
        except BaseException:  # interrupted while the cluster starts: leave nothing behind
            self.close()
            raise
        self.workers = max(1, sum(self._client.nthreads().values()))

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        from distributed import as_completed

        futures = self._client.map(fn, items, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                if future.status == "error":
                    future.result()  # raise the worker's error here
                if done is not None:
                    done(items[index[future.key]])
            return self._client.gather(futures)
        except BaseException:
            self._client.cancel(futures)
            raise

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes with SIGINT ignored (they inherit it): on Ctrl-C only this
    process is interrupted, and it shuts the cluster down instead of every worker
    printing its own traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
    finally:
        executor.close()
