"""What a step does when it is played for real, and one game played start to end.

Kept free of the rest of `sim` (no numpy, no pydantic) because worker
processes import it to play games: a spawned worker loads this module only.

- `host`: pure-Python CPU work until the running thread has used the step's
  duration of its *own* CPU time (`time.thread_time`), so time spent waiting
  for the GIL or for a CPU does not count as work done.
- `wait` and `block`: `time.sleep`, which holds no CPU and releases the GIL.
  (Under cooperative, where they differ, the asyncio player handles them.)

`cpu_wait` tells how long a thread was ready to run but had no CPU, because
other work on the machine had them: the part of a real run that load, not
the execution model, is to blame for.
"""

from __future__ import annotations

import math
import os
import time

__all__ = ["burn", "cpu_wait", "do_step", "pid_after", "play_game", "timed_step"]

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


def do_step(kind: str, seconds: float) -> None:
    """One step as a thread or a process does it: host is CPU work, the rest sleep."""
    if kind == "host":
        burn(seconds)
    elif kind in ("wait", "block"):
        time.sleep(seconds)
    else:
        raise ValueError(f"no real counterpart for step kind {kind!r}")


def timed_step(kind: str, seconds: float) -> float:
    """`do_step`, returning the seconds this thread waited for a CPU meanwhile."""
    began = cpu_wait()
    do_step(kind, seconds)
    return cpu_wait() - began


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
