"""A recording event loop: asyncio's own loop, timing every step of every task.

Why a subclass of the standard loop and not a loop of our own: asyncio sends
every run of a task — its first step and each wake-up after an `await` —
through `loop.call_soon` (the C `Task` too, which looks the method up on the
loop), and every timer through `loop.call_at`. Overriding those two methods
sees every step while the program runs on the very loop it would use anyway.

Each task step is wrapped with `time.perf_counter` (wall) and
`getrusage(RUSAGE_THREAD)` (CPU time and voluntary context switches of the
loop's thread). Per step we keep:

- `ready`: when the task could run again — the `call_soon` that queued it,
  or, when a timer or another thread woke it, the moment that was due, so
  time the loop spent busy elsewhere is not mistaken for the task's own wait;
  when the timer is the task's own, set in the step before (`asyncio.sleep`)
  with less than 1 % of its delay left of that step, the delay after the
  step's end: the wait written is then the delay the program asked for, not
  it less the few varying microseconds of asyncio ending the step (which,
  drawn apart from the step, would add noise that can tip a busy loop's order);
- `start`, `end`: the step itself, the task's coroutine holding the loop;
- for a step at least `threshold` long, `cpu`, the CPU seconds it used, and
  `switches`, the times the thread gave up the CPU of its own accord: a long
  step with little CPU and such a switch blocked (`time.sleep`, a
  synchronous socket); one with little CPU and none was only preempted by
  another process. (Shorter steps are taken as all CPU, no switch: the end
  snapshot is skipped for them, as each costs a system call.)
- `joined`: the task was woken by another task's work (an awaited task, a
  gather, a queue) rather than by time passing or I/O: a dependency, not a wait.

What the task waited on is noted beside its steps as events (see
`sim.record.primitives`): semaphores, locks and queues from their wrapped
methods; `gather` from its wrapper, its children kept in `Recording.gathers`;
`run_in_executor` here, each job timed in its worker thread (`Recording.jobs`).

Standard library only: `sim record` runs it inside the user's interpreter.
"""

from __future__ import annotations

import asyncio
import math
import os
from array import array
from asyncio import tasks
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from resource import RUSAGE_THREAD, getrusage
from time import perf_counter, thread_time
from typing import Any

from sim.record.primitives import GATHER, SUBMIT, Objects

__all__ = [
    "DEFAULT_THRESHOLD",
    "JOB_FIELDS",
    "STEP_FIELDS",
    "Recording",
    "RecordingLoop",
    "RecordingPolicy",
    "TaskLife",
]

#: Steps at least this long are flagged as likely blocking (asyncio's slow-callback default: 0.1 s).
DEFAULT_THRESHOLD = 0.05

_TASK_TYPES = tuple({tasks.Task, tasks._PyTask})
#: A task's own step callbacks: the C Task's wake-up (its first step and `yield` are a
#: `TaskStepMethWrapper`), the Python Task's methods. Any other method of a task that a
#: program queues (`loop.call_soon(task.cancel)`) is not a step of it.
_STEP_NAMES = frozenset({"task_wakeup", "__step", "__wakeup"})
_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)

#: A task's own timer is written as the delay it asked when less than this share of the
#: delay was left of the step that set it.
_STEP_LEFT = 0.01
#: Numbers kept per step, in this order, in a task's flat `steps` array: ready, start, end,
#: cpu seconds, joined (1.0: woken by another task's work), voluntary switches.
STEP_FIELDS = 6
#: Numbers kept per executor job: executor's object number, submitted, started and ended
#: (NaN when its worker cannot be watched: a process pool), CPU seconds of its thread.
JOB_FIELDS = 5


class TaskLife:
    """One task from its creation to its end: which coroutine, and its steps.

    It is also what the loop runs for the task's next step (`__call__`): holding the
    pending step in its own slots rather than in a fresh argument tuple and bound method
    per step leaves the garbage collector nothing new to walk (a task has at most one
    step pending at a time; should a second come, it is queued with its own arguments).
    """

    __slots__ = (
        "args",
        "born",
        "callback",
        "events",
        "file",
        "function",
        "internal",
        "joined",
        "line",
        "long_steps",
        "loop",
        "name",
        "ready",
        "serial",
        "steps",
        "task",
    )

    def __init__(self, task: asyncio.Task, born: float, loop: RecordingLoop) -> None:
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        self.name: str = task.get_name()
        self.function: str = code.co_qualname if code else type(coro).__qualname__
        self.file: str = code.co_filename if code else ""
        self.line: int = code.co_firstlineno if code else 0
        self.internal = self.file.startswith(_ASYNCIO_DIR)  # asyncio's own: shutdown helpers
        self.born = born
        #: STEP_FIELDS numbers per step, flat: an array of doubles allocates no object per
        #: step, so recording 10⁵ steps adds nothing for the garbage collector to walk.
        self.steps = array("d")
        #: what it waited on, flat, EVENT_FIELDS numbers an event (sim.record.primitives)
        self.events = array("d")
        self.serial = len(loop.recording.lives)  # its place among the loop's tasks
        #: index of the step → "file:line (function)" where the task suspended after it
        self.long_steps: dict[int, str] = {}
        self.task: asyncio.Task | None = task  # dropped when the task is done
        self.loop = loop
        self.callback: Any = None  # the pending step: asyncio's callback, its args, …
        self.args: tuple = ()
        self.ready = 0.0
        self.joined = False

    def __call__(self) -> None:
        """Run the pending step."""
        callback, self.callback = self.callback, None
        _run_step(self, callback, self.args, self.ready, self.joined)


def _run_step(life: TaskLife, callback: Any, args: tuple, ready: float, joined: bool) -> None:
    """Run one step of the task, timed. The loop's hot path: locals only."""
    loop, task = life.loop, life.task
    loop._running = task
    before = getrusage(RUSAGE_THREAD)
    start = perf_counter()
    try:
        callback(*args)
    finally:
        end = perf_counter()
        loop._running = None
        if end - start < loop.threshold:  # the usual case: CPU and switches not asked for
            life.steps.extend((ready, start, end, end - start, joined, 0.0))
        else:
            after = getrusage(RUSAGE_THREAD)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            switches = after.ru_nvcsw - before.ru_nvcsw
            life.steps.extend((ready, start, end, cpu, joined, switches))
            life.long_steps[len(life.steps) // STEP_FIELDS - 1] = _suspended_at(task)
        if task.done():
            del loop._lives[task]
            life.task = life.loop = None


class Recording:
    """Everything one loop ran, between its first task's creation and its close."""

    def __init__(self, objects: Objects | None = None) -> None:
        self.began = perf_counter()
        self.ended = self.began
        self.lives: list[TaskLife] = []
        self.objects = objects if objects is not None else Objects()
        #: per gather, its children: ("task", serial), ("job", number) or ("other", -1)
        self.gathers: list[tuple[tuple[str, int], ...]] = []
        #: per executor job, JOB_FIELDS numbers (a list: its worker thread fills it in)
        self.jobs: list[list[float]] = []


class RecordingLoop(asyncio.SelectorEventLoop):
    """The standard selector loop, timing each task step (see the module docstring)."""

    threshold = DEFAULT_THRESHOLD
    sink: list[Recording] | None = None  # where a closed loop leaves its recording
    objects: Objects | None = None  # the primitives' registry of the recorded program

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recording = Recording(self.objects)
        self._lives: dict[asyncio.Task, TaskLife] = {}
        self._job_of: dict[asyncio.Future, int] = {}  # executor futures → job number
        self._running: asyncio.Task | None = None  # the task whose work is running now
        self._due: float | None = None  # when the running timer or thread event was due
        #: the running timer's setter (its life and steps then), and the delay it asked
        self._asked: tuple[TaskLife | None, int, float] = (None, 0, 0.0)
        self._delay: float | None = None  # the delay of the `call_later` being made
        self._offset = perf_counter() - self.time()  # loop clock → perf_counter

    # Hot path: called for every step; written plainly, attribute look-ups kept few, and
    # straight to `_call_soon` (what `call_soon` does after its checks) unless debugging.
    def call_soon(self, callback: Any, *args: Any, context: Any = None) -> asyncio.Handle:
        owner = getattr(callback, "__self__", None)
        running = self._running
        if isinstance(owner, _TASK_TYPES) and (
            type(callback).__name__ == "TaskStepMethWrapper"
            or getattr(callback, "__name__", None) in _STEP_NAMES
        ):
            now = perf_counter()
            life = self._lives.get(owner)
            joined = running is not None and running is not owner
            if life is None:  # its first step: whoever created it, it was not waiting
                life = self._lives[owner] = TaskLife(owner, now, self)
                self.recording.lives.append(life)
                joined = False
            due = self._due
            ready = due if due is not None and due < now else now
            setter, steps, asked = self._asked
            if due is not None and setter is life and len(life.steps) == steps + STEP_FIELDS:
                after = life.steps[-4] + asked  # its own timer: the delay asked, after the step
                if after - due < asked * _STEP_LEFT:  # (it may be a few µs past now)
                    ready = after
            if life.callback is None:
                life.callback, life.args, life.ready, life.joined = callback, args, ready, joined
                callback, args = life, ()
            else:  # a second step pending at once: not seen in CPython's Task, but kept apart
                callback, args = partial(_run_step, life, callback, args, ready, joined), ()
        elif running is not None:
            callback, args = self._caused, (running, callback, args)
        if self._debug or self._closed:
            return super().call_soon(callback, *args, context=context)
        return self._call_soon(callback, args, context)

    def call_later(self, delay: float, callback: Any, *args: Any, context: Any = None) -> Any:
        self._delay = delay  # what `asyncio.sleep` asked for, read by `call_at`
        try:
            return super().call_later(delay, callback, *args, context=context)
        finally:
            self._delay = None

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> Any:
        due = when + self._offset
        life = self._lives.get(self._running) if self._running is not None else None
        asked = None
        if life is not None:
            delay = self._delay if self._delay is not None else when - self.time()
            asked = (life, len(life.steps), delay)
        return super().call_at(when, self._timer, due, callback, args, asked, context=context)

    def call_soon_threadsafe(self, callback: Any, *args: Any, context: Any = None) -> Any:
        return super().call_soon_threadsafe(
            self._timer, perf_counter(), callback, args, context=context
        )

    def _caused(self, cause: asyncio.Task, callback: Any, args: tuple) -> None:
        """A callback queued by a task's step (a done callback): what it wakes, that task woke."""
        self._running = cause
        try:
            callback(*args)
        finally:
            self._running = None

    def _timer(self, due: float, callback: Any, args: tuple, asked: tuple | None = None) -> None:
        """A timer or another thread's callback: what it wakes was ready at `due`; a
        timer a task set (`asked`: its life, its steps then, the delay)."""
        self._due = due
        if asked is not None:
            self._asked = asked
        try:
            callback(*args)
        finally:
            self._due = None
            self._asked = (None, 0, 0.0)

    def _note(self, code: int, reference: int) -> None:
        """An event of the running task's current step (see `sim.record.primitives`)."""
        task = self._running
        life = self._lives.get(task) if task is not None else None
        if life is not None:
            step = len(life.steps) // STEP_FIELDS
            life.events.extend((step, perf_counter(), code, reference))

    def _gathered(self, children: Any) -> None:
        """`asyncio.gather` made a gathering of `children` in the running task."""
        refs = []
        for child in children:
            life = self._lives.get(child)
            if life is not None:
                refs.append(("task", life.serial))
            elif child in self._job_of:
                refs.append(("job", self._job_of[child]))
            else:
                refs.append(("other", -1))
        self.recording.gathers.append(tuple(refs))
        self._note(GATHER, len(self.recording.gathers) - 1)

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> asyncio.Future:
        """As asyncio's, the job noted on the task that submitted it: a thread pool's job
        is timed in its worker thread (start, end, CPU); another executor's only ends."""
        job = [math.nan, perf_counter(), math.nan, math.nan, 0.0]
        watched = executor is None or isinstance(executor, ThreadPoolExecutor)
        call = partial(_timed_job, job, func) if watched else func
        future = super().run_in_executor(executor, call, *args)
        used = executor if executor is not None else self._default_executor
        objects = self.recording.objects
        workers = getattr(used, "_max_workers", None)
        if isinstance(workers, int) and workers >= 1:
            tracked = objects.of(used, "executor", lambda: workers)
            default = "default_executor" if used is self._default_executor else ""
            job[0] = objects.used(tracked, default)
        if not watched:
            future.add_done_callback(lambda _: job.__setitem__(3, perf_counter()))
        number = len(self.recording.jobs)
        self.recording.jobs.append(job)
        self._job_of[future] = number
        self._note(SUBMIT, number)
        return future

    def close(self) -> None:
        if not self.is_closed():
            self.recording.ended = perf_counter()
            if self.sink is not None:
                self.sink.append(self.recording)
        super().close()


class RecordingPolicy(asyncio.DefaultEventLoopPolicy):
    """Makes `asyncio.run` and `new_event_loop` build recording loops that report to `sink`."""

    def __init__(
        self,
        sink: list[Recording],
        threshold: float = DEFAULT_THRESHOLD,
        objects: Objects | None = None,
    ) -> None:
        super().__init__()
        fields = {"sink": sink, "threshold": threshold, "objects": objects}
        self._loop_factory = type("RecordingLoop", (RecordingLoop,), fields)
        self.on_loop: list[Any] = []  # called when the program makes its first loop

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        for call in self.on_loop:
            call()
        return super().new_event_loop()


def _timed_job(job: list[float], func: Any, *args: Any) -> Any:
    """Run an executor job in its worker thread, noting when it ran and its CPU time."""
    job[2] = perf_counter()
    cpu = thread_time()
    try:
        return func(*args)
    finally:
        job[4] = thread_time() - cpu
        job[3] = perf_counter()


def _suspended_at(task: asyncio.Task) -> str:
    """`file:line (function)` of the innermost await of the program's own code the task
    now waits at (asyncio's frames skipped), or its coroutine's first line if it ended."""
    coro = task.get_coro()
    found = None
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        if not frame.f_code.co_filename.startswith(_ASYNCIO_DIR):
            found = (frame.f_code, frame.f_lineno)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    if found is None:
        code = getattr(task.get_coro(), "cr_code", None)
        if code is None:
            return "?"
        found = (code, code.co_firstlineno)
    code, line = found
    return f"{code.co_filename}:{line} ({code.co_qualname})"
