"""A recording cut into the scenario's vocabulary: groups of players and their steps.

Each task becomes a game. Its steps, in order:

- a leading `wait` if it was created after the first task's first step (by a
  later step, or later in time): the scenario starts every game at 0;
- per loop step, a `host` step of the time its coroutine held the loop, or,
  when at least the threshold of it was spent off the CPU after giving the
  CPU up (`time.sleep`, a synchronous socket), a `host` step of its CPU time
  then a `block` step of the rest (a blocking call holds the loop like host
  work, but uses no CPU);
- between two loop steps, a `wait` step of the time the task was suspended
  and not ready — unless another task's work woke it (an awaited task, a
  gather, a queue): the scenario has no dependencies between games, so such a
  wait is left out and the two host steps follow each other.

Time a task was ready while the loop ran others is not written anywhere: the
schedule makes it. Tasks of one coroutine function with the same sequence of
step kinds form one group (a step that blocked counts as a kind of its own,
so the few tasks that hit a blocking call are a group apart and the others'
durations are not mixed with theirs); each step of its round keeps every
task's duration there.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from sim.record.program import RawRecording, RawTask
from sim.scenario.model import STEP_KINDS

__all__ = ["Flag", "Position", "RecordedGroup", "Transcript", "transcribe"]

#: Does the scenario format have the `block` step kind?
HAS_BLOCK = "block" in STEP_KINDS


@dataclass(frozen=True)
class Position:
    """One step of a group's round: its kind and each task's duration there (seconds)."""

    kind: str
    values: tuple[float, ...]
    note: str = ""


@dataclass(frozen=True)
class Flag:
    """A step that held the loop for at least the threshold in some tasks of a group."""

    group: str
    step: int  # place in the group's round, from 1
    tasks: int  # tasks of the group whose step was that long
    count: int  # tasks in the group
    mean_s: float  # mean duration of those long steps
    mean_cpu_s: float  # of which on the CPU
    blocking: bool  # mostly off the CPU: a blocking call rather than CPU work
    where: str  # where those tasks suspended after the step

    def sentence(self) -> str:
        if self.blocking:
            what = "likely blocking call"
        elif self.mean_cpu_s < self.mean_s / 2:
            what = "long step, mostly preempted by another process"
        else:
            what = "long CPU step"
        return (
            f"{what}: {self.group} step {self.step}, {self.tasks} of {self.count} task(s), "
            f"mean {self.mean_s * 1e3:.1f} ms ({self.mean_cpu_s * 1e3:.1f} ms on the CPU), "
            f"before {self.where}"
        )


@dataclass(frozen=True)
class RecordedGroup:
    """Tasks of one coroutine function with one sequence of step kinds."""

    name: str
    function: str
    where: str
    count: int
    positions: tuple[Position, ...]


@dataclass(frozen=True)
class Transcript:
    """The recording as groups, with what was flagged and what could not be expressed."""

    recording: RawRecording
    groups: tuple[RecordedGroup, ...]
    flags: tuple[Flag, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def makespan_s(self) -> float:
        """From the first task's creation to the end of the last step."""
        return max((step[2] for t in self.recording.tasks for step in t.steps), default=0.0)

    @property
    def host_s(self) -> float:
        return sum(step[2] - step[1] for t in self.recording.tasks for step in t.steps)

    @property
    def wait_for_host_s(self) -> float:
        return sum(step[1] - step[0] for t in self.recording.tasks for step in t.steps)

    @property
    def steps(self) -> int:
        return sum(len(t.steps) for t in self.recording.tasks)


# One item of a task's life: (kind, wall s, cpu s, step index, blocked?); "join" has no time.
_Item = tuple[str, float, float, int, bool]


def transcribe(recording: RawRecording, exact: bool = False) -> Transcript:
    """Group the recording's tasks and lay out each group's steps.

    `exact`: every task a group of its own, with its own measured durations: the
    scenario replays the recorded run itself (under any schedule) but has nothing to
    scale by `count`. Resampled durations cannot reproduce a run whose makespan is
    one slow task's chain of waits (the maximum of a resample runs low).
    """
    tasks = sorted(recording.tasks, key=lambda t: t.born)
    if not tasks:
        return Transcript(recording, (), (), ("the program's event loop ran no task",))
    first_step_end = tasks[0].steps[0][2]
    lives = [(task, _items(task, first_step_end, recording.threshold)) for task in tasks]
    buckets: dict[tuple, list[tuple[RawTask, list[_Item]]]] = {}
    for place, (task, items) in enumerate(lives):
        key = (task.function, task.file, tuple(kind for kind, *_ in items), place if exact else 0)
        buckets.setdefault(key, []).append((task, items))
    names = _names(list(buckets))
    groups, flags = [], []
    for key, members in buckets.items():
        group, found = _group(names[key], members, recording.threshold)
        groups.append(group)
        flags += found
    return Transcript(recording, tuple(groups), tuple(flags), _notes(recording, lives))


def _items(task: RawTask, first_step_end: float, threshold: float) -> list[_Item]:
    """The task's life as (kind, …) items; a step that blocked is of kind "block"."""
    items: list[_Item] = []
    if task.born > first_step_end:
        items.append(("wait", task.born, 0.0, -1, False))
    previous_end = None
    for index, (ready, start, end, cpu, joined, switches) in enumerate(task.steps):
        if previous_end is not None:
            if joined:
                items.append(("join", 0.0, 0.0, index, False))
            else:
                items.append(("wait", max(0.0, ready - previous_end), 0.0, index, False))
        blocked = switches > 0 and _blocked(end - start, cpu, threshold)
        items.append(("block" if blocked else "host", end - start, cpu, index, blocked))
        previous_end = end
    return items


def _names(keys: list[tuple]) -> dict[tuple, str]:
    """The function's name; `name#2`, … for its further shapes; a file stem on clashes."""
    names: dict[tuple, str] = {}
    shapes: Counter[str] = Counter()
    files: dict[str, set[str]] = {}
    for function, file, *_ in keys:
        files.setdefault(function, set()).add(file)
    for key in keys:
        function, file, *_ = key
        base = function
        if len(files[function]) > 1:
            stem = file.rsplit("/", 1)[-1].removesuffix(".py")
            base = f"{function}@{stem}"
        shapes[base] += 1
        names[key] = base if shapes[base] == 1 else f"{base}#{shapes[base]}"
    return names


def _group(
    name: str, members: list[tuple[RawTask, list[_Item]]], threshold: float
) -> tuple[RecordedGroup, list[Flag]]:
    first = members[0][0]
    width = len(members[0][1])
    positions: list[Position] = []
    flags: list[Flag] = []
    after_join = False
    for place in range(width):
        column = [items[place] for _, items in members]
        kind = column[0][0]
        if kind == "join":
            after_join = True
            continue
        note = "after waiting on another task" if after_join else ""
        after_join = False
        walls = tuple(item[1] for item in column)
        if kind == "wait":
            positions.append(Position("wait", walls, note))
            continue
        cpus = [item[2] for item in column]
        long_ = [i for i, wall in enumerate(walls) if wall >= threshold]
        if long_:
            flag = _flag(name, len(positions) + 1, members, column, long_, kind == "block")
            flags.append(flag)
            note = "; ".join(part for part in (note, flag.sentence()) if part)
        if kind == "block" and HAS_BLOCK:
            host = tuple(cpus)
            block = tuple(wall - cpu for wall, cpu in zip(walls, cpus, strict=True))
            positions.append(Position("host", host, note))
            positions.append(Position("block", block, "the blocking call's time off the CPU"))
        else:
            positions.append(Position("host", walls, note))
    where = f"{first.file}:{first.line}"
    return RecordedGroup(name, first.function, where, len(members), tuple(positions)), flags


def _blocked(wall: float, cpu: float, threshold: float) -> bool:
    """Mostly off the CPU, for at least the threshold, having given the CPU up of its own
    accord: waiting inside a call, not computing nor preempted by another process."""
    return wall - cpu >= threshold and cpu < wall / 2


def _flag(name, step, members, column, long_, blocking: bool) -> Flag:
    places = Counter(members[i][0].long_steps.get(column[i][3], "?") for i in long_)
    return Flag(
        group=name,
        step=step,
        tasks=len(long_),
        count=len(members),
        mean_s=sum(column[i][1] for i in long_) / len(long_),
        mean_cpu_s=sum(column[i][2] for i in long_) / len(long_),
        blocking=blocking,
        where=_relative(places.most_common(1)[0][0]),
    )


def _relative(where: str) -> str:
    """`file:line (function)` with the file relative to the working folder when inside it."""
    file, colon, rest = where.partition(":")
    if not colon or not os.path.isabs(file):
        return where
    relative = os.path.relpath(file)
    return f"{file if relative.startswith('..') else relative}:{rest}"


def _notes(recording: RawRecording, lives: list[tuple[RawTask, list[_Item]]]) -> tuple[str, ...]:
    notes = []
    late = sum(1 for _, items in lives if items and items[0][3] == -1)
    joins = sum(1 for _, items in lives for kind, *_ in items if kind == "join")
    if late:
        notes.append(
            f"{late} task(s) were created after the first step; each begins with a wait until then"
        )
    if joins:
        notes.append(
            f"{joins} wait(s) on other tasks (an awaited task, gather, a queue) left out: "
            "the scenario has no dependencies between games"
        )
    if recording.loops > 1:
        notes.append(f"the program ran {recording.loops} event loops; only the busiest is kept")
    return tuple(notes)
