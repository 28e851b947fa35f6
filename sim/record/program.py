"""Run a Python program under the recording loop; keep its recordings as plain data.

The program runs in this very interpreter, as `python prog.py` or `python -m
module` would run it (`runpy`, with `sys.argv` set), with a recording event
loop policy installed, so `asyncio.run` inside it records without a change
to its code, and asyncio's primitives wrapped (`sim.record.primitives`) so
what each task waited on is noted. The raw recording is plain JSON, so `sim
record` can run the program in the user's own interpreter and read the result
in its own.

Stopping: Ctrl-C is the program's own (asyncio cancels its tasks, a loop of
blocking calls gets `KeyboardInterrupt`), and SIGTERM, unless the program
handles it itself, ends it as `SystemExit(143)` would: either way the program
unwinds, its event loop closes and what it ran is kept, where the default
SIGTERM would end the process with nothing written. A copy of the program
made by `os.fork` is not recorded: only the process that was started is.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import runpy
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from time import perf_counter
from typing import Any

from sim.record.calls import CallRecorder, RawCalls, calls_from_json, calls_to_json
from sim.record.loop import DEFAULT_THRESHOLD, STEP_FIELDS, Recording, RecordingPolicy
from sim.record.primitives import EVENT_FIELDS, Objects, install

__all__ = [
    "INTERRUPTED",
    "TERMINATED",
    "ProgramNotFound",
    "RawObject",
    "RawRecording",
    "RawTask",
    "ended_marker",
    "load_raw",
    "record_program",
    "save_raw",
]

#: Exit status of a program stopped by Ctrl-C; what its loop ran until then is kept.
INTERRUPTED = 130
#: Exit status of a program stopped by SIGTERM (128 + 15), kept likewise.
TERMINATED = 143


class ProgramNotFound(ValueError):
    """The script or module to record does not exist: nothing was run."""


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
    #: what it waited on: (step index, time, code, reference), see sim.record.primitives
    events: tuple[tuple[int, float, int, int], ...] = ()
    serial: int = -1  # its place among the loop's tasks: how gathers name their children


@dataclass(frozen=True)
class RawObject:
    """A semaphore, lock, queue or executor the program used."""

    kind: str
    name: str
    capacity: int  # units, or a queue's maxsize (0: unbounded)


@dataclass(frozen=True)
class RawRecording:
    """What one event loop of the program ran, and how long the program took."""

    program: str
    loop_s: float  # from the loop's first task to its close
    wall_s: float  # the whole program, interpreter start-up aside
    threshold: float
    tasks: tuple[RawTask, ...]
    loops: int = 1  # event loops the program ran; only the busiest is kept
    objects: dict[int, RawObject] = field(default_factory=dict)  # by number
    #: per gather, its children: ("task", serial), ("job", number) or ("other", -1)
    gathers: tuple[tuple[tuple[str, int], ...], ...] = ()
    #: per executor job: (executor's object number or -1, submitted, started, ended, cpu s);
    #: started is NaN for a job whose worker could not be watched (a process pool)
    jobs: tuple[tuple[int, float, float, float, float], ...] = ()
    #: a program that ran no event loop: its units of work (`sim.record.calls`)
    calls: RawCalls | None = None
    #: times the program forked outside an event loop: a copy that ran a loop of its own
    #: is not recorded, only the process that was started
    forks: int = 0


def record_program(
    target: str,
    args: list[str],
    *,
    module: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    tasks: tuple[str, ...] = (),
    on_end: Callable[[], None] | None = None,
) -> tuple[RawRecording | None, int]:
    """Run `target` (a script path, or a module name if `module`) recording it.

    Returns the busiest loop's recording, or, for a program that ran no event loop,
    its calls (`sim.record.calls`: `tasks` names its unit of work), and the program's
    exit status (`INTERRUPTED` when Ctrl-C stopped it: `asyncio.run` then cancels the
    main task and closes its loop, so the recording up to there is kept; `TERMINATED`
    for SIGTERM). A program that failed still gives what it ran until then. In a copy
    of the program made by `os.fork` that returns here, the recording is None: the
    process that was started is the one recorded.

    `on_end` is called as soon as the program has ended, before its recording is put
    together (in the process that was started only).

    Raises `ProgramNotFound` when there is no such script or module.
    """
    _find(target, module)
    sink: list[Recording] = []
    saved_policy, saved_argv, saved_path = asyncio.get_event_loop_policy(), sys.argv, sys.path[:]
    objects = Objects()
    policy = RecordingPolicy(sink, threshold, objects)
    calls = CallRecorder(tasks, os.path.abspath(target) if not module else target)
    policy.on_loop.append(calls.stop)  # an asyncio program: its loop records it
    asyncio.set_event_loop_policy(policy)
    undo = install(objects)
    sys.argv = [target, *args]
    if not module:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    status = 0
    started, forks = os.getpid(), _Forks()
    calls.install()
    sigterm = _sigterm_ends_the_program()
    began = perf_counter()
    try:
        if module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as leaving:
        status = _exit_status(leaving.code)
    except Exception as error:  # the program's own failure: its traceback, as Python shows it
        if _from_runpy(error):  # runpy found nothing to run (no such module, no __main__)
            raise ProgramNotFound(str(error)) from None
        _print_traceback(error)
        status = 1
    except KeyboardInterrupt:  # Ctrl-C ends the recording of a program that runs until stopped
        status = INTERRUPTED
    finally:
        _put_back(sigterm)
        if on_end is not None and os.getpid() == started:
            on_end()
        wall = perf_counter() - began
        forks.counting = False
        calls.uninstall()
        undo()
        asyncio.set_event_loop_policy(saved_policy)
        sys.argv, sys.path[:] = saved_argv, saved_path
    if os.getpid() != started:  # a forked copy of the program ended here: not recorded
        return None, status
    program = " ".join(["-m" if module else "", target, *args]).strip()
    raw = _raw(sink, program, wall, threshold)
    if raw is not None:
        return replace(raw, forks=forks.count), status
    return RawRecording(program, wall, wall, threshold, (), 0, calls=calls.result()), status


def _find(target: str, module: bool) -> None:
    """Raise `ProgramNotFound` unless the script exists (a module is looked up by runpy,
    as it imports it: looking first would import its packages before the recording)."""
    if not module and not os.path.exists(target):
        raise ProgramNotFound(f"no such file: {target}")


def _from_runpy(error: Exception) -> bool:
    """runpy's own ImportError: what to run was not found (no such module, a folder or
    package without `__main__`, a package that failed to import while runpy looked in
    it), before any of the program ran."""
    if not isinstance(error, ImportError):
        return False
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals.get("__name__") == "runpy"


class _Forks:
    """Counts the program's forks made outside an event loop (`os.fork` before
    `asyncio.run`): each copy may run a loop of its own, which is not recorded. A pool's
    workers, forked while the loop runs, are the executor jobs it already times."""

    def __init__(self) -> None:
        self.count = 0
        self.counting = True
        os.register_at_fork(before=self._forking)  # cannot be undone: `counting` ends it

    def _forking(self) -> None:
        if self.counting and asyncio.events._get_running_loop() is None:
            self.count += 1


def _sigterm_ends_the_program() -> Any:
    """SIGTERM, where nothing else handles it, raises `SystemExit(TERMINATED)` in the
    program, which unwinds like any exit: asyncio closes its loop, and the recording
    is kept. The handler it replaced is returned (None: none was replaced)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _terminated)


def _terminated(_signum: int, _frame: Any) -> None:
    raise SystemExit(TERMINATED)


def _put_back(sigterm: Any) -> None:
    """SIGTERM as it was before the program ran, unless the program changed it."""
    if sigterm is not None and signal.getsignal(signal.SIGTERM) is _terminated:
        signal.signal(signal.SIGTERM, sigterm)


def ended_marker(raw: Path) -> Path:
    """The file `python -m sim.record --raw RAW` makes once the program has ended: from
    then on it only writes the recording, and Ctrl-C and SIGTERM no longer stop it."""
    return raw.with_name(raw.name + ".ended")


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
            events=tuple(
                (int(step), time - origin, int(code), int(ref))
                for step, time, code, ref in _rows(life.events, EVENT_FIELDS)
            ),
            serial=life.serial,
        )
        for life in lives
        if not life.internal
    )
    jobs = tuple(
        (int(obj) if obj == obj else -1, sub - origin, start - origin, end - origin, cpu)
        for obj, sub, start, end, cpu in busiest.jobs
    )
    used = {int(ref) for t in tasks for _, _, code, ref in t.events if code in _OBJECT_EVENTS}
    used |= {obj for obj, *_ in jobs if obj >= 0}
    objects = {
        n: RawObject(t.kind, t.name, t.capacity)
        for n, t in enumerate(busiest.objects.tracked)
        if n in used
    }
    return RawRecording(
        program,
        busiest.ended - origin,
        wall,
        threshold,
        tasks,
        len(sink),
        objects,
        tuple(busiest.gathers),
        jobs,
    )


#: Event codes whose reference is an object's number (not a gather's or a job's).
_OBJECT_EVENTS = frozenset(range(1, 8))


def _rows(flat, width: int = STEP_FIELDS) -> zip:
    """Flat numbers as rows of `width` (per step: STEP_FIELDS)."""
    return zip(*[iter(flat)] * width, strict=True)


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
                "events": [number for event in t.events for number in event],
                "serial": t.serial,
            }
            for t in recording.tasks
        ],
        "objects": {str(n): [o.kind, o.name, o.capacity] for n, o in recording.objects.items()},
        "gathers": [[list(child) for child in children] for children in recording.gathers],
        "jobs": [[_finite(x) for x in job] for job in recording.jobs],
        "calls": None if recording.calls is None else calls_to_json(recording.calls),
        "forks": recording.forks,
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
            events=tuple(
                (int(s), time, int(c), int(r))
                for s, time, c, r in _rows(t.get("events", []), EVENT_FIELDS)
            ),
            serial=t.get("serial", -1),
        )
        for t in data["tasks"]
    )
    return RawRecording(
        data["program"],
        data["loop_s"],
        data["wall_s"],
        data["threshold"],
        tasks,
        data["loops"],
        {int(n): RawObject(*o) for n, o in data.get("objects", {}).items()},
        tuple(
            tuple((kind, int(ref)) for kind, ref in children)
            for children in data.get("gathers", [])
        ),
        tuple(
            (int(obj), *(math.nan if x is None else x for x in rest))
            for obj, *rest in data.get("jobs", [])
        ),
        None if data.get("calls") is None else calls_from_json(data["calls"]),
        data.get("forks", 0),
    )


def _finite(x: float) -> float | None:
    """JSON has no NaN: an unknown time is null."""
    return None if x != x else x


def _print_traceback(error: BaseException) -> None:
    """The traceback from the program's first frame on: the recorder's own frames and
    runpy's, which ran it, are not the user's."""
    here = os.path.dirname(os.path.abspath(__file__))
    tb = error.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename.startswith((here, "<frozen"))
        or tb.tb_frame.f_code.co_filename.endswith("runpy.py")
    ):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)
