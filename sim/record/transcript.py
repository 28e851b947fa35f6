"""A recording cut into the scenario's vocabulary: groups of players and their steps.

Each task becomes a game, unless it is a child of a gather written as a block
(see below). Its steps, in order:

- a leading `wait` if it was created after the first task's first step (by a
  later step, or later in time): the scenario starts every game at 0;
- per loop step, a `host` step of the time its coroutine held the loop, or,
  when at least the threshold of it was spent off the CPU after giving the
  CPU up (`time.sleep`, a synchronous socket), a `host` step of its CPU time
  then a `block` step of the rest (a blocking call holds the loop like host
  work, but uses no CPU);
- between two loop steps, a `wait` step of the time the task was suspended
  and not ready — unless another task's work woke it.

A wait on another task is written as what it waited on, when the format has
it (`sim.record.structure` builds each task's tree): a semaphore or lock held
is a `with` block on a resource of the program's capacity; a queue's item
handed over is a `put`, and a task whose rounds each begin by taking an item
is a group that `serves` the queue (a task that puts is a group of `moves`
rounds, one per item); a gather of children of one shape is a `gather`
block; an executor job is a `with` block on the executor's workers. The time
spent waiting there is not written: the schedule makes it again, at whatever
size the scenario is played. Any other wait on another task (an awaited task,
an event, a gather of children of several shapes) is left out, and the two
host steps around it follow each other.

Time a task was ready while the loop ran others is not written anywhere: the
schedule makes it. Tasks of one coroutine function with the same shape of
steps form one group (a step that blocked counts as a kind of its own, so the
few tasks that hit a blocking call are a group apart and the others'
durations are not mixed with theirs); each step of its round keeps every
task's duration there.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from sim.record.program import RawRecording, RawTask
from sim.record.structure import Gather, Get, Leaf, Lives, Node, Put, With, shape
from sim.scenario.model import STEP_KINDS, Scenario

__all__ = [
    "HAS_BLOCKS",
    "Flag",
    "Position",
    "RecordedGroup",
    "Transcript",
    "cleaned",
    "positions_of",
    "rounds_of",
    "served_queue",
    "transcribe",
]

#: Does the scenario format have the `block` step kind?
HAS_BLOCK = "block" in STEP_KINDS
#: Does it have shared resources and queues, and `with`, `gather` and `put` steps?
HAS_BLOCKS = "resources" in Scenario.model_fields and "queues" in Scenario.model_fields


@dataclass(frozen=True)
class Position:
    """One step of a group's round: its kind and each task's duration there (seconds);
    for a block, what it holds or waits for and the steps inside it."""

    kind: str
    values: tuple[float, ...] = ()
    note: str = ""
    target: str = ""  # with: the resource held; put: the queue
    count: int = 0  # gather: children started at once
    steps: tuple[Position, ...] = ()  # with, gather: the steps inside


@dataclass(frozen=True)
class Flag:
    """A step that held the loop for at least the threshold in some tasks of a group."""

    group: str
    step: int | str  # place in the group's round, from 1; `2.1` inside the block at 2
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
    moves: int = 1  # rounds per game: a producer's, one per item it put
    serves: str = ""  # the queue each round begins by taking an item from


@dataclass(frozen=True)
class Transcript:
    """The recording as groups, with what was flagged and what could not be expressed."""

    recording: RawRecording
    groups: tuple[RecordedGroup, ...]
    flags: tuple[Flag, ...]
    notes: tuple[str, ...] = field(default=())
    resources: dict[str, int] = field(default_factory=dict)  # name → units
    queues: dict[str, int] = field(default_factory=dict)  # name → maxsize (0: unbounded)
    executors: dict[str, int] = field(default_factory=dict)  # name → max_workers

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


def transcribe(
    recording: RawRecording, exact: bool = False, structured: bool | None = None
) -> Transcript:
    """Group the recording's tasks and lay out each group's steps.

    `exact`: every task a group of its own, with its own measured durations: the
    scenario replays the recorded run itself (under any schedule) but has nothing to
    scale by `count`. Resampled durations cannot reproduce a run whose makespan is
    one slow task's chain of waits (the maximum of a resample runs short).
    `structured`: write waits on other tasks as blocks (default: when the format has
    them); without, every task is a game of flat steps.
    """
    structured = HAS_BLOCKS if structured is None else structured
    tasks = sorted(recording.tasks, key=lambda t: t.born)
    if not tasks:
        return Transcript(recording, (), (), ("the program's event loop ran no task",))
    first_step_end = tasks[0].steps[0][2]
    lives = Lives(recording, structured=structured)
    games = [(task, lives.tree(task)) for task in lives.games()]
    serving = [served_queue(nodes) for _, nodes in games]
    served = {queue for queue in serving if queue is not None}
    buckets: dict[tuple, list[tuple[RawTask, list[list[Node]]]]] = {}
    late = 0
    for place, (task, nodes) in enumerate(games):
        nodes = cleaned(nodes, served, serving[place], lives.counts)
        born_wait = task.born > first_step_end
        if born_wait:
            nodes.insert(0, Leaf("wait", task.born, 0.0, -1, task))
            late += 1
        role, rounds = rounds_of(nodes, born_wait, lives.counts)
        key = (task.function, task.file, role, shape(rounds[0]), place if exact else 0)
        buckets.setdefault(key, []).append((task, rounds))
    names = _names(list(buckets))
    objects = recording.objects
    groups, flags = [], []
    for key, members in buckets.items():
        columns = [nodes for _, rounds in members for nodes in rounds]
        positions, found = positions_of(names[key], columns, objects, recording.threshold, "")
        first = members[0][0]
        role = key[2]
        groups.append(
            RecordedGroup(
                names[key],
                first.function,
                f"{first.file}:{first.line}",
                len(members),
                positions,
                moves=role[1] if role[0] == "moves" else 1,
                serves=objects[role[1]].name if role[0] == "serves" else "",
            )
        )
        flags += found
    resources, queues, executors = _shared(groups, objects)
    notes = _notes(recording, games, late, lives.counts)
    return Transcript(recording, tuple(groups), tuple(flags), notes, resources, queues, executors)


def served_queue(nodes: list[Node]) -> int | None:
    """The queue a game serves: the one its top-level gets take from most, if it does
    nothing before the first but host work and waits (a round begins with an item; what
    comes before has no place in one) and puts nothing into it (it would feed itself)."""
    gets = Counter(node.queue for node in nodes if isinstance(node, Get))
    if not gets:
        return None
    queue = gets.most_common(1)[0][0]
    first = next(i for i, node in enumerate(nodes) if isinstance(node, Get) and node.queue == queue)
    if not all(isinstance(node, Leaf) for node in nodes[:first]) or _puts(nodes, queue):
        return None
    return queue


def _puts(nodes: list[Node], queue: int) -> bool:
    for node in nodes:
        if isinstance(node, Put) and node.queue == queue:
            return True
        if isinstance(node, With) and _puts(node.nodes, queue):
            return True
        if isinstance(node, Gather) and any(_puts(child, queue) for child in node.children):
            return True
    return False


def cleaned(
    nodes: list[Node], served: set[int], serves: int | None, counts: Counter[str], top: bool = True
) -> list:
    """Without puts into queues no game serves (nothing would take their items) and gets
    that begin no round of this game (a wait for an item is then left out, like a wait on
    another task); host time on both sides of what was dropped joined."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Put) and node.queue not in served:
            counts["put unserved"] += 1
        elif isinstance(node, Get) and not (top and node.queue == serves):
            counts["get left"] += 1
        elif isinstance(node, Leaf):
            _append(out, node)
        elif isinstance(node, With):
            inside = cleaned(node.nodes, served, serves, counts, False)
            out.append(With(node.resource, inside))
        elif isinstance(node, Gather):
            children = [cleaned(c, served, serves, counts, False) for c in node.children]
            out.append(Gather(children))
        else:
            out.append(node)
    return out


def _append(nodes: list[Node], leaf: Leaf) -> None:
    last = nodes[-1] if nodes else None
    if isinstance(last, Leaf) and last.kind == leaf.kind and leaf.kind in ("host", "block"):
        nodes[-1] = Leaf(
            last.kind, last.wall + leaf.wall, last.cpu + leaf.cpu, last.step, last.task
        )
    else:
        nodes.append(leaf)


def rounds_of(
    nodes: list[Node], born_wait: bool, counts: Counter[str]
) -> tuple[tuple, list[list[Node]]]:
    """A game's role and its rounds: ("serves", queue) and one round per item taken;
    ("moves", n) and one round per item put; or ("game",) and its whole life."""
    cuts = [i for i, node in enumerate(nodes) if isinstance(node, Get)]
    if cuts:  # only the gets of the queue it serves are left
        queue = nodes[cuts[0]].queue
        prefix = nodes[1 if born_wait else 0 : cuts[0]]
        if any(not (isinstance(n, Leaf) and n.kind == "host") for n in prefix):
            counts["consumer prefix"] += 1  # before its first item: no place in a round
        rounds = [nodes[a + 1 : b] for a, b in zip(cuts, [*cuts[1:], len(nodes)], strict=True)]
        rounds = [r for r in rounds if r] or [[Leaf("host", 0.0, 0.0, -1, None)]]
        common = Counter(shape(r) for r in rounds).most_common(1)[0][0]
        kept = [r for r in rounds if shape(r) == common]
        counts["rounds dropped"] += len(rounds) - len(kept)
        return ("serves", queue), kept
    cuts = [i for i, node in enumerate(nodes) if isinstance(node, Put)]
    if len(cuts) >= 2:
        bounds = [0, *(i + 1 for i in cuts)]
        rounds = [nodes[a:b] for a, b in pairwise(bounds)]
        if born_wait and len(rounds[0]) > 1:
            trimmed = rounds[0][1:]
            if shape(trimmed) == shape(rounds[1]):
                rounds[0] = trimmed  # its late start: no place in a round
                counts["producer start"] += 1
        if len({shape(r) for r in rounds}) == 1:
            tail = nodes[cuts[-1] + 1 :]
            if any(not isinstance(n, Leaf) or n.kind != "host" for n in tail):
                counts["producer tail"] += 1
            return ("moves", len(rounds)), rounds
    return ("game",), [nodes]


def positions_of(
    name: str, columns: list[list[Node]], objects: dict, threshold: float, label: str
) -> tuple[tuple[Position, ...], list[Flag]]:
    """One round's positions from trees of one shape: each position every tree's values."""
    positions: list[Position] = []
    flags: list[Flag] = []
    after_join = False
    for place in range(len(columns[0])):
        column = [nodes[place] for nodes in columns]
        first = column[0]
        here = f"{label}{len(positions) + 1}" if label else len(positions) + 1
        note = "after waiting on another task" if after_join else ""
        if isinstance(first, Leaf) and first.kind == "join":
            after_join = True
            continue
        after_join = False
        if isinstance(first, With):
            inside, found = positions_of(
                name, [n.nodes for n in column], objects, threshold, f"{here}."
            )
            target = objects[first.resource].name
            positions.append(Position("with", note=note, target=target, steps=inside))
            flags += found
        elif isinstance(first, Gather):
            children = [child for n in column for child in n.children]
            inside, found = positions_of(name, children, objects, threshold, f"{here}.")
            count = len(first.children)
            positions.append(Position("gather", note=note, count=count, steps=inside))
            flags += found
        elif isinstance(first, Put):
            positions.append(Position("put", note=note, target=objects[first.queue].name))
        else:
            flag, added = _leaf(name, here, column, note, threshold)
            positions += added
            flags += flag
    return tuple(positions), flags


def _leaf(name: str, here, column: list, note: str, threshold: float):
    """A host, block or wait position; a host or block at least `threshold` long flagged."""
    kind = column[0].kind
    walls = tuple(leaf.wall for leaf in column)
    if kind in ("wait", "native"):  # off the CPU; C code without the GIL (never flagged)
        return [], [Position(kind, walls, note)]
    cpus = [leaf.cpu for leaf in column]
    long_ = [i for i, wall in enumerate(walls) if wall >= threshold and column[i].task is not None]
    flags = []
    if long_:
        flag = _flag(name, here, column, long_, kind == "block")
        flags.append(flag)
        note = "; ".join(part for part in (note, flag.sentence()) if part)
    if kind == "block" and HAS_BLOCK:
        host = tuple(cpus)
        block = tuple(wall - cpu for wall, cpu in zip(walls, cpus, strict=True))
        return flags, [
            Position("host", host, note),
            Position("block", block, "the blocking call's time off the CPU"),
        ]
    return flags, [Position("host", walls, note)]


def _shared(
    groups: list[RecordedGroup], objects: dict
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """The resources, queues and executors the groups use, by name, with their capacities."""
    by_name = {o.name: o for o in objects.values()}
    used: set[str] = {group.serves for group in groups if group.serves}

    def walk(positions: tuple[Position, ...]) -> None:
        for position in positions:
            if position.target:
                used.add(position.target)
            walk(position.steps)

    for group in groups:
        walk(group.positions)
    kinds: dict[str, dict[str, int]] = {"resource": {}, "queue": {}, "executor": {}}
    for name in sorted(used):
        kind = by_name[name].kind
        kinds[kind if kind in kinds else "resource"][name] = by_name[name].capacity
    return kinds["resource"], kinds["queue"], kinds["executor"]


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


def _flag(name: str, step: int | str, column: list[Leaf], long_: list[int], blocking: bool) -> Flag:
    places = Counter(column[i].task.long_steps.get(column[i].step, "?") for i in long_)
    return Flag(
        group=name,
        step=step,
        tasks=len(long_),
        count=len(column),
        mean_s=sum(column[i].wall for i in long_) / len(long_),
        mean_cpu_s=sum(column[i].cpu for i in long_) / len(long_),
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


def _notes(
    recording: RawRecording,
    games: list[tuple[RawTask, list[Node]]],
    late: int,
    counts: Counter[str],
) -> tuple[str, ...]:
    notes = []
    joins = sum(_joins(nodes) for _, nodes in games)
    if late:
        notes.append(
            f"{late} task(s) were created after the first step; each begins with a wait until then"
        )
    blocks = counts["with"] + counts["gather"] + counts["job"] + counts["gather left"]
    if joins and not blocks and not any(t.events for t in recording.tasks):
        notes.append(
            f"{joins} wait(s) on other tasks (an awaited task, gather, a queue) left out: "
            "the scenario has no dependencies between games"
        )
    elif joins:
        notes.append(
            f"{joins} wait(s) on other tasks (an awaited task, an event, a gather not written "
            "as a block) left out: the host steps around each follow each other"
        )
    written = [
        (counts["with"], "hold(s) of a semaphore or lock written as `with` blocks"),
        (counts["job"], "executor job(s) written as `with` blocks on the executor's workers"),
        (
            counts["gather"],
            "gather(s) written as `gather` blocks (of one child: the child's steps)",
        ),
    ]
    notes += [f"{n} {text}" for n, text in written if n]
    left = [
        ("gather left", "gather(s) of children of several shapes, or that use queues, "
         "written as games of their own (a gather block's children share one round)"),
        ("with cut", "lock(s) given back out of order: closed with the one around them"),
        ("with open", "lock(s) a task never gave back: held to its end"),
        ("put unserved", "put(s) into queues no task takes from left out"),
        ("get left", "get(s) that begin no consumer's round left out, with the wait for the "
         "item (a consumer takes from one queue, doing only host work and waits before)"),
        ("consumer prefix", "consumer(s) waited before their first item; that part is left out"),
        ("rounds dropped", "consumer round(s) of a less common shape left out"),
        ("producer start", "producer(s) created late: their start is left out of the rounds"),
        ("producer tail", "producer(s) did more than host work after their last item; "
         "that part is left out"),
    ]  # fmt: skip
    notes += [f"{counts[key]} {text}" for key, text in left if counts[key]]
    if recording.loops > 1:
        notes.append(f"the program ran {recording.loops} event loops; only the busiest is kept")
    return tuple(notes)


def _joins(nodes: list[Node]) -> int:
    total = 0
    for node in nodes:
        if isinstance(node, Leaf):
            total += node.kind == "join"
        elif isinstance(node, With):
            total += _joins(node.nodes)
        elif isinstance(node, Gather):
            total += sum(_joins(child) for child in node.children)
    return total
