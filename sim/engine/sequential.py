"""Synchronous play of games that share, on one host: one sequence of steps, in numpy.

On one host the synchronous schedule plays one game at a time, to its end,
in the hand-out order (`sim.engine.programs.hand_out_order`: file order, a
queue's consumers after every game that puts into it). Nothing runs beside
the game that plays, so nothing it asks for is ever taken: a resource is
granted on the spot, every item is in its queue before the queue's first
consumer starts (and that consumer takes them all, the others finding the
queue closed), a gather's children play one after another. The whole run is
then one sequence of rows whose times are running sums:

- a row starts when the one before it in the sequence ended; a timed row
  ends its duration later, a `with` or `gather` row when the last row inside
  it ends, a `put` or `get` row when it starts;
- a row is ready when it starts, except a game's first timed row (ready at
  0, when every game is handed in) and a gather child's first timed row
  (ready when the gather started, waiting for its turn among the children);
- the times written are the instants the sums fall on (`clock.instants`), as
  the task engine writes them.

These are the task engine's rules for one host (tests/test_fast_shared.py
differences the two, bit for bit); it plays instead wherever a game would wait
for ever here (a `with` inside one game asking more units than are left, a
bounded queue that its producers would fill before any consumer starts), or
the schedule has more hosts or a switching cost: `play` returns None.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.engine.clock import instants
from sim.engine.plan import ACQUIRE, GATHER, RELEASE, Op
from sim.engine.programs import hand_out_order
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS, TIMED_KINDS
from sim.scenario.schedules import Schedule

__all__ = ["never_waits", "play"]

#: Per step kind's code: a timed kind (one that lasts a duration of its own) …
_TIMED = np.isin(np.arange(len(STEP_KINDS)), [STEP_KINDS.index(kind) for kind in TIMED_KINDS])
#: … and a container (`with`, `gather`: it ends with the last row inside it).
_CONTAINER = np.isin(np.arange(len(STEP_KINDS)), [STEP_KINDS.index(k) for k in ("with", "gather")])


def play(workload: Workload, schedule: Schedule) -> Trace | None:
    """Play every game one after another on one host; None where this does not apply."""
    if schedule.hosts(workload.hosts) != 1 or workload.switch_cost or not never_waits(workload):
        return None
    plan = workload.plan
    scenario = workload.scenario
    order = np.asarray(hand_out_order(workload), dtype=np.int64)
    group = workload.group.tolist()
    items = scenario.items()
    took: dict[int, list[tuple[int, int]]] = {g: [] for g in workload.served or {}}
    closed: list[tuple[int, int, int]] = []
    first_taker: dict[int, int] = {}  # per queue: the consumer that takes every item
    serves = np.array(plan.serves, dtype=np.int64)[workload.group[order]]
    for game in order[serves >= 0].tolist():  # the consumers, in the hand-out order
        g = group[game]
        q = plan.serves[g]
        rounds = 0
        if q not in first_taker:
            first_taker[q] = game
            rounds = items[plan.names[q]]
            took[g] = [(game, move) for move in range(rounds)]
        closed.append((game, rounds, q))
    if took:
        played, _ = workload.with_rows(workload.served_rows(took, closed))
    else:
        played = dataclasses.replace(workload, served=None)
        played.__dict__["plan"] = plan
    ready, start, end = (instants(c) for c in _times(played, order))
    host = np.zeros(len(start), dtype=np.int32)
    trace = Trace(played, schedule, ready, start, end, host)
    # the host takes up each game in turn: a switch (free here) at every game but the first
    return dataclasses.replace(trace, switches=max(workload.games - 1, 0))


def _times(played: Workload, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ready, start and end of every row of `played`, its games played in `order`."""
    first = played.first_step
    lengths = np.diff(first)[order]
    offsets = np.zeros(len(order), dtype=np.int64)  # each game's first row in the sequence
    np.cumsum(lengths[:-1], out=offsets[1:])
    in_file_order = bool(np.all(order[1:] > order[:-1]))
    if in_file_order:  # the sequence is the rows as laid out
        sequence = None
        duration, kind, leaf, game = played.duration, played.kind, played.step, played.game
    else:  # each game's rows, in order, game after game
        sequence = np.repeat(first[:-1][order] - offsets, lengths)
        sequence += np.arange(len(sequence))
        duration, kind = played.duration[sequence], played.kind[sequence]
        leaf, game = played.step[sequence], played.game[sequence]
    ended = np.cumsum(duration)  # what each row leaves behind it (only timed rows last)
    began = np.empty_like(ended)
    began[:1] = 0.0
    began[1:] = ended[:-1]
    readies = began.copy()
    timed = _TIMED[kind[offsets]]
    readies[offsets[timed]] = 0.0  # a game's first timed row: ready when handed in, at 0
    spans, child_of = _layout(played)
    # a container ends with the last row inside it, never itself a container (a `with` or
    # a child has steps): so the values read here are not ones written here; and a
    # gather child's first timed row is ready since its gather began
    if sequence is None:  # the groups whose rows are laid out: a stride per leaf
        rest = _by_stride(played, spans, child_of, readies, began, ended)
    else:
        rest = np.arange(len(kind))
    if len(rest):  # the others (a consumer's rounds, a sequence out of file order): row by row
        kind, leaf, game = kind[rest], leaf[rest], game[rest]
        inside = rest[_CONTAINER[kind]]
        if len(inside):
            at = _CONTAINER[kind]
            ended[inside] = ended[inside + spans[played.group[game[at]], leaf[at]]]
        if (child_of >= 0).any():
            at = _TIMED[kind]
            rows = rest[at]
            gather = child_of[played.group[game[at]], leaf[at]]
            rows, gather, lf = rows[gather >= 0], gather[gather >= 0], leaf[at][gather >= 0]
            readies[rows] = began[rows - (lf - gather)]
    if sequence is None:
        return readies, began, ended
    ready, start, end = (np.empty(len(sequence)) for _ in range(3))
    ready[sequence], start[sequence], end[sequence] = readies, began, ended
    return ready, start, end


def _by_stride(
    played: Workload,
    spans: np.ndarray,
    child_of: np.ndarray,
    readies: np.ndarray,
    began: np.ndarray,
    ended: np.ndarray,
) -> np.ndarray:
    """The containers' ends and the gather children's readies of every group whose rows
    are laid out (its games' rounds one after another, as `Workload.of` lays them), as
    one strided copy per leaf rather than an index per row: at millions of rows those
    indices are most of what the run costs. Returns the rows left to the caller (a
    consumer's, whose rounds the run made)."""
    plan = played.plan
    scenario = played.scenario
    first = played.first_step
    rest = []
    game = 0
    for g, group in enumerate(scenario.players):
        lo, hi = int(first[game]), int(first[game + group.count])
        game += group.count
        if group.serves is not None:
            rest.append(np.arange(lo, hi))
            continue
        width = len(plan.leaves[g])
        codes = [leaf.code for leaf in plan.leaves[g]]
        for leaf in range(width):
            if spans[g, leaf] and _CONTAINER[codes[leaf]]:
                ended[lo + leaf : hi : width] = ended[lo + leaf + spans[g, leaf] : hi : width]
            if child_of[g, leaf] >= 0 and _TIMED[codes[leaf]]:
                readies[lo + leaf : hi : width] = began[lo + child_of[g, leaf] : hi : width]
    return np.concatenate(rest) if rest else np.zeros(0, dtype=np.int64)


def _layout(played: Workload) -> tuple[np.ndarray, np.ndarray]:
    """Per group and leaf: the leaves inside it (a `with` or a `gather`, else 0); and
    for the first leaf of a gather's child, that gather's leaf (else -1)."""
    plan = played.plan
    width = max((len(leaves) for leaves in plan.leaves), default=0)
    spans = np.zeros((len(plan.ops), width + 1), dtype=np.int64)
    child_of = np.full((len(plan.ops), width + 1), -1, dtype=np.int64)

    def walk(g: int, ops: tuple[Op, ...], base: int) -> int:
        last = base - 1
        for op in ops:
            leaf = base + op.leaf
            if op.code == ACQUIRE:
                last = leaf
            elif op.code == RELEASE:
                spans[g, leaf] = last - leaf
            elif op.code == GATHER:
                for i in range(op.count):
                    child = leaf + 1 + i * op.width
                    child_of[g, child] = leaf
                    walk(g, op.child, child)
                spans[g, leaf] = op.count * op.width
                last = leaf + op.count * op.width
            else:
                last = leaf
        return last

    for g, ops in enumerate(plan.ops):
        walk(g, ops, 0)
    return spans, child_of


def never_waits(workload: Workload) -> bool:
    """No game waits here: no `with` asks for more units than its own game leaves free,
    and no bounded queue gets more items than it holds before its consumers start."""
    plan = workload.plan
    capacity = plan.capacity

    def fits(ops: tuple[Op, ...], held: dict[int, int]) -> bool:
        held = dict(held)
        for op in ops:
            if op.code == ACQUIRE:
                held[op.shared] = held.get(op.shared, 0) + op.units
                if held[op.shared] > capacity[op.shared]:
                    return False
            elif op.code == RELEASE:
                held[op.shared] -= op.units
            elif op.code == GATHER and not fits(op.child, held):
                return False
        return True

    if not all(fits(ops, {}) for ops in plan.ops):
        return False
    items = workload.scenario.items()
    return all(
        not 0 < capacity[i] < items[name] for i, name in enumerate(plan.names) if plan.is_queue(i)
    )
