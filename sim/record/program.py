"""Run a Python program under the recording loop; keep its recordings as plain data.

The program runs in this very interpreter, as `python prog.py` or `python -m
module` would run it (`runpy`, with `sys.argv` set), with a recording event
loop policy installed, so `asyncio.run` inside it records without a change
to its code. The raw recording is plain JSON, so `sim record` can run the
program in the user's own interpreter and read the result in its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import runpy
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from sim.record.loop import DEFAULT_THRESHOLD, STEP_FIELDS, Recording, RecordingPolicy

__all__ = ["INTERRUPTED", "RawRecording", "RawTask", "load_raw", "record_program", "save_raw"]

#: Exit status of a program stopped by Ctrl-C; what its loop ran until then is kept.
INTERRUPTED = 130


@dataclass(frozen=True)
class RawTask:
    """One task's life, its times in seconds from the start of its loop."""

    name: str
    function: str
    file: str
    line: int
    born: float
    steps: tuple[tuple[float, float, float, float, bool, int], ...]
    long_steps: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RawRecording:
    """What one event loop of the program ran, and how long the program took."""

    program: str
    loop_s: float  # from the loop's first task to its close
    wall_s: float  # the whole program, interpreter start-up aside
    threshold: float
    tasks: tuple[RawTask, ...]
    loops: int = 1  # event loops the program ran; only the busiest is kept


def record_program(
    target: str,
    args: list[str],
    *,
    module: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[RawRecording | None, int]:
    """Run `target` (a script path, or a module name if `module`) recording its loops.

    Returns the busiest loop's recording (None if the program ran none) and the
    program's exit status (`INTERRUPTED` when Ctrl-C stopped it: `asyncio.run` then
    cancels the main task and closes its loop, so the recording up to there is kept).
    """
    sink: list[Recording] = []
    saved_policy, saved_argv, saved_path = asyncio.get_event_loop_policy(), sys.argv, sys.path[:]
    asyncio.set_event_loop_policy(RecordingPolicy(sink, threshold))
    sys.argv = [target, *args]
    if not module:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    status = 0
    began = perf_counter()
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as leaving:
        status = _exit_status(leaving.code)
    except Exception:  # the program's own failure: show its traceback, as Python would
        traceback.print_exc()
        status = 1
    except KeyboardInterrupt:  # Ctrl-C ends the recording of a program that runs until stopped
        status = INTERRUPTED
    finally:
        wall = perf_counter() - began
        asyncio.set_event_loop_policy(saved_policy)
        sys.argv, sys.path[:] = saved_argv, saved_path
    program = " ".join(["-m" if module else "", target, *args]).strip()
    return _raw(sink, program, wall, threshold), status


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _raw(sink: list[Recording], program: str, wall: float, threshold: float) -> RawRecording | None:
    """The loop that ran the most task time, its times shifted to start at 0."""
    if not sink:
        return None
    busiest = max(sink, key=_task_time)
    lives = [life for life in busiest.lives if life.steps]
    origin = min((life.born for life in lives), default=busiest.began)
    tasks = tuple(
        RawTask(
            name=life.name,
            function=life.function,
            file=life.file,
            line=life.line,
            born=life.born - origin,
            steps=tuple(
                (r - origin, s - origin, e - origin, cpu, bool(joined), int(switches))
                for r, s, e, cpu, joined, switches in _rows(life.steps)
            ),
            long_steps=dict(life.long_steps),
        )
        for life in lives
        if not life.internal
    )
    return RawRecording(program, busiest.ended - origin, wall, threshold, tasks, len(sink))


def _rows(flat) -> zip:
    """The flat per-step numbers as rows of STEP_FIELDS."""
    return zip(*[iter(flat)] * STEP_FIELDS, strict=True)


def _task_time(recording: Recording) -> float:
    return sum(row[2] - row[1] for life in recording.lives for row in _rows(life.steps))


def save_raw(recording: RawRecording, path: Path) -> None:
    """Write the recording as JSON, atomically (temporary file, then rename)."""
    data = {
        "program": recording.program,
        "loop_s": recording.loop_s,
        "wall_s": recording.wall_s,
        "threshold": recording.threshold,
        "loops": recording.loops,
        "tasks": [
            {
                "name": t.name,
                "function": t.function,
                "file": t.file,
                "line": t.line,
                "born": t.born,
                "steps": [
                    number for step in t.steps for number in step
                ],  # flat, STEP_FIELDS a step
                "long_steps": {str(k): v for k, v in t.long_steps.items()},
            }
            for t in recording.tasks
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(data))  # dumps: the C encoder; dump streams in Python
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def load_raw(path: Path) -> RawRecording:
    """Read what `save_raw` wrote."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tasks = tuple(
        RawTask(
            name=t["name"],
            function=t["function"],
            file=t["file"],
            line=t["line"],
            born=t["born"],
            steps=tuple(
                (r, s, e, cpu, bool(j), int(n)) for r, s, e, cpu, j, n in _rows(t["steps"])
            ),
            long_steps={int(k): v for k, v in t["long_steps"].items()},
        )
        for t in data["tasks"]
    )
    return RawRecording(
        data["program"], data["loop_s"], data["wall_s"], data["threshold"], tasks, data["loops"]
    )
