"""A round compiled for the engine: the steps as a flat list of operations.

A round of the file may nest (`with` blocks, `gather` children); the engine
walks a flat list instead, the same for every game of a group. Each step the
steps table shows is a *leaf*, numbered in the order the file reads (a `with`
before the steps inside it, a `gather` before its children, child after
child); a round's leaves are its rows in the table, so `leaf` is also the
step's place in the round.

Operations:

- `TIMED`: a host, wait, block or native step of the leaf's duration;
- `ACQUIRE` / `RELEASE`: take and give back `units` of a resource around the
  steps of a `with` block (the release is no row: it ends the `with` row);
- `PUT`: put an item into a queue; `GET`: take one (a consumer's round begins
  with it);
- `GATHER`: start `count` children, each playing `child` from leaf
  `leaf + 1 + i × width(child)`, and go on when all are done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.scenario.distributions import Law
from sim.scenario.model import STEP_KINDS, PlayerGroup, Scenario, Step, StepKind

__all__ = ["ACQUIRE", "GATHER", "GET", "PUT", "RELEASE", "TIMED", "Leaf", "Op", "Plan", "plan_of"]

TIMED, ACQUIRE, RELEASE, PUT, GET, GATHER = range(6)


@dataclass(frozen=True, slots=True)
class Leaf:
    """One row of a round: its kind, and what its duration is drawn from."""

    kind: StepKind
    duration: float = 0.0
    law: Law | None = None
    shared: int = -1  # the resource or queue it waits for: index into `Plan.names`

    @property
    def code(self) -> int:
        return STEP_KINDS.index(self.kind)


@dataclass(frozen=True, slots=True)
class Op:
    """One operation; `leaf` is its row in the round (relative to its child's start)."""

    code: int
    leaf: int
    kind: int = 0  # TIMED: the code of its step kind
    shared: int = -1  # ACQUIRE, RELEASE, PUT, GET: index into `Plan.names`
    units: int = 1
    count: int = 0  # GATHER: children
    child: tuple[Op, ...] = ()  # GATHER: each child's operations
    width: int = 0  # GATHER: leaves of one child


@dataclass(frozen=True)
class Plan:
    """Every group's round, compiled; resources come first in `names` (the executors
    among them, last), then queues."""

    names: tuple[str, ...]
    capacity: tuple[int, ...]  # per name: a resource's units, a queue's maxsize (0: unbounded)
    resources: int  # names below this index are resources, the rest queues
    ops: tuple[tuple[Op, ...], ...]  # per group
    leaves: tuple[tuple[Leaf, ...], ...]  # per group: the rows of one round
    serves: tuple[int, ...]  # per group: the queue it takes from, or -1
    puts: tuple[frozenset[int], ...] = field(default=())  # per group: queues it puts into
    executors: frozenset[int] = frozenset()  # resources that are an executor's workers

    def is_queue(self, shared: int) -> bool:
        return shared >= self.resources


def plan_of(scenario: Scenario) -> Plan:
    """Compile every group's round."""
    limits = scenario.limits
    names = (*limits, *scenario.queues)
    capacity = (*limits.values(), *(q.maxsize for q in scenario.queues.values()))
    index = {name: i for i, name in enumerate(names)}
    ops, leaves, serves, puts = [], [], [], []
    for group in scenario.players:
        group_ops, group_leaves = _round(group, index)
        ops.append(group_ops)
        leaves.append(group_leaves)
        serves.append(-1 if group.serves is None else index[group.serves])
        puts.append(frozenset(index[q] for q in scenario.queues if group.puts(q)))
    executors = frozenset(index[name] for name in scenario.executors)
    return Plan(
        names, capacity, len(limits), tuple(ops), tuple(leaves), tuple(serves), tuple(puts),
        executors,
    )  # fmt: skip


def _round(group: PlayerGroup, index: dict[str, int]) -> tuple[tuple[Op, ...], tuple[Leaf, ...]]:
    leaves: list[Leaf] = []
    ops: list[Op] = []
    if group.serves is not None:
        ops.append(Op(GET, 0, shared=index[group.serves]))
        leaves.append(Leaf("get", shared=index[group.serves]))
    ops += _compile(group.round, index, leaves)
    return tuple(ops), tuple(leaves)


def _compile(steps: tuple[Step, ...], index: dict[str, int], leaves: list[Leaf]) -> list[Op]:
    """Operations of `steps`, appending their leaves; leaf numbers count from `leaves`' end."""
    ops: list[Op] = []
    for step in steps:
        leaf = len(leaves)
        kind = step.kind
        if kind == "with":
            assert step.with_ is not None
            shared = index[step.with_.resource]
            units = step.with_.units
            leaves.append(Leaf("with", shared=shared))
            ops.append(Op(ACQUIRE, leaf, shared=shared, units=units))
            ops += _compile(step.inner, index, leaves)
            ops.append(Op(RELEASE, leaf, shared=shared, units=units))
        elif kind == "gather":
            assert step.gather is not None
            leaves.append(Leaf("gather"))
            child_leaves: list[Leaf] = []
            child = tuple(_compile(step.inner, index, child_leaves))
            for _ in range(step.gather.count):
                leaves += child_leaves
            ops.append(
                Op(GATHER, leaf, count=step.gather.count, child=child, width=len(child_leaves))
            )
        elif kind == "put":
            assert step.put is not None
            leaves.append(Leaf("put", shared=index[step.put]))
            ops.append(Op(PUT, leaf, shared=index[step.put]))
        else:
            leaves.append(Leaf(kind, step.duration, step.law))
            ops.append(Op(TIMED, leaf, kind=STEP_KINDS.index(kind)))
    return ops
