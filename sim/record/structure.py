"""Each task's life as a tree: its steps cut by what it waited on, the waits made blocks.

A task's steps and the events noted in them (`sim.record.primitives`) are read
in time order. Host time is cut where an event happened; a suspension between
two steps is a `wait` (time passing, I/O) or a `join` (another task's work
woke it). Then the waits on other tasks become the scenario's blocks, and the
time spent waiting in them is dropped, since the schedule makes it again:

- a semaphore or lock asked for and later given back by the same task: a
  `with` block around what the task did while holding it;
- an item handed to a queue: a `put`; an item taken from one: a `get`, where
  a consumer's round begins;
- a gather of children of one shape (each child's own tree): a `gather` block
  at the place the task waited for it; a gather of one child, the child's
  steps in place; children of several shapes, or that use queues, stay games
  of their own (the gathering task's wait is then a `join`, as before);
- an executor job the task awaited: a `with` block on the executor (its
  `max_workers` units) around the job: a `wait` when its thread was mostly
  off the CPU (a blocking library holds a worker, not the loop; so does a
  process pool's job), a `host` step of its CPU time when mostly on it
  (Python in a thread needs the GIL, which the loop's host stands for).

A release and an item taken at once take effect at the end of the loop step
they happened in, where the task gives the loop up: a task woken by the
release cannot run before that, and a task that took an item without waiting
went on in the same step (see `Lives._build`).

Without events the tree is the flat list of steps that recordings always had.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field

from sim.record.primitives import (
    ACQUIRE,
    GATHER,
    GET,
    GET_ASK,
    GRANTED,
    PUT,
    PUT_ASK,
    RELEASE,
    SUBMIT,
)
from sim.record.program import RawRecording, RawTask

__all__ = ["Gather", "Get", "Leaf", "Lives", "Node", "Put", "With", "shape"]


@dataclass(slots=True)
class Leaf:
    """A host, block, wait or join item: seconds on the wall and on the CPU, and
    the task and step it came from (for flags; -1 when not from a step)."""

    kind: str
    wall: float
    cpu: float
    step: int
    task: RawTask | None


@dataclass(slots=True)
class With:
    """Holding one unit of a resource (object number) through `nodes`."""

    resource: int
    nodes: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class Gather:
    """Children started at once and waited for, each a tree of one shape."""

    children: list[list[Node]]


@dataclass(slots=True)
class Put:
    queue: int


@dataclass(slots=True)
class Get:
    queue: int


Node = Leaf | With | Gather | Put | Get


def shape(nodes: list[Node]) -> tuple:
    """What must be equal for trees to share a group: kinds, blocks and their insides."""
    out: list = []
    for node in nodes:
        if isinstance(node, Leaf):
            out.append(node.kind)
        elif isinstance(node, With):
            out.append(("with", node.resource, shape(node.nodes)))
        elif isinstance(node, Gather):
            out.append(("gather", len(node.children), shape(node.children[0])))
        elif isinstance(node, Put):
            out.append(("put", node.queue))
        else:
            out.append(("get", node.queue))
    return tuple(out)


def uses_queues(nodes: list[Node]) -> bool:
    for node in nodes:
        if isinstance(node, Put | Get):
            return True
        if isinstance(node, With) and uses_queues(node.nodes):
            return True
        if isinstance(node, Gather) and any(uses_queues(c) for c in node.children):
            return True
    return False


_SUSPENDED = ("wait", "join")


class Lives:
    """The trees of a recording's tasks, and which tasks are games of their own."""

    def __init__(self, recording: RawRecording, *, structured: bool = True) -> None:
        self.recording = recording
        self.threshold = recording.threshold
        self.structured = structured
        self.tasks = sorted(recording.tasks, key=lambda t: t.born)
        self.by_serial = {t.serial: t for t in self.tasks if t.serial >= 0}
        self.resources = {
            n: o for n, o in recording.objects.items() if o.kind != "queue" and o.capacity >= 1
        }
        self.job_starts = _job_starts(recording)
        gathered = {ref for kids in recording.gathers for kind, ref in kids if kind == "job"}
        #: jobs a task awaited itself (not through a gather): a block where it waited
        self.inline_jobs = set(range(len(recording.jobs))) - gathered
        #: gather number → "nest" (a gather block) or "inline" (one child, in place)
        self.decided: dict[int, str] = {}
        self.claimed: set[int] = set()  # serials of tasks inside a gather block
        #: what was written or left out, for the notes (counted in the final trees only)
        self.counts: Counter[str] = Counter()
        if structured:
            self._decide_gathers()

    def _decide_gathers(self) -> None:
        """Which gathers are blocks: the latest first, so a child's own gathers are
        decided before its shape is compared with its siblings'."""
        asked = [
            (time, task.serial, ref)
            for task in self.tasks
            for _, time, code, ref in task.events
            if code == GATHER and 0 <= ref < len(self.recording.gathers)
        ]
        scratch: Counter[str] = Counter()
        for time, parent, number in sorted(asked, reverse=True):
            children = self.recording.gathers[number]
            if not children:
                continue
            if not self._nestable(children, parent, time):
                self.counts["gather left"] += 1
                continue
            trees = self._child_trees(children, scratch)
            if any(uses_queues(tree) for tree in trees) or len({shape(t) for t in trees}) > 1:
                self.counts["gather left"] += 1
                continue
            self.decided[number] = "nest" if len(trees) > 1 else "inline"
            self.claimed.update(ref for kind, ref in children if kind == "task")

    def _nestable(self, children: tuple, parent: int, time: float) -> bool:
        """Every child known, in no other gather block, and not started before this gather
        (a task created earlier and gathered later did its first steps on its own)."""
        for kind, ref in children:
            if kind == "job":
                if not 0 <= ref < len(self.recording.jobs):
                    return False
                continue
            task = self.by_serial.get(ref)
            if kind != "task" or task is None or ref == parent or ref in self.claimed:
                return False
            if task.steps[0][1] < time:
                return False
        return True

    def _child_trees(self, children: tuple, counts: Counter[str]) -> list[list[Node]]:
        return [
            self._build(self.by_serial[ref], counts) if kind == "task" else self._job(ref)
            for kind, ref in children
        ]

    def games(self) -> list[RawTask]:
        """Tasks that are games of their own: all but the children of gather blocks."""
        return [t for t in self.tasks if t.serial < 0 or t.serial not in self.claimed]

    def tree(self, task: RawTask) -> list[Node]:
        """A game's nodes, what was written and left out counted in `counts`."""
        return self._build(task, self.counts)

    def _build(self, task: RawTask, counts: Counter[str]) -> list[Node]:
        root: list[Node] = []
        stack: list[With] = []
        here = root
        awaiting: tuple[int, int] | None = None  # the event that ends a wait made by the schedule
        pending: list[Node] | None = None  # what the next suspension was: a gather, a job
        #: released or taken in this step, in order: takes effect when the step ends
        settling: list[Node] = []
        held = _released_later(task) if self.structured else set()

        def settle() -> list[Node]:
            """End the blocks released in the step and take the items got in it, at the
            step's end: a waiter woken by a release runs only once the step is over, so the
            block holds the step's host time to its end; and a task that got an item at once
            went on without yielding the loop, so its round begins with what it did after."""
            nonlocal here
            for node in settling:
                if isinstance(node, Get):
                    here.append(node)
                    continue
                while stack:
                    block = stack.pop()
                    if block.resource == node.resource:
                        break
                    counts["with cut"] += 1  # not nested: closed with the outer one
                here = stack[-1].nodes if stack else root
            settling.clear()
            return here

        for token in self._tokens(task):
            if isinstance(token, Leaf):
                if awaiting is not None:
                    continue
                if token.kind in _SUSPENDED:
                    here = settle()
                    if pending is not None:
                        here.extend(pending)
                        pending = None
                        continue
                _append(here, token)
                continue
            position, code, ref = token
            if awaiting is not None:
                if (code, ref) != awaiting:
                    continue
                awaiting = None
                if code == GRANTED:
                    block = With(ref)
                    here.append(block)
                    stack.append(block)
                    here = block.nodes
                elif code == GET:
                    settling.append(Get(ref))
                else:
                    here = settle()
                    here.append(Put(ref))
                continue
            if code == ACQUIRE and position in held and ref in self.resources:
                here = settle()
                awaiting = (GRANTED, ref)
                counts["with"] += 1
            elif code == RELEASE and any(block.resource == ref for block in stack):
                settling.append(With(ref))
            elif code in (PUT_ASK, GET_ASK):
                awaiting = (PUT if code == PUT_ASK else GET, ref)
            elif code == GET:
                settling.append(Get(ref))
            elif code == PUT:
                here = settle()
                here.append(Put(ref))
            elif code == GATHER and ref in self.decided:
                trees = self._child_trees(self.recording.gathers[ref], counts)
                pending = [Gather(trees)] if self.decided[ref] == "nest" else list(trees[0])
                counts["gather"] += 1
            elif code == SUBMIT and ref in self.inline_jobs:
                pending = self._job(ref)
                counts["job"] += 1
        here = settle()
        if pending is not None:
            here.extend(pending)
        counts["with open"] += len(stack)
        return root

    def _job(self, number: int) -> list[Node]:
        """An executor job: its CPU time as host, the rest as wait, holding a worker."""
        obj, submitted, _, ended, cpu = self.recording.jobs[number]
        start = self.job_starts.get(number, submitted)
        wall = max(0.0, ended - start) if not math.isnan(ended) else 0.0
        cpu = min(cpu, wall)
        # a job mostly off the CPU (a blocking library, another process) holds a worker
        # and nothing else: a wait; one mostly on it needs the GIL, which the host stands
        # for, and waited for it the rest of the time, which the schedule makes again
        if cpu >= wall / 2:
            inside: list[Node] = [Leaf("host", cpu, cpu, -1, None)]
        else:
            inside = [Leaf("wait", wall, 0.0, -1, None)]
        if obj in self.resources:
            return [With(obj, inside)]
        return inside

    def _tokens(self, task: RawTask) -> list:
        """Leaves and events `(position among the task's events, code, reference)`, in
        time order; an event cuts the host time of its step where it happened."""
        out: list = []
        events = task.events if self.structured else ()
        at = 0
        previous_end = None
        for index, (ready, start, end, cpu, joined, switches) in enumerate(task.steps):
            if previous_end is not None:
                if joined:
                    out.append(Leaf("join", 0.0, 0.0, index, task))
                else:
                    out.append(Leaf("wait", max(0.0, ready - previous_end), 0.0, index, task))
            wall = end - start
            edge = start
            while at < len(events) and events[at][0] <= index:
                _, time, code, ref = events[at]
                time = min(max(time, edge), end)
                out.append(self._host(edge, time, wall, cpu, switches, index, task))
                out.append((at, code, ref))
                edge = time
                at += 1
            out.append(self._host(edge, end, wall, cpu, switches, index, task))
            previous_end = end
        out.extend((i, code, ref) for i, (_, _, code, ref) in enumerate(events) if i >= at)
        return out

    def _host(self, begin, end, wall, cpu, switches, index, task) -> Leaf:
        part = end - begin
        share = cpu * part / wall if wall > 0 else part
        blocked = switches > 0 and _blocked(part, share, self.threshold)
        return Leaf("block" if blocked else "host", part, share, index, task)


def _append(nodes: list[Node], leaf: Leaf) -> None:
    """Append, joining host time cut by an event that left nothing behind."""
    last = nodes[-1] if nodes else None
    if isinstance(last, Leaf) and last.kind == leaf.kind and leaf.kind in ("host", "block"):
        if leaf.wall > last.wall:
            last.step, last.task = leaf.step, leaf.task  # flags name the longer part's step
        last.wall += leaf.wall
        last.cpu += leaf.cpu
        return
    nodes.append(leaf)


def _released_later(task: RawTask) -> set[int]:
    """Places among the task's events of each ACQUIRE that a RELEASE of the same object
    follows in the same task (a lock another task gives back is no `with` block)."""
    later: set[int] = set()
    matched: set[int] = set()
    for position in range(len(task.events) - 1, -1, -1):
        _, _, code, ref = task.events[position]
        if code == RELEASE:
            later.add(ref)
        elif code == ACQUIRE and ref in later:
            matched.add(position)
    return matched


def _blocked(wall: float, cpu: float, threshold: float) -> bool:
    """Mostly off the CPU, for at least the threshold, having given the CPU up of its own
    accord: waiting inside a call, not computing nor preempted by another process."""
    return wall - cpu >= threshold and cpu < wall / 2


def _job_starts(recording: RawRecording) -> dict[int, float]:
    """When each job began: measured in a thread pool; for an executor that could not be
    watched, as a first-in first-out pool of its size would have begun it."""
    starts: dict[int, float] = {}
    unwatched: dict[int, list[int]] = {}
    for number, (obj, _, started, _, _) in enumerate(recording.jobs):
        if not math.isnan(started):
            starts[number] = started
        else:
            unwatched.setdefault(obj, []).append(number)
    for obj, numbers in unwatched.items():
        size = recording.objects[obj].capacity if obj in recording.objects else 1
        free = [0.0] * max(1, size)
        for number in sorted(numbers, key=lambda n: recording.jobs[n][1]):
            submitted, ended = recording.jobs[number][1], recording.jobs[number][3]
            starts[number] = max(submitted, heapq.heappop(free))
            heapq.heappush(free, ended if not math.isnan(ended) else starts[number])
    return starts
