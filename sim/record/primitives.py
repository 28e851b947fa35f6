"""What a task waited for: semaphores, locks, queues, gather and executors, seen from inside.

The recording loop sees that a task was woken by another task's work (`joined`)
but not what it waited for, and a scenario needs exactly that to play the wait
again at another size: how many units a semaphore had, which queue, which
children a gather waited on. So inside the recorded program the asyncio
primitives are wrapped, and each use is noted on the running task as an event:

- `Semaphore`, `BoundedSemaphore`, `Lock`: asked (`ACQUIRE`), got (`GRANTED`),
  given back (`RELEASE`); capacity: the semaphore's initial value, 1 for a lock;
- `Queue` (and its subclasses): `put` asked (`PUT_ASK`) and the item handed
  over (`PUT`, in `put_nowait`, which `put` ends in), `get` asked (`GET_ASK`)
  and an item taken (`GET`); capacity: `maxsize`;
- `asyncio.gather`: the gathering (`GATHER`), its children kept in the loop's
  recording (the loop's `run_in_executor` notes `SUBMIT` likewise).

An event is four numbers: the index of the task's step it happened in, when
(`perf_counter`), its code and a reference (the object's number, the gather's
or the job's). Objects are named after the variable the program bound them to
where one can be found (the creating frame's locals and their attributes, its
module's globals, then the frame that used it), else `semaphore-1`, `queue-1`, ….

Standard library only: this runs inside the user's interpreter.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import sys
from asyncio import events
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = [
    "ACQUIRE",
    "EVENT_FIELDS",
    "GATHER",
    "GET",
    "GET_ASK",
    "GRANTED",
    "PUT",
    "PUT_ASK",
    "RELEASE",
    "SUBMIT",
    "Objects",
    "Tracked",
    "install",
]

ACQUIRE, GRANTED, RELEASE, PUT_ASK, PUT, GET_ASK, GET, GATHER, SUBMIT = range(1, 10)
#: Numbers per event in a task's flat `events` array: step index, time, code, reference.
EVENT_FIELDS = 4

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)
_HERE = os.path.dirname(os.path.abspath(__file__))
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Tracked:
    """One semaphore, lock, queue or executor the program made."""

    number: int
    kind: str  # "semaphore", "lock", "queue", "executor"
    capacity: int  # units (semaphore, lock, executor workers) or maxsize (queue, 0: unbounded)
    obj: Any  # kept alive, so its id is not reused by another while recording
    frame: FrameType | None  # where it was made, until it is named
    name: str = ""


class Objects:
    """The primitives one recording saw, by number, each with its capacity and name."""

    def __init__(self) -> None:
        self.tracked: list[Tracked] = []
        self._by_id: dict[int, Tracked] = {}
        self._names: set[str] = set()
        self._unnamed: dict[str, int] = {}

    def made(self, obj: Any, kind: str, capacity: int) -> Tracked:
        """Register `obj`, made just now by the program's code up the stack."""
        tracked = Tracked(len(self.tracked), kind, capacity, obj, _program_frame(obj))
        self.tracked.append(tracked)
        self._by_id[id(obj)] = tracked
        return tracked

    def of(self, obj: Any, kind: str, capacity: Callable[[], int]) -> Tracked:
        """The entry of `obj`, registered on first sight if it was made before recording."""
        tracked = self._by_id.get(id(obj))
        if tracked is None or tracked.obj is not obj:
            tracked = self.made(obj, kind, capacity())
        return tracked

    def used(self, tracked: Tracked, fallback: str = "") -> int:
        """Name it on first use (the variable is bound by then), else `fallback`, else
        `kind-n`; its number."""
        if not tracked.name:
            found = _bound_name(tracked.obj, tracked.frame, _program_frame(tracked.obj))
            tracked.frame = None  # frames hold every local of their function: let go
            if not found and not fallback:
                self._unnamed[tracked.kind] = self._unnamed.get(tracked.kind, 0) + 1
                fallback = f"{tracked.kind}-{self._unnamed[tracked.kind]}"
            tracked.name = self._unique(found or fallback)
        return tracked.number

    def _unique(self, name: str) -> str:
        name = _UNSAFE.sub("_", name).strip("_-")[:56] or "object"
        if not name[0].isalpha():
            name = f"v{name}"  # the format's names begin with a letter
        base, n = name, 1
        while name in self._names:
            n += 1
            name = f"{base}-{n}"
        self._names.add(name)
        return name


def _program_frame(obj: Any) -> FrameType | None:
    """The innermost frame of the program's own code: not asyncio's, not ours, not a
    method of `obj` itself (a subclass's `__init__` calling up to asyncio's)."""
    frame = sys._getframe(1)
    while frame is not None:
        file = frame.f_code.co_filename
        inside = file.startswith(_ASYNCIO_DIR) or file.startswith(_HERE)
        if not inside and frame.f_locals.get("self") is not obj:
            return frame
        frame = frame.f_back
    return None


def _bound_name(obj: Any, *frames: FrameType | None) -> str:
    """A name `obj` is bound to: a local of one of the frames, an attribute of such a
    local (`self.jobs`), or a global of its module."""
    for frame in frames:
        if frame is None:
            continue
        local = frame.f_locals
        for name, value in local.items():
            if value is obj and name != "self":
                return name
        for value in local.values():
            if isinstance(value, Tracked | Objects):  # the recorder's own, not the program's
                continue
            try:
                attributes = getattr(value, "__dict__", None)
            except Exception:  # a proxy or a property that refuses: not where names are
                continue
            if isinstance(attributes, dict) and not isinstance(value, type(sys)):
                for name, held in attributes.items():
                    if held is obj:
                        return name
        for name, value in frame.f_globals.items():
            if value is obj:
                return name
    return ""


def note(code: int, reference: int) -> None:
    """Note an event on the task running now, if the loop is a recording one."""
    loop = events._get_running_loop()
    noting = getattr(loop, "_note", None)
    if noting is not None:
        noting(code, reference)


def install(objects: Objects) -> Callable[[], None]:
    """Wrap the primitives for `objects`; the function returned puts them back."""
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        saved.append((owner, name, original))
        setattr(owner, name, functools.wraps(original)(make(original)))

    def semaphore_capacity(_sem: asyncio.Semaphore) -> Callable[[], int]:
        # made before the recording began (never, for a program run under it): its
        # initial value is nowhere public, so it counts as a lock
        return lambda: 1

    # Semaphore (and BoundedSemaphore, which calls up to it)
    def sem_init(original):
        def __init__(self, value=1):
            original(self, value)
            objects.made(self, "semaphore", int(value))

        return __init__

    def lock_init(original):
        def __init__(self, *args, **kwargs):
            original(self, *args, **kwargs)
            objects.made(self, "lock", 1)

        return __init__

    def acquire(kind: str, capacity: Callable[[Any], Callable[[], int]]):
        def make(original):
            async def acquire(self):
                number = objects.used(objects.of(self, kind, capacity(self)))
                note(ACQUIRE, number)
                got = await original(self)
                note(GRANTED, number)
                return got

            return acquire

        return make

    def release(kind: str, capacity: Callable[[Any], Callable[[], int]]):
        def make(original):
            def release(self):
                original(self)
                note(RELEASE, objects.used(objects.of(self, kind, capacity(self))))

            return release

        return make

    def queue_init(original):
        def __init__(self, maxsize=0):
            original(self, maxsize)
            objects.made(self, "queue", int(maxsize))

        return __init__

    def queue_of(queue: asyncio.Queue) -> int:
        return objects.used(objects.of(queue, "queue", lambda: int(queue.maxsize)))

    def asking(code: int):
        def make(original):
            if code == PUT_ASK:

                async def put(self, item):
                    note(PUT_ASK, queue_of(self))
                    return await original(self, item)

                return put

            async def get(self):
                note(GET_ASK, queue_of(self))
                return await original(self)

            return get

        return make

    def handing(code: int):
        def make(original):
            def handed(self, *args):
                result = original(self, *args)  # raises QueueFull / QueueEmpty: nothing moved
                note(code, queue_of(self))
                return result

            return handed

        return make

    lock_capacity = lambda _lock: lambda: 1  # noqa: E731
    patch(asyncio.Semaphore, "__init__", sem_init)
    patch(asyncio.Semaphore, "acquire", acquire("semaphore", semaphore_capacity))
    patch(asyncio.Semaphore, "release", release("semaphore", semaphore_capacity))
    patch(asyncio.Lock, "__init__", lock_init)
    patch(asyncio.Lock, "acquire", acquire("lock", lock_capacity))
    patch(asyncio.Lock, "release", release("lock", lock_capacity))
    patch(asyncio.Queue, "__init__", queue_init)
    patch(asyncio.Queue, "put", asking(PUT_ASK))
    patch(asyncio.Queue, "get", asking(GET_ASK))
    patch(asyncio.Queue, "put_nowait", handing(PUT))
    patch(asyncio.Queue, "get_nowait", handing(GET))

    # asyncio.gather: the name programs use; asyncio's own shutdown calls tasks.gather
    gather = asyncio.gather

    @functools.wraps(gather)
    def gathering(*aws: Any, return_exceptions: bool = False) -> Any:
        outer = gather(*aws, return_exceptions=return_exceptions)
        loop = events._get_running_loop()
        noting = getattr(loop, "_gathered", None)
        if noting is not None:
            noting(getattr(outer, "_children", ()))
        return outer

    asyncio.gather = gathering

    def undo() -> None:
        asyncio.gather = gather
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)

    return undo
