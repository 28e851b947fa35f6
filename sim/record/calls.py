"""Recording a program that is not asyncio: its units of work, and what their time was.

A synchronous program has no tasks, so its units of work are calls: every
outermost call of the function named with `--task` is a game, or, without
one, of the function chosen afterwards (`choose_task`). A threaded program's
units are its threads' runs and each work item a `ThreadPoolExecutor` runs.
What is left of the main thread is a game of its own, the "main" part.

Inside a game the time is told apart with the interpreter's own hooks, which see
each call of a C function, plus each thread's CPU clock (`time.thread_time`). The
hook is `sys.monitoring` where the Python has it (3.12 and later: every thread, the
events `sys.setprofile` is made of there, and CPython keeps its specialized
bytecodes), else `sys.setprofile` (every thread through `threading.setprofile`):

- a C call that can wait (`time.sleep`, socket and SSL reads and writes,
  `select` and `poll`, `os.read`, `os.waitpid`, file reads; a method a class
  inherits from one, as `socket.socket` does `recv`) is timed on both clocks;
  the part of it off the CPU is a `wait` step, what it spent on the CPU joins
  the host step around it. The hook sees the call return only once the thread
  holds the GIL again, so that part holds the wait for the GIL too, which a
  schedule plays again. `time.sleep` is wrapped so its own length is known: a
  thread that slept 30 ms and then waited for the GIL waited 30 ms. For the
  others the GIL wait is estimated once the program ends (`_gil_waits`: the
  middle of what every thread's stamps allow) and taken off; a call during
  which the thread never gave up its CPU of its own accord (no voluntary
  context switch) did not wait at all: another process had the CPU;
- a C call of a library that releases the GIL while it computes (hashlib,
  zlib, bz2, lzma, numpy's functions) is a `native` step of its CPU time,
  where the format has that kind (else host); its time off the CPU (the CPUs
  shared with other threads, the GIL taken back) is no step;
- any other C call that took `LONG_CALL` or more of wall time is timed too
  (its CPU estimated from the thread's clock since the step before), its CPU
  host: if the thread gave up the CPU of its own accord since then (a
  voluntary context switch), an unknown extension waited, and the rest is a
  wait (less its estimated GIL wait); if not, it computed (`sum` of a long
  range holds the GIL) or another process had the CPU, and the rest is no step;
- the program's own locks and semaphores note when a thread holds them (a
  `with` block on a resource of their units), its own `queue.Queue`s each item
  put and taken (`put` steps, and rounds that begin by taking one); waiting
  for them, or for a condition, a future or `Thread.join`, is no step: the
  schedule makes that wait again;
- the rest is Python on the CPU: `host` steps, from the thread's CPU clock
  where both ends were stamped (time waiting for the GIL is not written), else
  from the wall clock. The hook's costs, measured once the program ends, are taken off
  each host step: per profiling event in it, and the slowdown of every bytecode
  while a hook is set (CPython's specialized instructions are then off).

While the program runs, the switch interval is longer by that slowdown (measured
briefly before it starts), so its threads hand the GIL over after as much of their
own work as unhooked: at the program's 5 ms, hooked Python 1.4× slower made forced
switches in 60–70 % of the threaded fetcher's 2 ms steps instead of 0.5–2 %, and each
cost the thread stopped about 0.1 ms of CPU (its caches refill) that a host step kept.

Standard library only: this runs inside the user's interpreter.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import functools
import inspect
import math
import os
import sys
import sysconfig
import threading
import time
import weakref
from dataclasses import dataclass, field
from resource import RUSAGE_THREAD, getrusage
from time import perf_counter, thread_time
from types import BuiltinFunctionType, CodeType, FrameType, MethodDescriptorType, ModuleType
from typing import Any

from sim.record.primitives import Objects

__all__ = [
    "LONG_CALL",
    "CallRecorder",
    "RawCalls",
    "RawGame",
    "TaskChoice",
    "calls_from_json",
    "calls_to_json",
]

#: A C call at least this long is timed even when unknown (an extension that waits).
LONG_CALL = 1e-3
#: Time off the CPU in a call below this is not a wait: an answer already there.
MIN_WAIT = 50e-6
#: Iterations of each loop that measures the hook's slowdown before the program runs
#: (about 0.1 s in all): enough to stretch the switch interval by it.
STRETCH_SIZE = 40_000
#: A CPU-only unit of work is found by sampling the stack this often.
SAMPLE = 1e-3
#: Calls this near the bottom of a thread's stack have their CPU clock read: a unit of
#: work chosen after the run is one of them, and its steps' ends then exclude the time the
#: thread was not running (another process, the GIL).
STAMPED = 8

WAIT, NATIVE, JOIN, OTHER = 1, 2, 3, 4
#: Not calls: a lock or semaphore of the program's taken (`HELD`) and given back (`LET`),
#: an item put into (`PUT`) and taken from (`GOT`) a queue of the program's, noted in the
#: same list as the timed calls, with the object's number where `slept` is.
HELD, LET, PUT, GOT = 5, 6, 7, 8

# (owner, names): owner is a module's name, or "module.Type" of a method's object
_WAITING = {
    "time": {"sleep"},
    "select": {"select"},
    "select.poll": {"poll"},
    "select.epoll": {"poll"},
    "select.devpoll": {"poll"},
    "select.kqueue": {"control"},
    "_socket.socket": {
        "accept", "connect", "connect_ex", "recv", "recvfrom", "recv_into", "recvfrom_into",
        "recvmsg", "send", "sendall", "sendto", "sendmsg",
    },
    "_ssl._SSLSocket": {"read", "write", "do_handshake"},
    "posix": {"read", "readv", "pread", "waitpid", "wait", "wait3", "wait4", "waitid"},
    "_io.FileIO": {"read", "readinto", "readall"},
    "_io.BufferedReader": {"read", "readinto", "read1", "readline", "peek"},
    "_io.TextIOWrapper": {"read", "readline"},
}  # fmt: skip
_JOINING = {
    "_thread.lock": {"acquire", "acquire_lock"},
    "_thread.RLock": {"acquire"},
    "_queue.SimpleQueue": {"get"},
}
_NATIVE_MODULES = ("_hashlib", "_sha", "_md5", "_blake2", "zlib", "_bz2", "_lzma", "numpy")


@dataclass
class RawGame:
    """One unit of work: its function, thread, times and steps: `[kind, seconds]`, or
    `["with", lock number, steps]` for the time a lock of the program's was held."""

    function: str
    where: str
    thread: int
    start: float
    end: float
    steps: list[Any] = field(default_factory=list)
    pool: int = -1  # the executor that ran it, or -1
    role: str = "task"  # task, item (a pool's work item), thread, main


@dataclass
class TaskChoice:
    """Which function the games are calls of, and how it was chosen."""

    name: str  # qualified name, or "" when the program is one game
    given: bool
    candidates: list[tuple[str, int, float, float]]  # (name, calls, seconds, waiting s)
    unknown: list[str] = field(default_factory=list)  # given names that name nothing


@dataclass
class RawCalls:
    """What a non-asyncio program ran, as games."""

    games: list[RawGame]
    task: TaskChoice | None
    pools: dict[int, int]  # executor number → max_workers
    threads: int  # threads that ran Python, the main one included
    notes: list[str]
    overhead_s: float  # the hook's cost per profiling event, taken off host steps
    slowdown: float  # how much slower Python ran hooked: host steps are divided by it
    calls: list[tuple[str, int]]  # the most called functions of the program
    #: the program's locks, semaphores and queues used in a game: number → (kind, name,
    #: capacity: a lock's 1, a semaphore's value, a queue's maxsize)
    objects: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    hook: str = "sys.setprofile"  # or "sys.monitoring"


class _Entry:
    """A Python call on a thread's stack."""

    __slots__ = ("code", "cpu", "events", "seen", "start")

    def __init__(self, code: CodeType, start: float) -> None:
        self.code, self.start, self.seen = code, start, False
        self.cpu = -1.0
        self.events = 0


class _Thread:
    """A thread's stack, its timed calls and its games."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.stack: list[_Entry] = []
        # per timed C call: (t0, c0, t1, c1, kind, events before it, slept, voluntary
        # context switches in it: the times it slept, in the call or waiting for the GIL)
        self.timed: list[tuple[float, float, float, float, int, int, float, int]] = []
        self.invocations: list[tuple[CodeType, float, float, float, float, int, int]] = []
        self.events = 0
        self.c_start = 0.0
        self.c_cpu = -1.0
        self.c_kind = 0
        self.c_switched = 0
        self.slept = -1.0
        # voluntary context switches of the thread at its last stamp (made on the thread)
        self.switched = getrusage(RUSAGE_THREAD).ru_nvcsw
        self.sampled = 0.0
        # when it was first and last seen running Python: the ends of its Python spans
        self.born = self.last = perf_counter()
        # per timed call (by its place in `timed`): the part of its time off the CPU that
        # was a wait for the GIL (`_gil_waits`), estimated once the program has ended
        self.gil_waits: dict[int, float] = {}
        # per thread run or work item: role, start, cpu, pool, name, where, events, and the
        # same three at its end
        self.marks: list[tuple] = []


class CallRecorder:
    """The profiling hook and the wrappers; `install`, run the program, `uninstall`."""

    def __init__(self, tasks: tuple[str, ...] = (), program: str = "") -> None:
        self.task_names = tasks
        self.program = program  # the script's path, or the module run: where "main" is
        self.threads: dict[int, _Thread] = {}
        self.counts: dict[CodeType, int] = {}
        self.kinds: dict[tuple[Any, str], int] = {}
        self.task_codes: set[CodeType] = set()
        self.unmatched: set[CodeType] = set()
        self.pools: dict[int, int] = {}
        self.forks = 0
        self.processes = 0
        self.objects = Objects()  # the program's locks, semaphores and queues, as it named them
        self.active = False
        self.overhead = 0.0
        self.slowdown = 1.0
        self.began = 0.0
        self.interval = sys.getswitchinterval()  # the program's own switch interval
        self.stretch = 1.0  # how much longer it was while recording: the hook's slowdown
        self.hook = "sys.setprofile"  # or "sys.monitoring": what `install` set
        self._tool: int | None = None  # the `sys.monitoring` tool id in use
        self._undo: list[Any] = []
        self._lock = threading.Lock()

    # --- the hook ---------------------------------------------------------------------

    def _state(self) -> _Thread:
        ident = threading.get_ident()
        state = self.threads.get(ident)
        if state is None:
            with self._lock:
                state = self.threads[ident] = _Thread(len(self.threads))
        return state

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        """The hook through `sys.setprofile` (every thread, through `threading.setprofile`)."""
        if not self.active:
            sys.setprofile(None)
            return
        state = self.threads.get(threading.get_ident()) or self._state()
        state.events += 1
        if event == "call":
            self._entered(state, frame.f_code)
        elif event == "return":
            self._left(state)
        elif event == "c_call":
            self._c_called(state, self._kind(arg))
        elif event == "c_return" or event == "c_exception":
            self._c_returned(state)

    # the same hook through `sys.monitoring` (Python 3.12 and later): the events
    # `sys.setprofile` is itself made of there, and the C calls it reports (builtin
    # functions, and method descriptors called on an object)

    def _started(self, code: CodeType, _offset: int, *_exception: object) -> Any:
        state = self.threads.get(threading.get_ident()) or self._state()
        state.events += 1
        self._entered(state, code)

    def _ended(self, _code: CodeType, _offset: int, _value: object) -> Any:
        state = self.threads.get(threading.get_ident()) or self._state()
        state.events += 1
        self._left(state)

    def _calling(self, _code: CodeType, _offset: int, fn: object, first: object) -> Any:
        state = self.threads.get(threading.get_ident()) or self._state()
        state.events += 1
        key = _c_function(fn, first)
        if key is not None:
            self._c_called(state, self._kind_of(*key))

    def _called(self, _code: CodeType, _offset: int, fn: object, first: object) -> Any:
        state = self.threads.get(threading.get_ident()) or self._state()
        state.events += 1
        if _c_function(fn, first) is not None:
            self._c_returned(state)

    def _entered(self, state: _Thread, code: CodeType) -> None:
        now = state.last = perf_counter()
        entry = _Entry(code, now)
        entry.events = state.events
        state.stack.append(entry)
        counts = self.counts
        counts[code] = counts.get(code, 0) + 1
        if code in self.task_codes or (code not in self.unmatched and self._is_task(code)):
            entry.seen = True
            entry.cpu = thread_time()
        else:
            if len(state.stack) <= STAMPED:  # a unit of work chosen afterwards is shallow
                entry.cpu = thread_time()
            if now - state.sampled >= SAMPLE:
                state.sampled = now
                self._see(state)

    def _left(self, state: _Thread) -> None:
        if state.stack:
            entry = state.stack.pop()
            if entry.seen:
                cpu = thread_time() if entry.cpu >= 0 else -1.0
                state.invocations.append(
                    (entry.code, entry.start, entry.cpu, perf_counter(), cpu, entry.events,
                     state.events)
                )  # fmt: skip

    def _c_called(self, state: _Thread, kind: int) -> None:
        state.c_kind = kind
        state.c_start = perf_counter()
        state.c_cpu = thread_time() if kind else -1.0
        if kind == WAIT:  # how often it sleeps in the call: in it, or waiting for the GIL
            state.c_switched = getrusage(RUSAGE_THREAD).ru_nvcsw

    def _c_returned(self, state: _Thread) -> None:
        end = state.last = perf_counter()
        kind = state.c_kind
        if kind or end - state.c_start >= LONG_CALL:
            cpu = thread_time()
            start_cpu = state.c_cpu
            switched = getrusage(RUSAGE_THREAD).ru_nvcsw
            if start_cpu < 0:  # unknown: the thread's CPU since the last stamp
                start_cpu = max(cpu - (end - state.c_start), self._last_cpu(state))
                # it waited if the thread gave the CPU up of its own accord since the
                # last stamp; if not, it computed (the GIL held, as `sum` does) or another
                # process took the CPU from it: its CPU is host, the rest no step
                kind = OTHER
                slept_times = switched - state.switched
            else:
                slept_times = switched - state.c_switched if kind == WAIT else 0
            state.switched = switched
            slept, state.slept = state.slept, -1.0
            state.timed.append(
                (state.c_start, start_cpu, end, cpu, kind, state.events, slept, slept_times)
            )
            self._see(state)
        state.c_kind = 0

    @staticmethod
    def _last_cpu(state: _Thread) -> float:
        return state.timed[-1][3] if state.timed else 0.0

    @staticmethod
    def _see(state: _Thread) -> None:
        """Every call on the stack takes part in a step worth writing: keep its times."""
        for entry in reversed(state.stack):
            if entry.seen:
                break
            entry.seen = True

    def _kind(self, fn: Any) -> int:
        return self._kind_of(getattr(fn, "__self__", None), fn.__name__)

    def _kind_of(self, owner: Any, name: str) -> int:
        """What a C call of `name` on `owner` (a module, or the object of a method) is."""
        key = (owner if type(owner) is ModuleType else type(owner), name)
        kind = self.kinds.get(key)
        if kind is None:
            kind = self.kinds[key] = _classify(owner, name)
        return kind

    def _is_task(self, code: CodeType) -> bool:
        """Does `code` match a `--task` name (`name`, `qualname` or `module:qualname`)?"""
        for name in self.task_names:
            module, _, qualname = name.rpartition(":")
            if qualname not in (code.co_name, code.co_qualname):
                continue
            if module and not _in_module(code.co_filename, module):
                continue
            self.task_codes.add(code)
            return True
        self.unmatched.add(code)
        return False

    # --- wrappers -------------------------------------------------------------------------

    def install(self) -> None:
        # the hook slows Python down: the switch interval is stretched as much, so that
        # threads hand the GIL over after as much of the program's work as they would
        # unhooked (a forced switch costs the thread it stops CPU: its caches refill)
        self.interval = sys.getswitchinterval()
        self.stretch = _hook_cost(STRETCH_SIZE, 3, events=False)[1]
        sys.setswitchinterval(self.interval * self.stretch)
        self.began = perf_counter()
        self.active = True
        self._wrap_sleep()
        self._wrap_locks()
        self._wrap_queues()
        self._wrap_pools()
        self._wrap_processes()
        os.register_at_fork(before=self._forking, after_in_child=self._in_child)
        self._hook_on()

    def uninstall(self) -> None:
        self._hook_off()
        if self.active:
            sys.setswitchinterval(self.interval)
        self.active = False
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def stop(self) -> None:
        """Stop recording (an asyncio loop took over: its own recorder records)."""
        self.uninstall()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def _wrap_sleep(self) -> None:
        original = time.sleep
        recorder = self

        @functools.wraps(original)
        def sleep(seconds: float) -> None:
            if recorder.active:
                recorder._state().slept = float(seconds)
            original(seconds)

        self._patch(time, "sleep", sleep)

    def _wrap_locks(self) -> None:
        """The program's own `Lock`, `RLock`, `Semaphore` and `BoundedSemaphore` note when
        they are held; those of Python's library (a queue's, a pool's) stay plain."""
        recorder = self
        for name, capacity in (("Lock", None), ("RLock", None), ("Semaphore", 1),
                               ("BoundedSemaphore", 1)):  # fmt: skip
            original = getattr(threading, name)

            def made(*args: Any, _original: Any = original, _name: str = name,
                     _default: int | None = capacity, **kwargs: Any) -> Any:  # fmt: skip
                inner = _original(*args, **kwargs)
                caller = sys._getframe(1).f_code.co_filename
                if not recorder.active or not _is_own(caller):
                    return inner
                units = 1 if _default is None else int(args[0] if args else
                                                       kwargs.get("value", _default))  # fmt: skip
                kind = "lock" if _default is None else "semaphore"
                return _Held(recorder, inner, kind, units, _name == "RLock")

            self._patch(threading, name, made)

    def _wrap_queues(self) -> None:
        """The program's own `queue.Queue`s (and LIFO and priority ones) note each item
        put and taken; those of Python's library stay plain."""
        import queue

        recorder = self
        for name in ("Queue", "LifoQueue", "PriorityQueue"):
            original = getattr(queue, name)

            def made(maxsize: int = 0, _original: Any = original) -> Any:
                inner = _original(maxsize)
                caller = sys._getframe(1).f_code.co_filename
                if not recorder.active or not _is_own(caller):
                    return inner
                return _Queued(recorder, inner, max(int(maxsize), 0))

            self._patch(queue, name, made)

    def _note(self, thing: Any, code: int) -> None:
        """An item of a queue of the program's went in or out, on this thread."""
        state = self._state()
        number = self.objects.used(thing.tracked)
        now, cpu = perf_counter(), thread_time()
        state.timed.append((now, cpu, now, cpu, code, state.events, number, 0))

    def _hold(self, held: _Held, taken: bool) -> None:
        state = self._state()
        number = self.objects.used(held.tracked)
        now, cpu = perf_counter(), thread_time()
        state.timed.append((now, cpu, now, cpu, HELD if taken else LET, state.events, number, 0))

    def _wrap_pools(self) -> None:
        executor = concurrent.futures.ThreadPoolExecutor
        submit = executor.submit
        recorder = self

        @functools.wraps(submit)
        def submitting(pool: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            number = recorder.pools.setdefault(id(pool), pool._max_workers)
            del number
            return submit(pool, _Item(recorder, fn, id(pool)), *args, **kwargs)

        self._patch(executor, "submit", submitting)
        init, run = threading.Thread.__init__, threading.Thread.run
        targets: weakref.WeakKeyDictionary[threading.Thread, Any] = weakref.WeakKeyDictionary()

        @functools.wraps(init)
        def made(thread: threading.Thread, *args: Any, **kwargs: Any) -> None:
            init(thread, *args, **kwargs)
            target = kwargs.get("target", args[1] if len(args) > 1 else None)
            if target is not None:
                targets[thread] = target  # what it runs: its game's function

        @functools.wraps(run)
        def running(thread: threading.Thread) -> None:
            target = targets.get(thread)
            code = getattr(target if target is not None else type(thread).run, "__code__", None)
            if not recorder.active or code is None or not _is_own(code.co_filename):
                return run(thread)  # a pool's worker, a library's helper thread: no game
            state = recorder._state()
            start, cpu, events = perf_counter(), thread_time(), state.events
            try:
                return run(thread)
            finally:
                end, cpu_end = perf_counter(), thread_time()
                name = getattr(target, "__qualname__", type(thread).__qualname__ + ".run")
                where = _where(target) if target is not None else _where(type(thread).run)
                state.marks.append(
                    ("thread", start, cpu, -1, name, where, events, end, cpu_end, state.events)
                )

        self._patch(threading.Thread, "__init__", made)
        self._patch(threading.Thread, "run", running)

    def _wrap_processes(self) -> None:
        import multiprocessing.process

        start = multiprocessing.process.BaseProcess.start
        recorder = self

        @functools.wraps(start)
        def starting(process: Any) -> None:
            recorder.processes += 1
            start(process)

        self._patch(multiprocessing.process.BaseProcess, "start", starting)

    def _forking(self) -> None:
        self.forks += 1

    def _in_child(self) -> None:
        """A forked process records nothing: only the parent is the program recorded."""
        self.active = False
        self._hook_off()
        sys.setswitchinterval(self.interval)

    def _hook_on(self) -> None:
        """`sys.monitoring` where the Python has it and a tool id is free, else
        `sys.setprofile` on every thread."""
        monitoring = getattr(sys, "monitoring", None)
        if monitoring is not None:
            for tool in (monitoring.PROFILER_ID, 3, 4):
                try:
                    monitoring.use_tool_id(tool, "sim record")
                except ValueError:  # taken: a profiler or a debugger of the user's
                    continue
                self._tool = tool
                self.hook = "sys.monitoring"
                events = monitoring.events
                for event, callback in (
                    (events.PY_START, self._started),
                    (events.PY_RESUME, self._started),
                    (events.PY_THROW, self._started),
                    (events.PY_RETURN, self._ended),
                    (events.PY_YIELD, self._ended),
                    (events.PY_UNWIND, self._ended),
                    (events.CALL, self._calling),
                    (events.C_RETURN, self._called),
                    (events.C_RAISE, self._called),
                ):
                    monitoring.register_callback(tool, event, callback)
                wanted = (
                    events.PY_START | events.PY_RESUME | events.PY_THROW | events.PY_RETURN
                    | events.PY_YIELD | events.PY_UNWIND | events.CALL | events.C_RETURN
                    | events.C_RAISE
                )  # fmt: skip
                monitoring.set_events(tool, wanted)
                return
        self.hook = "sys.setprofile"
        threading.setprofile(self._profile)
        sys.setprofile(self._profile)

    def _hook_off(self) -> None:
        if self._tool is not None:
            monitoring = sys.monitoring  # type: ignore[attr-defined]
            monitoring.set_events(self._tool, 0)
            monitoring.free_tool_id(self._tool)
            self._tool = None
            return
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]

    # --- afterwards -----------------------------------------------------------------------

    def result(self) -> RawCalls:
        """The games, once the program has run (and the hook is off: its costs are
        measured now, and only for a program that ran no event loop)."""
        ended = perf_counter()
        self.overhead, self.slowdown = _hook_cost()
        _gil_waits(list(self.threads.values()), self.interval * self.stretch)
        notes = []
        games: list[RawGame] = []
        pool_items = any(mark[0] == "item" for s in self.threads.values() for mark in s.marks)
        threads = any(mark[0] == "thread" for s in self.threads.values() for mark in s.marks)
        choice: TaskChoice | None = None
        if self.task_names:
            unknown = _unknown(self.task_names, self.program)
            choice = TaskChoice(", ".join(self.task_names), True, [], unknown)
            for state in self.threads.values():
                games += self._task_games(state, self.task_codes)
        elif pool_items or threads:
            for state in self.threads.values():
                games += self._marked_games(state)
        else:
            choice = choose_task(self.threads.values(), self.counts, self._own)
            codes = {c for c in self.counts if _qualname(c) == choice.name and self._own(c)}
            for state in self.threads.values():
                games += self._task_games(state, codes) if choice.name else []
        main = self.threads.get(threading.main_thread().ident or 0)
        if main is not None:
            games += self._main_game(main, games, ended)
        if self.forks or self.processes:
            started = max(self.forks, self.processes)
            notes.append(
                f"the program started {started} other process(es): only its own process was "
                "recorded (their work is missing; their results were waited for as joins)"
            )
        calls = sorted(
            ((_qualname(c), n) for c, n in self.counts.items() if self._own(c)),
            key=lambda item: -item[1],
        )[:10]
        held = {number for game in games for number in _held_in(game.steps)}
        objects = {
            t.number: (t.kind, t.name, t.capacity)
            for t in self.objects.tracked
            if t.number in held and self.objects.used(t) >= 0
        }
        return RawCalls(
            sorted(games, key=lambda g: g.start),
            choice,
            {n: size for n, size in enumerate(self.pools.values())},
            sum(1 for s in self.threads.values() if s.events),
            notes,
            self.overhead,
            self.slowdown,
            calls,
            objects,
            self.hook,
        )

    def _own(self, code: CodeType) -> bool:
        return _is_own(code.co_filename)

    def _task_games(self, state: _Thread, codes: set[CodeType]) -> list[RawGame]:
        """Every outermost call of `codes` on this thread."""
        games, open_until = [], -1.0
        for code, start, cpu0, end, cpu1, ev0, ev1 in state.invocations:
            if code not in codes or start < open_until:
                continue
            open_until = end
            games.append(self._game(state, code.co_qualname, _code_where(code), "task",
                                    (start, cpu0, end, cpu1, ev0, ev1), -1))  # fmt: skip
        return sorted(games, key=lambda g: g.start)

    def _marked_games(self, state: _Thread) -> list[RawGame]:
        """The runs of threads and the pools' work items on this thread."""
        return [
            self._game(state, name, where, role, (start, cpu0, end, cpu1, ev0, ev1), pool)
            for role, start, cpu0, pool, name, where, ev0, end, cpu1, ev1 in state.marks
        ]

    def _main_game(self, state: _Thread, games: list[RawGame], ended: float) -> list[RawGame]:
        """The main thread outside the games on it: its own steps, run first to last."""
        mine = sorted((g for g in games if g.thread == state.index), key=lambda g: g.start)
        steps: list[Any] = []
        cursor, cursor_cpu = self.began, -1.0
        for game in [*mine, None]:
            until = game.start if game is not None else ended
            steps += _steps(state, cursor, cursor_cpu, until, -1.0, self._cost, 0, 0)
            if game is not None:
                cursor, cursor_cpu = game.end, -1.0
        steps = _merged(steps)
        if not any(step[0] == "with" or step[1] for step in steps):
            return []
        where = f"{self.program}:1" if self.program else ""
        return [RawGame("main", where, state.index, self.began, ended, steps, role="main")]

    @property
    def _cost(self) -> tuple[float, float]:
        return self.overhead, self.slowdown

    def _game(self, state: _Thread, name: str, where: str, role: str, span: tuple,
              pool: int) -> RawGame:  # fmt: skip
        start, cpu0, end, cpu1, ev0, ev1 = span
        steps = _merged(_steps(state, start, cpu0, end, cpu1, self._cost, ev0, ev1))
        return RawGame(name, where, state.index, start, end, steps, pool, role)


class _Held:
    """A lock or semaphore of the program's: the real one inside, and a note on the
    thread's timeline each time a thread takes it first and lets it go last."""

    def __init__(self, recorder: CallRecorder, inner: Any, kind: str, units: int,
                 reentrant: bool) -> None:  # fmt: skip
        self._recorder, self._inner, self._reentrant = recorder, inner, reentrant
        self.tracked = recorder.objects.made(self, kind, units)
        self._depth: dict[int, int] = {}  # per thread: holds not given back

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        got = self._inner.acquire(*args, **kwargs)  # as given: a lock's and a semaphore's
        # timeouts differ
        if got:
            ident = threading.get_ident()
            depth = self._depth.get(ident, 0) + 1
            self._depth[ident] = depth
            if depth == 1 or not self._reentrant:
                self._recorder._hold(self, True)
        return got

    def release(self, *args: Any) -> None:
        ident = threading.get_ident()
        depth = self._depth.get(ident, 0) - 1
        if depth <= 0:
            self._depth.pop(ident, None)
        else:
            self._depth[ident] = depth
        if depth <= 0 or not self._reentrant:
            self._recorder._hold(self, False)
        self._inner.release(*args)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Queued:
    """A queue of the program's: the real one inside, and a note on the thread's timeline
    each time an item goes in or comes out."""

    def __init__(self, recorder: CallRecorder, inner: Any, maxsize: int) -> None:
        self._recorder, self._inner = recorder, inner
        self.tracked = recorder.objects.made(self, "queue", maxsize)

    def put(self, *args: Any, **kwargs: Any) -> None:
        self._inner.put(*args, **kwargs)
        self._recorder._note(self, PUT)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        item = self._inner.get(*args, **kwargs)
        self._recorder._note(self, GOT)
        return item

    def put_nowait(self, item: Any) -> None:
        self.put(item, block=False)

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Item:
    """A pool's work item: a game on the worker thread that runs it."""

    def __init__(self, recorder: CallRecorder, fn: Any, pool: int) -> None:
        self.recorder, self.fn, self.pool = recorder, fn, pool
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = self.recorder
        if not recorder.active:
            return self.fn(*args, **kwargs)
        state = recorder._state()
        start, cpu, events = perf_counter(), thread_time(), state.events
        try:
            return self.fn(*args, **kwargs)
        finally:
            end, cpu_end = perf_counter(), thread_time()
            pool = list(recorder.pools).index(self.pool)
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            state.marks.append(
                ("item", start, cpu, pool, name, _where(self.fn), events, end, cpu_end,
                 state.events)
            )  # fmt: skip


def _steps(
    state: _Thread,
    start: float,
    cpu0: float,
    end: float,
    cpu1: float,
    cost: tuple[float, float],
    ev0: int,
    ev1: int,
) -> list[Any]:
    """The steps of a thread between two moments: host between timed calls (CPU clock
    where both ends are stamped, less the hook's cost: per event, and the slowdown of
    every bytecode while a hook is set), each timed call's part, and
    the time a lock of the program's was held as `["with", number, steps]` around the
    steps inside it (one given back after the end closes there)."""
    top: list[Any] = []
    stack: list[tuple[int, list[Any]]] = []
    per_event, slowdown = cost
    at, at_cpu, at_events = start, cpu0, ev0
    for index, (t0, c0, t1, c1, kind, events, slept, switches) in enumerate(state.timed):
        if t0 < start or t1 > end:
            if t0 >= end:
                break
            continue
        host = (c0 - at_cpu) if at_cpu >= 0 else (t0 - at)
        host = (host - max(events - at_events, 0) * per_event) / slowdown
        top.append(["host", max(host, 0.0)])
        used = max(c1 - c0, 0.0)
        off = max((t1 - t0) - used, 0.0)
        if kind == WAIT:
            if slept >= 0:  # time.sleep: its own length (it never returns early), the
                # GIL wait after it aside, whatever CPU the thread was charged in it
                waited = min(t1 - t0, slept)
            elif switches == 0:  # never slept: off the CPU only while another process ran
                waited = 0.0
            else:
                waited = off - state.gil_waits.get(index, 0.0)
            if waited >= MIN_WAIT:
                top += [["host", used], ["wait", waited]]
            else:
                top.append(["host", used + waited])
        elif kind == NATIVE:
            # computing, it never waits: its time off the CPU was the OS sharing the CPUs
            # and the GIL taken back after it, which a schedule plays again
            top.append(["native", used])
        elif kind == OTHER:
            waited = off - state.gil_waits.get(index, 0.0) if switches else 0.0
            if waited >= MIN_WAIT and off > used:
                top += [["host", used], ["wait", waited]]
            else:
                top.append(["host", used])
        elif kind == HELD:
            stack.append((int(slept), top))
            top = []
        elif kind in (PUT, GOT):
            top.append(["put" if kind == PUT else "get", int(slept)])
        elif kind == LET and stack and stack[-1][0] == int(slept):
            number, outer = stack.pop()
            outer.append(["with", number, top])
            top = outer
        # JOIN: waiting for another thread is no step
        at, at_cpu, at_events = t1, c1, events
    host = (cpu1 - at_cpu) if (cpu1 >= 0 and at_cpu >= 0) else (end - at)
    host = (host - (max(ev1 - at_events, 0) * per_event if ev1 else 0.0)) / slowdown
    top.append(["host", max(host, 0.0)])
    while stack:  # still held at the end
        number, outer = stack.pop()
        outer.append(["with", number, top])
        top = outer
    return top


_TIMED = ("host", "wait", "native")
#: C calls during which a thread runs no Python: the GIL is free for the others (and
#: unknown ones in which it slept).
_RELEASING = (WAIT, NATIVE, JOIN)
#: A gap this short between one thread's Python and another's is the GIL handed over
#: (the first thread entering a blocking call, the other waking up to take it), not a
#: moment with the GIL free.
HANDOFF = 200e-6


def _gil_waits(states: list[_Thread], interval: float) -> None:
    """Estimate, for each blocking call other than `time.sleep` (and each unknown one
    that waited), how much of its time off the CPU was a wait for the GIL after it
    returned: CPython's hooks see a C call return only once its thread holds the GIL
    again, so that wait is inside the call's time, and a schedule plays it again.

    The moment the call's blocking ended is not seen, so the wait is known within bounds:
    at most the time since the GIL was last free (no thread running Python: every other
    one inside a call that releases it, as its stamps show; a thread back from its call
    then takes the GIL at once), and at most one switch interval for each time the
    thread slept in the call (its voluntary context switches: a thread waiting for the
    GIL sleeps an interval at most at a time). The estimate is the middle of that
    range; a thread that never slept never waited (another process had its CPU).
    Sets each thread's `gil_waits`."""
    spans: list[tuple[float, float]] = []  # when a thread ran Python, or waited to
    for state in states:
        at = state.born
        for t0, _c0, t1, _c1, kind, _e, _s, switches in state.timed:
            if kind in _RELEASING or (kind == OTHER and switches):
                spans.append((at, t0))
                at = t1
        spans.append((at, max(state.last, at)))
    spans.sort()
    free: list[tuple[float, float]] = []  # when no thread ran Python: the GIL was free
    reach = -math.inf
    for begin, end in spans:
        if begin - reach > HANDOFF:
            free.append((reach, begin))
        reach = max(reach, end)
    starts = [begin for begin, _ in free]
    for state in states:
        waits: dict[int, float] = {}
        for index, (t0, c0, t1, c1, kind, _e, slept, switches) in enumerate(state.timed):
            if kind not in (WAIT, OTHER) or slept >= 0 or switches == 0:
                continue
            off = (t1 - t0) - max(c1 - c0, 0.0)
            if off < MIN_WAIT:
                continue
            last = bisect.bisect_left(starts, t1) - 1  # the last moment the GIL was free
            since = max(t0, min(free[last][1], t1)) if last >= 0 else t0
            most = min(off, t1 - since)
            if kind == WAIT:  # OTHER: its sleeps were not counted in the call alone
                most = min(most, switches * interval)
            waits[index] = most / 2
        state.gil_waits = waits


def _merged(steps: list[Any]) -> list[Any]:
    """Adjacent steps of one kind as one; empty host steps between others dropped;
    inside `with` blocks too (a block with nothing timed inside is one host step)."""
    out: list[Any] = []
    for step in steps:
        if step[0] == "with":
            inner = _merged(step[2])
            step = ["with", step[1], inner]
        elif step[0] == "host" and step[1] <= 0 and out:
            continue
        if out and step[0] in _TIMED and out[-1][0] == step[0]:
            out[-1] = [step[0], out[-1][1] + step[1]]
        else:
            out.append(step)
    while len(out) > 1 and out[-1] == ["host", 0.0]:
        out.pop()
    return out


def _held_in(steps: list[Any]) -> set[int]:
    """The locks held and queues used somewhere in these steps."""
    found: set[int] = set()
    for step in steps:
        if step[0] == "with":
            found |= {step[1], *_held_in(step[2])}
        elif step[0] in ("put", "get"):
            found.add(step[1])
    return found


def choose_task(states: Any, counts: dict[CodeType, int], own: Any) -> TaskChoice:
    """The unit of work of a synchronous program, chosen after it ran: of the program's
    own functions called more than once (every call of which is known), those whose
    calls hold nearly the most waiting and at least half the most time; of these, the
    one called most often, then the one holding the most time."""
    spent: dict[CodeType, list[float]] = {}
    for state in states:
        waits = [(t0, t1 - t0 - max(c1 - c0, 0.0)) for t0, c0, t1, c1, kind, _e, _s, slept
                 in state.timed if kind == WAIT or (kind == OTHER and slept)]  # fmt: skip
        open_until: dict[CodeType, float] = {}
        for code, start, _c0, end, _c1, _e0, _e1 in state.invocations:
            if start < open_until.get(code, -1.0):
                continue  # a recursive call inside one already counted
            open_until[code] = end
            totals = spent.setdefault(code, [0.0, 0.0, 0.0])
            totals[0] += 1
            totals[1] += end - start
            totals[2] += sum(w for t, w in waits if start <= t < end)
    candidates = [
        (code, int(n), seconds, waiting)
        for code, (n, seconds, waiting) in spent.items()
        if own(code)
        and not code.co_flags & _RESUMED  # a generator's resumptions are not calls
        and n >= 2
        and n >= counts.get(code, 0)
    ]
    listed = sorted(candidates, key=lambda c: (-c[3], -c[2]))
    shown = [(_qualname(c), n, s, w) for c, n, s, w in listed[:10]]
    if not candidates:
        return TaskChoice("", False, shown)
    most_waiting = max(c[3] for c in candidates)
    most_time = max(c[2] for c in candidates)
    fit = [c for c in candidates if c[3] >= 0.99 * most_waiting and c[2] >= 0.5 * most_time]
    best = max(fit, key=lambda c: (c[1], c[2]))
    return TaskChoice(_qualname(best[0]), False, shown)


#: Code whose "calls" are resumptions: generators and coroutines.
_RESUMED = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _c_function(fn: object, first: object) -> tuple[Any, str] | None:
    """The owner and name of a C call as `sys.setprofile` reports it (a builtin function,
    or a method descriptor called on an object), or None for any other callable."""
    if isinstance(fn, BuiltinFunctionType):
        return fn.__self__, fn.__name__
    if type(fn) is MethodDescriptorType and first is not _MISSING:
        return first, fn.__name__  # type: ignore[attr-defined]
    return None


#: `sys.monitoring`'s "no argument" (Python 3.12 and later).
_MISSING = getattr(getattr(sys, "monitoring", None), "MISSING", object())


def _classify(owner: Any, name: str) -> int:
    if type(owner) is ModuleType:
        module = owner.__name__
        if name in _WAITING.get(module, ()):
            return WAIT
        return NATIVE if module.startswith(_NATIVE_MODULES) else 0
    # the method's own class or one it inherits it from: `socket.socket` is a Python
    # subclass of `_socket.socket`, whose `recv` its objects call
    for kind in type(owner).__mro__:
        full = f"{kind.__module__}.{kind.__qualname__}"
        if name in _WAITING.get(full, ()):
            return WAIT
        if name in _JOINING.get(full, ()):
            return JOIN
    return NATIVE if type(owner).__module__.startswith(_NATIVE_MODULES) else 0


def _hook_cost(size: int = 200_000, runs: int = 5, events: bool = True) -> tuple[float, float]:
    """What the hook costs a thread's CPU time: with a profiling hook set, CPython may run
    every bytecode slower (3.11 turns its specialized bytecodes off; measured on loops
    that call nothing), and each event adds its own cost (measured on loops of empty
    Python calls and of calls of a C function, beyond that slowdown, over the events the
    hook saw: two a call with `sys.setprofile`, three a Python call with
    `sys.monitoring`). Each is the best of `runs` runs against the same loop unhooked, with
    the hook the recorder used. Returns (seconds per event, slowdown); the cost per
    event is 0 unless `events`."""

    def empty() -> None:
        return None

    def arithmetic(n: int) -> float:
        began, x = thread_time(), 0
        for i in range(n):
            x = (x + i * 7) & 0xFFFF
        return thread_time() - began

    def over_bytes(n: int) -> float:
        began, x, data = thread_time(), 0, bytes(range(256)) * 16
        for _ in range(n // len(data)):
            for byte in data:
                x = (x * 31 + byte) & 0xFFFFFFFF
        return thread_time() - began

    def lookups(n: int) -> float:
        began, x, table, items = thread_time(), 0, {"a": 1}, list(range(100))
        for i in range(n // 4):
            x += items[i % 100] + table["a"]
            if x > 1000:
                x -= 1000
        return thread_time() - began

    def python_calls(n: int) -> float:
        began = thread_time()
        for _ in range(n):
            empty()
        return thread_time() - began

    def c_calls(n: int) -> float:
        began, nothing = thread_time(), ()
        for _ in range(n):
            len(nothing)
        return thread_time() - began

    probe = CallRecorder()
    probe.active = True
    seen = probe._state()

    def timed(loop: Any, n: int) -> tuple[float, float, float]:
        """Bare and hooked, run in turns (a moment's load falls on both), each the best of
        five; and the events the hook saw in one hooked run."""
        bare, hooked, count = [], [], 0
        for _ in range(runs):
            bare.append(loop(n))
            before = seen.events
            probe._hook_on()
            try:
                hooked.append(loop(n))
            finally:
                probe._hook_off()
            count = seen.events - before
        return min(bare), min(hooked), count

    # how much slower depends on the code (a hook turns CPython's specialized bytecodes
    # off): arithmetic and loops over data, 1.4× here, code of dict and list lookups up to
    # 2×. The least of three kinds of loop: host steps are never made too short, and code
    # heavy in lookups reads a little long
    ratios = [
        hooked / bare if bare > 0 else 1.0
        for bare, hooked, _ in (timed(loop, size) for loop in (arithmetic, over_bytes, lookups))
    ]
    slowdown = max(min(ratios), 1.0)
    if not events:
        return 0.0, slowdown
    n, costs = 20_000, []
    for loop in (python_calls, c_calls):
        bare, hooked, seen_events = timed(loop, n)
        costs.append(max(hooked - bare * slowdown, 0.0) / max(seen_events, 2 * n))
    return sum(costs) / len(costs), slowdown


def _qualname(code: CodeType) -> str:
    return code.co_qualname


def _code_where(code: CodeType) -> str:
    return f"{code.co_filename}:{code.co_firstlineno}"


def _where(fn: Any) -> str:
    code = getattr(fn, "__code__", None)
    return _code_where(code) if code is not None else ""


def _in_module(filename: str, module: str) -> bool:
    """Is `filename` the file of `module` (dotted), or of `__main__` for the script?"""
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    if path:
        return os.path.abspath(path) == os.path.abspath(filename)
    stem = module.rsplit(".", 1)[-1]
    return os.path.splitext(os.path.basename(filename))[0] == stem


_LIBRARY = tuple(
    os.path.abspath(p) + os.sep
    for p in {sysconfig.get_path(name) for name in ("stdlib", "purelib", "platlib")}
    if p
)
_SIM = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _is_own(filename: str) -> bool:
    """Code of the program: not Python's library, an installed package, or sim."""
    if filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    return not (path.startswith(_SIM) or path.startswith(_LIBRARY))


def _unknown(names: tuple[str, ...], program: str) -> list[str]:
    """Why each `module:qualname` names nothing: no such module, or the module the
    program imported has no such function. Nothing is imported here (that would run
    the program's code again); the script itself answers to its stem."""
    import importlib.util

    script = os.path.splitext(os.path.basename(program))[0]
    problems = []
    for name in names:
        module, _, qualname = name.rpartition(":")
        if not module or module in ("__main__", script):
            continue
        found = sys.modules.get(module)
        if found is None:
            try:
                spec = importlib.util.find_spec(module.split(".")[0])
            except (ImportError, ValueError):
                spec = None
            if spec is None:
                problems.append(f"{name}: no module named {module!r}")
            continue  # importable, but the program never imported it: never called
        target: Any = found
        for part in qualname.split("."):
            target = getattr(target, part, None)
            if target is None:
                problems.append(f"{name}: module {module} has no {qualname!r}")
                break
    return problems


def calls_to_json(calls: RawCalls) -> dict[str, Any]:
    """Plain data for the raw recording's file."""
    task = calls.task
    games = [
        [g.function, g.where, g.thread, g.start, g.end, g.steps, g.pool, g.role]
        for g in calls.games
    ]
    choice = (
        None
        if task is None
        else [task.name, task.given, [list(c) for c in task.candidates], task.unknown]
    )
    return {
        "games": games,
        "task": choice,
        "pools": {str(n): size for n, size in calls.pools.items()},
        "threads": calls.threads,
        "notes": calls.notes,
        "overhead_s": calls.overhead_s,
        "slowdown": calls.slowdown,
        "calls": [list(c) for c in calls.calls],
        "objects": {str(n): list(o) for n, o in calls.objects.items()},
        "hook": calls.hook,
    }


def calls_from_json(data: dict[str, Any]) -> RawCalls:
    task = data["task"]
    return RawCalls(
        [
            RawGame(f, w, th, s, e, steps, pool, role)
            for f, w, th, s, e, steps, pool, role in data["games"]
        ],
        None
        if task is None
        else TaskChoice(task[0], task[1], [tuple(c) for c in task[2]], list(task[3])),
        {int(n): size for n, size in data["pools"].items()},
        data["threads"],
        list(data["notes"]),
        data["overhead_s"],
        data.get("slowdown", 1.0),
        [(name, n) for name, n in data["calls"]],
        {int(n): (k, name, size) for n, (k, name, size) in data.get("objects", {}).items()},
        data.get("hook", "sys.setprofile"),
    )
