"""What the games of a scenario shared: figures per resource and queue, and who each row is.

Scenarios with `resources:` or `queues:` (docs/design.md, "Shared limits,
queues and fan-out") carry a played workload whose rows say what they waited
for (`Workload.shared`). The tables, the timeline, the trace and the report
page all read the same figures from here, so they cannot disagree:

- a `with` row is asked at `ready`, granted at `start`, released at `end`:
  the resource is held from start to end, `units` at a time (the units are
  the plan's, not the row's: an ACQUIRE operation takes them);
- a `put` row is asked at `ready` and accepted at `start` (= `end`); a `get`
  row is asked at `ready` and takes its item at `start`, except a consumer's
  last `get`, which ends with the queue closed and takes nothing;
- the children of a `gather` play at once inside their game, so each row
  also has a *path*: the gathers and children it sits in, from the outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

import numpy as np

from sim.engine.plan import ACQUIRE, GATHER, RELEASE, Op, Plan
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS, TIMED_KINDS

__all__ = [
    "GATHER_KIND",
    "GET",
    "PUT",
    "TIMED",
    "WITH",
    "Figures",
    "Place",
    "figures",
    "labels",
    "places",
    "units",
]

WITH, GATHER_KIND, PUT, GET = (STEP_KINDS.index(k) for k in ("with", "gather", "put", "get"))
#: Codes of the kinds that last a duration of their own (host, wait, block, native).
TIMED = np.array([STEP_KINDS.index(kind) for kind in TIMED_KINDS], dtype=np.int8)
#: The columns every scenario has that a name's columns could repeat (a resource `host`).
_FIXED = frozenset({"wait_for_host_s", "host_utilization"})

#: Where a leaf sits: (leaf of the gather, which child from 0, children) from the outside in.
Path = tuple[tuple[int, int, int], ...]


def labels(plan: Plan) -> tuple[str, ...]:
    """Each name as it appears in column names: the name itself, or `resource_NAME` /
    `queue_NAME` where a column of it would repeat one every scenario has (`host`)."""
    found = []
    for index, name in enumerate(plan.names):
        kind = "queue" if plan.is_queue(index) else "resource"
        columns = {f"wait_for_{name}_s", f"{name}_utilization"}
        found.append(f"{kind}_{name}" if columns & _FIXED else name)
    return tuple(found)


def units(workload: Workload, rows: np.ndarray | None = None) -> np.ndarray:
    """Units of its resource each `with` row holds (0 for every other row); of `rows`
    only, when given (row numbers)."""
    plan = workload.plan
    widths = [len(leaves) for leaves in plan.leaves]
    offsets = np.concatenate(([0], np.cumsum(widths)))
    table = np.zeros(int(offsets[-1]), dtype=np.int64)
    for group, ops in enumerate(plan.ops):
        for op, leaf, _path, _inside in _walk(ops, 0, ()):
            if op.code == ACQUIRE:
                table[offsets[group] + leaf] = op.units
    if rows is None:
        rows = np.arange(len(workload.kind))
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    group_of_row = workload.group[workload.game[rows]]
    return np.where(
        workload.kind[rows] == WITH, table[offsets[group_of_row] + workload.step[rows]], 0
    )


@dataclass(frozen=True, slots=True)
class Place:
    """Per row: its task (0 for the game itself, then one per child of a gather, in leaf
    order), its band of the game's lane (centre and half-height, the lane being −1 to 1)
    and its depth: the `with` blocks of its own task around it."""

    task: np.ndarray
    centre: np.ndarray
    half: np.ndarray
    depth: np.ndarray
    names: tuple[tuple[str, ...], ...]  # per group: its tasks' suffixes (`""`, `/1`, `/2/1` …)


def places(workload: Workload) -> Place:
    """Where each row goes: gather children get bands of their parent's band, side by side."""
    plan = workload.plan
    widths = [len(leaves) for leaves in plan.leaves]
    offsets = np.concatenate(([0], np.cumsum(widths))).astype(np.int64)
    total = int(offsets[-1])
    task, depth = np.zeros(total, np.int64), np.zeros(total, np.int64)
    centre, half = np.zeros(total), np.ones(total)
    names = []
    for group, ops in enumerate(plan.ops):
        known: dict[tuple[tuple[int, int], ...], int] = {(): 0}
        for _op, leaf, path, inside in _walk(ops, 0, ()):
            key = tuple((gather, child) for gather, child, _count in path)
            index = offsets[group] + leaf
            task[index], depth[index] = known.setdefault(key, len(known)), inside
            low, high = -1.0, 1.0
            for _gather, child, count in path:
                size = (high - low) / count
                low, high = low + child * size, low + (child + 1) * size
            centre[index], half[index] = (low + high) / 2, (high - low) / 2
        names.append(tuple("".join(f"/{child + 1}" for _gather, child in key) for key in known))
    if not len(workload.kind):
        empty = np.zeros(0, np.int64)
        return Place(empty, empty.astype(float), empty.astype(float), empty, tuple(names))
    at = offsets[workload.group[workload.game]] + workload.step
    return Place(task[at], centre[at], half[at], depth[at], tuple(names))


def _walk(ops: tuple[Op, ...], base: int, path: Path, inside: int = 0):
    """Every operation with its leaf in the round, its path, and the `with` blocks of its
    own task around it; children included, each from a depth of 0 (a task of its own)."""
    for op in ops:
        leaf = base + op.leaf
        if op.code == RELEASE:
            inside -= 1
            continue
        yield op, leaf, path, inside
        if op.code == ACQUIRE:
            inside += 1
        elif op.code == GATHER:
            for child in range(op.count):
                within = (*path, (leaf, child, op.count))
                yield from _walk(op.child, leaf + 1 + child * op.width, within)


@dataclass(frozen=True)
class Figures:
    """One trace's figures per resource and queue (index into `plan.names`)."""

    labels: tuple[str, ...]
    names: tuple[str, ...]
    resources: int  # names below this index are resources
    capacity: tuple[int, ...]
    per_game_wait: np.ndarray  # names × games: seconds asked and not yet granted
    utilization: np.ndarray  # per resource: units held over time ÷ (capacity × makespan)
    mean_wait: np.ndarray  # per name, over its rows (NaN when it has none)
    max_wait: np.ndarray
    mean_length: np.ndarray  # per queue (index − resources): items held, over time
    max_length: np.ndarray

    def games_columns(self) -> dict[str, np.ndarray]:
        return {f"wait_for_{label}_s": self.per_game_wait[i] for i, label in enumerate(self.labels)}

    def summary_columns(self) -> dict[str, float]:
        row: dict[str, float] = {}
        for i, label in enumerate(self.labels):
            if i < self.resources:
                row[f"{label}_utilization"] = float(self.utilization[i])
            else:
                row[f"{label}_mean_length"] = float(self.mean_length[i - self.resources])
                row[f"{label}_max_length"] = float(self.max_length[i - self.resources])
            row[f"{label}_mean_wait_s"] = float(self.mean_wait[i])
            row[f"{label}_max_wait_s"] = float(self.max_wait[i])
        return row


def figures(trace: Trace) -> Figures:
    """The shared figures of a trace whose workload shares something; kept while it lives."""
    known = _FIGURES.get(trace)
    if known is None:
        known = _FIGURES[trace] = _figures(trace)
    return known


_FIGURES: WeakKeyDictionary[Trace, Figures] = WeakKeyDictionary()


def _figures(trace: Trace) -> Figures:
    workload = trace.workload
    plan = workload.plan
    assert workload.shared is not None, "a scenario that shares nothing has no shared figures"
    makespan = trace.makespan
    # only the rows that wait for a resource or a queue count here: the figures are
    # taken over those alone (a bincount adds nothing for the others, a mean or a sum
    # sees the same numbers in the same order), a fraction of the rows at scale
    rows = np.flatnonzero(workload.shared >= 0)
    shared, kind = workload.shared[rows], workload.kind[rows]
    games, n = workload.game[rows].astype(np.intp), workload.games
    start = trace.start[rows]
    waited = start - trace.ready[rows]
    end = trace.end[rows]
    # units held × seconds, read at the `with` rows only (those of a resource): where
    # every `with` takes one unit that is the seconds themselves
    held = end - start
    if any(op.units > 1 for ops in plan.ops for op, *_ in _walk(ops, 0, ()) if op.code == ACQUIRE):
        held *= units(workload, rows)
    count = len(plan.names)
    per_game = np.zeros((count, n))
    utilization = np.zeros(plan.resources)
    mean_wait, max_wait = np.full(count, np.nan), np.full(count, np.nan)
    queues = count - plan.resources
    mean_length, max_length = np.zeros(queues), np.zeros(queues)
    taken = _item_gets(workload)[rows]
    for i in range(count):
        mine = shared == i
        per_game[i] = np.bincount(games[mine], weights=waited[mine], minlength=n)
        if mine.any():
            mean_wait[i], max_wait[i] = float(waited[mine].mean()), float(waited[mine].max())
        if i < plan.resources:
            busy = float(held[mine].sum())
            utilization[i] = busy / (plan.capacity[i] * makespan) if makespan else 0.0
        else:
            put = end[mine & (kind == PUT)]
            got = start[mine & taken]
            mean_length[i - plan.resources], max_length[i - plan.resources] = _length(
                put, got, makespan
            )
    return Figures(
        labels=labels(plan),
        names=plan.names,
        resources=plan.resources,
        capacity=plan.capacity,
        per_game_wait=per_game,
        utilization=utilization,
        mean_wait=mean_wait,
        max_wait=max_wait,
        mean_length=mean_length,
        max_length=max_length,
    )


def _item_gets(workload: Workload) -> np.ndarray:
    """Per row: a `get` that took an item. A consumer ends on a `get` that found its queue
    closed, and rows are in time order within a game, so that is each game's last `get`."""
    gets = np.flatnonzero(workload.kind == GET)
    taken = np.zeros(len(workload.kind), dtype=bool)
    if len(gets):
        game = workload.game[gets]
        last = np.append(game[1:] != game[:-1], True)
        taken[gets[~last]] = True
    return taken


def _length(put: np.ndarray, got: np.ndarray, makespan: float) -> tuple[float, float]:
    """Mean and max items in a queue: +1 when a put is accepted, −1 when a get takes one.

    The length counted is the one after each instant settles, so an item handed
    to a waiting consumer at the instant it is put never counts, and a full
    queue freed and filled at one instant stays at its maxsize.
    """
    times = np.concatenate((put, got))
    if not len(times):
        return 0.0, 0.0
    change = np.concatenate((np.ones(len(put)), -np.ones(len(got))))
    instants, where = np.unique(times, return_inverse=True)
    level = np.cumsum(np.bincount(where, weights=change, minlength=len(instants)))
    spans = np.diff(np.append(instants, max(makespan, float(instants[-1]))))
    mean = float((level * spans).sum() / makespan) if makespan else 0.0
    return mean, float(max(level.max(), 0.0))
