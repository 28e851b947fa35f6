"""What a step does when it is played for real, and one game played start to end.

Kept free of the rest of `sim` (no numpy, no pydantic) because worker
processes import it to play games: a spawned worker loads this module only.

- `host`: pure-Python CPU work until the running thread has used the step's
  duration of its *own* CPU time (`time.thread_time`), so time spent waiting
  for the GIL or for a CPU does not count as work done.
- `native`: CPU work in C with the GIL released, measured the same way:
  `hashlib.pbkdf2_hmac`, one call for (nearly) the whole step, its iteration
  count sized by the rate this process has measured, as a numpy or hashlib
  call on large data computes without the GIL and takes it back at its end.
- `wait` and `block`: `time.sleep`, which holds no CPU and releases the GIL.
  (Under cooperative, where they differ, the asyncio player handles them.)

`cpu_wait` tells how long a thread was ready to run but had no CPU, because
other work on the machine had them: the part of a real run that load, not
the execution model, is to blame for.

Games that share resources, queues and fan-out are a `Program`: each group's
round as plain operations, each game's durations, what is shared. Played by
a thread or a worker process, a game walks its operations with `play_shared`
on a `Shared`, the real primitives of its execution model:

- a resource is a semaphore (`threading.Semaphore`, `multiprocessing`'s), and
  one asked for several units at once sits behind a lock, so the request at
  the head takes its units one by one and nobody passes it;
- a queue is `queue.Queue(maxsize)` or a `multiprocessing` queue; when the
  last game that puts into it ends, a thread puts one end marker per
  consumer, after every item and as room frees (the game itself goes on), so
  each consumer ends once the queue is drained;
- the k-th round a consumer group takes plays the k-th row of its durations
  (a counter shared under a lock);
- a gather's children play one after another, or on threads of their own, or
  as work items of a thread pool, as `Shared.fan_out` says.

No wait is for ever: one that lasts `patience` seconds raises `Stuck`.
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Program",
    "Shared",
    "Stuck",
    "burn",
    "cpu_wait",
    "crunch",
    "do_step",
    "one_after_another",
    "pid_after",
    "play_game",
    "play_in_worker",
    "play_shared",
    "share_in_worker",
    "timed_step",
    "worker_signals",
]

Steps = list[tuple[str, float]]

#: Loop turns between two reads of the CPU clock: a few microseconds of work.
_TURNS = 100


def burn(seconds: float) -> None:
    """Busy pure-Python work until this thread has used `seconds` of CPU time."""
    clock = time.thread_time
    deadline = clock() + seconds
    total = 0
    while clock() < deadline:
        for turn in range(_TURNS):  # bytecode, so the GIL can be asked for and dropped
            total += turn


#: PBKDF2 iterations this process does in a second of its CPU, once measured.
_RATE: list[float] = []
#: Iterations of the first call, which measures the rate: well under a millisecond.
_PROBE = 256


def crunch(seconds: float) -> None:
    """CPU work in C, the GIL released, until this thread has used `seconds` of CPU time.

    Each call is sized to the time left at the measured rate, a little under it so
    as not to overrun; the first call of a process measures the rate, its time
    counting as work done like the rest."""
    clock = time.thread_time
    began = clock()
    deadline = began + seconds
    while (now := clock()) < deadline:
        iterations = max(1, int((deadline - now) * _RATE[0] * 0.97)) if _RATE else _PROBE
        hashlib.pbkdf2_hmac("sha256", b"native", b"step", iterations)
        if not _RATE and (spent := clock() - now) > 0:
            _RATE.append(iterations / spent)


def do_step(kind: str, seconds: float) -> None:
    """One step as a thread or a process does it: host and native are CPU work (Python,
    C code without the GIL), the rest sleep."""
    if kind == "host":
        burn(seconds)
    elif kind == "native":
        crunch(seconds)
    elif kind in ("wait", "block"):
        time.sleep(seconds)
    else:
        raise ValueError(f"no real counterpart for step kind {kind!r}")


def timed_step(kind: str, seconds: float) -> float:
    """`do_step`, returning the seconds this thread waited for a CPU meanwhile."""
    began = cpu_wait()
    do_step(kind, seconds)
    return cpu_wait() - began


def play_job(steps: list[tuple[str, float]]) -> None:
    """An executor's job, on one of its worker threads: its steps one after another."""
    for kind, seconds in steps:
        do_step(kind, seconds)


def play_game(steps: Steps) -> tuple[float, float]:
    """Play one game's steps one after another.

    Returns `perf_counter()` at its end and the seconds it waited for a CPU.
    """
    began = cpu_wait()
    for kind, seconds in steps:
        do_step(kind, seconds)
    return time.perf_counter(), cpu_wait() - began


def cpu_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (NaN if unknown).

    Linux's scheduler statistics; elsewhere NaN, and the figure is not shown.
    """
    try:
        with open("/proc/thread-self/schedstat", "rb") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return math.nan


def pid_after(seconds: float) -> int:
    """Sleep, then name this process: used to see that every pool worker is up."""
    time.sleep(seconds)
    return os.getpid()


# --- games that share -----------------------------------------------------------------

#: What a queue holds: an item, or the marker that it is closed (one per consumer).
ITEM, CLOSED = 1, None
#: Operations, as plain tuples (`sim.verify.programs` makes them from the engine's plan):
#: ("timed", leaf, kind), ("acquire" | "release", leaf, shared, units), ("put" | "get",
#: leaf, shared), ("gather", leaf, count, width, child operations).
Ops = tuple[tuple, ...]
Rounds = tuple[tuple[float, ...], ...]


class Stuck(RuntimeError):
    """A real run waited longer than its patience: it would never have ended."""


@dataclass(frozen=True)
class Program:
    """A scenario whose games share, as plain data a worker process can unpickle."""

    names: tuple[str, ...]  # resources, then queues
    capacity: tuple[int, ...]  # a resource's units, a queue's maxsize (0: unbounded)
    resources: int  # names below this index are resources
    several: frozenset[int]  # resources some step asks several units of at once
    executors: frozenset[int]  # resources that are an executor's workers (`executors:`)
    ops: tuple[Ops, ...]  # per group
    puts: tuple[tuple[int, ...], ...]  # per group: the queues it puts into
    groups: tuple[int, ...]  # per game
    rounds: tuple[Rounds | None, ...]  # per game: seconds by leaf, round by round; None
    served: dict[int, Rounds]  # per consumer group: its rounds, in the order taken
    order: tuple[int, ...]  # games in the order they are handed out
    producers: tuple[int, ...]  # per queue index: games that put into it
    consumers: tuple[int, ...]  # per queue index: games that serve it
    patience: float = 60.0  # seconds any one wait may last

    @property
    def games(self) -> int:
        return len(self.groups)


class _Count:
    """An integer under a lock: the interface of `multiprocessing.Value`."""

    def __init__(self, value: int) -> None:
        self.value = value
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock


@dataclass
class Shared:
    """The real primitives a game's operations use, in one execution model."""

    program: Program
    semaphores: dict[int, Any]
    turns: dict[int, Any]  # locks in front of several-unit resources
    queues: dict[int, Any]
    left: dict[int, Any]  # per queue: producers still playing (a counter)
    taken: dict[int, Any]  # per consumer group: rounds taken (a counter)
    #: how a gather plays its children: given callables, returns when all are done
    fan_out: Callable[[list[Callable[[], None]]], None] = field(
        default_factory=lambda: one_after_another
    )

    @classmethod
    def threads(cls, program: Program) -> Shared:
        """`threading.Semaphore`, `threading.Lock` and `queue.Queue`."""
        import queue

        return cls(program, *_made(program, threading.Semaphore, threading.Lock, queue.Queue,
                                   _Count))  # fmt: skip

    @classmethod
    def processes(cls, program: Program, context: Any) -> Shared:
        """`multiprocessing`'s semaphores, locks, queues and values, of `context`."""
        return cls(program, *_made(program, context.Semaphore, context.Lock, context.Queue,
                                   lambda n: context.Value("i", n)))  # fmt: skip

    def acquire(self, index: int, units: int) -> None:
        semaphore, turn = self.semaphores[index], self.turns.get(index)
        if turn is None:
            self._wait(semaphore.acquire(timeout=self.program.patience), index)
            return
        self._wait(turn.acquire(timeout=self.program.patience), index)
        try:
            for _ in range(units):
                self._wait(semaphore.acquire(timeout=self.program.patience), index)
        finally:
            turn.release()

    def release(self, index: int, units: int) -> None:
        for _ in range(units):
            self.semaphores[index].release()

    def put(self, index: int, item: Any = ITEM) -> None:
        try:
            self.queues[index].put(item, timeout=self.program.patience)
        except Exception as error:  # queue.Full, whichever module raised it
            raise self._stuck(index) from error

    def get(self, index: int) -> bool:
        """Take an item: True, or False once the queue is closed."""
        try:
            return self.queues[index].get(timeout=self.program.patience) is not CLOSED
        except Exception as error:  # queue.Empty
            raise self._stuck(index) from error

    def next_round(self, group: int) -> tuple[float, ...]:
        counter = self.taken[group]
        with counter.get_lock():
            k = counter.value
            counter.value = k + 1
        return self.program.served[group][k]

    def game_ended(self, group: int) -> None:
        """A game ended: the last to put into a queue closes it for its consumers."""
        for index in self.program.puts[group]:
            counter = self.left[index]
            with counter.get_lock():
                counter.value -= 1
                last = counter.value == 0
            if last:  # by a thread of its own: the markers wait for room, the game does not
                threading.Thread(target=self._close, args=(index,), daemon=True).start()

    def _close(self, index: int) -> None:
        for _ in range(self.program.consumers[index]):
            self.put(index, CLOSED)

    def _wait(self, got: bool, index: int) -> None:
        if not got:
            raise self._stuck(index)

    def _stuck(self, index: int) -> Stuck:
        return Stuck(
            f"a game waited {self.program.patience:g} s for {self.program.names[index]}: "
            "the real run would never end"
        )


def _made(program: Program, semaphore: Any, lock: Any, queue: Any, count: Any) -> tuple:
    resources = range(program.resources)
    queues = range(program.resources, len(program.names))
    return (
        {i: semaphore(program.capacity[i]) for i in resources},
        {i: lock() for i in resources if i in program.several},
        {i: queue(program.capacity[i]) for i in queues},
        {i: count(program.producers[i]) for i in queues},
        {g: count(0) for g in program.served},
    )


def one_after_another(children: list[Callable[[], None]]) -> None:
    for child in children:
        child()


def play_shared(shared: Shared, game: int) -> tuple[float, float]:
    """Play one game to its end (a consumer: until its queue closes).

    Returns `perf_counter()` at its end and the seconds it waited for a CPU.
    """
    began = cpu_wait()
    program = shared.program
    group = program.groups[game]
    ops = program.ops[group]
    rounds = program.rounds[game]
    if rounds is not None:
        for durations in rounds:
            _play_ops(shared, ops, durations, 0)
    else:  # a consumer: each round begins by taking an item
        get, rest = ops[0], ops[1:]
        while shared.get(get[2]):
            _play_ops(shared, rest, shared.next_round(group), 0)
    end = time.perf_counter()
    shared.game_ended(group)
    return end, cpu_wait() - began


def _play_ops(shared: Shared, ops: Sequence[tuple], durations: Sequence[float], base: int) -> None:
    for op in ops:
        code = op[0]
        if code == "timed":
            do_step(op[2], durations[base + op[1]])
        elif code == "acquire":
            shared.acquire(op[2], op[3])
        elif code == "release":
            shared.release(op[2], op[3])
        elif code == "put":
            shared.put(op[2])
        elif code == "gather":
            _leaf, count, width, child = op[1:]
            first = base + op[1] + 1
            shared.fan_out(
                [
                    lambda at=first + i * width, ops=child: _play_ops(shared, ops, durations, at)
                    for i in range(count)
                ]
            )
        else:
            raise ValueError(f"no real counterpart for operation {code!r}")


#: A worker process's `Shared`, set by `share_in_worker` when the pool starts it.
_WORKER: list[Shared] = []


def worker_signals() -> None:
    """Pool initializer: a worker ends quietly when its pool is terminated (SIGTERM) and
    leaves Ctrl-C to its parent, whatever handlers it inherited from it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def share_in_worker(shared: Shared) -> None:
    """Pool initializer: keep the primitives the parent made (they cannot be sent later)."""
    worker_signals()
    _WORKER[:] = [shared]


def play_in_worker(game: int) -> tuple[float, float]:
    """`play_shared` in a pool worker, children one after another."""
    return play_shared(_WORKER[0], game)
