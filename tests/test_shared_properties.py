"""Invariants of the task engine on random scenarios that share, under every schedule.

Random rounds nest `with` blocks (one to three units of one of two
resources, or a job of host and wait steps on an executor of one to three
workers), `gather`s of one to three children and `put`s; every declared
queue is served by a group of its own, whose consumers may put only into
queues declared after theirs (so no queue feeds itself). Durations are
whole seconds, zero included, so many things happen at one instant. A
scenario that deadlocks under a schedule is skipped for that schedule
(tests/test_deadlock.py checks deadlocks).

Read from the trace, per resource and queue:

- units held never exceed the capacity at any instant;
- a queue never holds more than `maxsize` items, nor fewer than none;
- every item put is taken exactly once, and each consumer's last `get`
  (the one that found the queue closed) is its last row;
- `with` and `gather` rows span the rows inside them.

And two equivalences: a `with` on a resource nobody waits for changes no
step's time, and a `gather` of one child is its steps inlined.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import player_of, runners
from sim.engine.deadlock import Deadlock
from sim.engine.plan import ACQUIRE, GATHER, RELEASE, Op, plan_of
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import STEP_KINDS, TIMED_KINDS, Scenario
from sim.scenario.schedules import Schedule

KIND = {kind: code for code, kind in enumerate(STEP_KINDS)}
TIMED = [KIND[kind] for kind in TIMED_KINDS]

SCHEDULES = [
    Schedule.of("cooperative"),
    Schedule.of("synchronous"),
    Schedule.of("threaded"),
    Schedule.of("threaded", threads=2),
    Schedule.of("threaded", gil=False),
    Schedule.of("parallel"),
    Schedule.of("parallel", processes=3),
    Schedule.of("cooperative", order="asyncio"),
]

seconds = st.integers(0, 3).map(float)
timed_steps = st.builds(lambda kind, d: {kind: d}, st.sampled_from(TIMED_KINDS), seconds)


@st.composite
def rounds(
    draw,
    resources: dict[str, int],
    queues: list[str],
    depth: int = 0,
    holding: frozenset[str] = frozenset(),
    gathers: bool = True,
    gather_count: st.SearchStrategy[int] | None = None,
) -> list[dict]:
    """1–3 steps; `with` blocks never nest the resource they are in (that deadlocks)."""
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        free = sorted(set(resources) - holding)
        choices = ["timed", "timed"]
        choices += ["with"] if depth < 2 and free else []
        choices += ["gather"] if depth < 2 and gathers else []
        choices += ["put"] if queues else []
        choice = draw(st.sampled_from(choices))
        if choice == "with":
            name = draw(st.sampled_from(free))
            units = 1 if name in EXECUTORS else draw(st.integers(1, resources[name]))
            if name in EXECUTORS:  # a job: one worker, host and wait steps only
                job = st.builds(lambda k, d: {k: d}, st.sampled_from(["host", "wait"]), seconds)
                inner = draw(st.lists(job, min_size=1, max_size=3))
            else:
                inner = draw(
                    rounds(resources, queues, depth + 1, holding | {name}, gathers, gather_count)
                )
            steps.append({"with": {"resource": name, "units": units}, "steps": inner})
        elif choice == "gather":
            count = draw(st.integers(1, 3) if gather_count is None else gather_count)
            inner = draw(rounds(resources, queues, depth + 1, holding, gathers, gather_count))
            steps.append({"gather": {"count": count, "steps": inner}})
        elif choice == "put":
            steps.append({"put": draw(st.sampled_from(queues))})
        else:
            steps.append(draw(timed_steps))
    return steps


#: The executors a drawn scenario may declare (a `with` on one is a job).
EXECUTORS = ("x0",)


@st.composite
def shared_scenarios(draw) -> Scenario:
    resources = {
        f"r{i}": draw(st.integers(1, 3)) for i in range(draw(st.integers(0, 2)))
    }  # fmt: skip
    executors = {name: draw(st.integers(1, 3)) for name in EXECUTORS if draw(st.booleans())}
    queues = [f"q{i}" for i in range(draw(st.integers(0, 2)))]
    players = [
        {
            "name": f"p{i}",
            "count": draw(st.integers(1, 3)),
            "moves": draw(st.integers(1, 3)),
            "steps": draw(rounds({**resources, **executors}, queues)),
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    for q in queues:  # somebody puts into every served queue
        if not any(f"'put': '{q}'" in str(p["steps"]) for p in players):
            players[0]["steps"].append({"put": q})
    for j, q in enumerate(queues):
        players.append(
            {
                "name": f"c{j}",
                "count": draw(st.integers(1, 2)),
                "serves": q,
                "steps": draw(rounds({**resources, **executors}, queues[j + 1 :])),
            }
        )
    return Scenario.model_validate(
        {
            "host": {"count": draw(st.integers(1, 3))},
            "players": players,
            "resources": resources,
            "executors": executors,
            "queues": {q: {"maxsize": draw(st.integers(0, 2))} for q in queues},
        }
    )


def played(workload: Workload, schedule: Schedule, seed: int) -> Trace:
    """`workload` under `schedule`, by the engine's player of it (without the narrowing)."""
    return player_of(workload, schedule)(workload, schedule, np.random.default_rng(seed))


def traces(scenario: Scenario, seed: int = 0) -> Iterator[Trace]:
    """The scenario under every schedule that does not deadlock."""
    workload = Workload.of(scenario)
    for schedule in SCHEDULES:
        try:
            yield played(workload, schedule, seed)
        except Deadlock:
            continue


# --- reading a round's plan ---------------------------------------------------------------


def spans(ops: tuple[Op, ...], base: int = 0) -> Iterator[tuple[int, int, int, int]]:
    """(code, leaf, last leaf inside, units or count) of every `with` and `gather`,
    leaves numbered from the round's start, children's included."""
    stack: list[tuple[int, int]] = []
    leaf = base
    for op in ops:
        if op.code == ACQUIRE:
            stack.append((base + op.leaf, op.units))
            leaf = base + op.leaf
        elif op.code == RELEASE:
            first, units = stack.pop()
            yield ACQUIRE, first, leaf, units
        elif op.code == GATHER:
            start = base + op.leaf
            for i in range(op.count):
                yield from spans(op.child, start + 1 + i * op.width)
            leaf = start + op.count * op.width
            yield GATHER, start, leaf, op.count
        else:
            leaf = base + op.leaf
    assert not stack


def row_index(trace: Trace) -> dict[tuple[int, int, int], int]:
    w = trace.workload
    keys = zip(w.game.tolist(), w.move.tolist(), w.step.tolist(), strict=True)
    return {key: row for row, key in enumerate(keys)}


# --- invariants ---------------------------------------------------------------------------


def check_resources(trace: Trace) -> None:
    """At every instant t: units carried across t plus those taken at t and kept never
    exceed the capacity, nor do the carried ones plus any taken and given back at t
    (a zero-length hold, which the settling may place after the releases of t)."""
    w = trace.workload
    plan = w.plan
    units = [
        {leaf: n for code, leaf, _, n in spans(plan.ops[g]) if code == ACQUIRE}
        for g in range(len(plan.ops))
    ]
    group = w.group[w.game]
    for shared in range(plan.resources):
        rows = np.nonzero((w.kind == KIND["with"]) & (w.shared == shared))[0]
        held = np.array([units[group[r]][w.step[r]] for r in rows], dtype=np.int64)
        start, end = trace.start[rows], trace.end[rows]
        capacity = plan.capacity[shared]
        for t in np.unique(np.concatenate([start, end])):
            carried = held[(start < t) & (end > t)].sum()
            taken = held[(start == t) & (end > t)].sum()
            assert carried + taken <= capacity, (plan.names[shared], t)
            instant = held[(start == t) & (end == t)]
            assert not len(instant) or carried + instant.max() <= capacity


def check_queues(trace: Trace, scenario: Scenario) -> None:
    w = trace.workload
    plan = w.plan
    last_rows = w.first_step[1:] - 1
    for shared in range(plan.resources, len(plan.names)):
        name = plan.names[shared]
        puts = np.nonzero((w.kind == KIND["put"]) & (w.shared == shared))[0]
        gets = np.nonzero((w.kind == KIND["get"]) & (w.shared == shared))[0]
        final = np.isin(gets, last_rows)
        consumers = [g for g in range(w.games) if plan.serves[w.group[g]] == shared]
        # every consumer ends on a get that found the queue closed, and only there
        assert sorted(w.game[gets[final]].tolist()) == consumers
        # every item put is taken exactly once
        assert len(puts) == len(gets) - len(consumers) == scenario.items()[name]
        # counted at the end of every instant: items put minus items taken
        put_at, taken_at = trace.end[puts], trace.start[gets[~final]]
        maxsize = plan.capacity[shared]
        for t in np.unique(np.concatenate([put_at, taken_at])):
            items = np.count_nonzero(put_at <= t) - np.count_nonzero(taken_at <= t)
            assert items >= 0, (name, t)
            assert maxsize == 0 or items <= maxsize, (name, t, items)
        # the queue closes after the last item went in and the last was taken
        if len(puts):
            closed = trace.start[gets[final]]
            assert (closed >= put_at.max()).all() and (closed >= taken_at.max()).all()


def check_nesting(trace: Trace) -> None:
    w = trace.workload
    plan = w.plan
    index = row_index(trace)
    assert not np.isnan(trace.start).any() and not np.isnan(trace.end).any()
    assert (trace.ready <= trace.start).all() and (trace.start <= trace.end).all()
    for (game, move, leaf), row in index.items():
        if w.kind[row] not in (KIND["with"], KIND["gather"]):
            continue
        g = int(w.group[game])
        (last,) = [end for code, first, end, _ in spans(plan.ops[g]) if first == leaf]
        inside = [index[game, move, i] for i in range(leaf + 1, last + 1)]
        assert (trace.start[inside] >= trace.start[row]).all()
        assert (trace.end[inside] <= trace.end[row]).all()
        if w.kind[row] == KIND["gather"]:  # ends when its last child does
            assert trace.end[row] == trace.end[inside].max()


@settings(max_examples=200, deadline=None)
@given(scenario=shared_scenarios())
def test_limits_queues_and_spans_hold_under_every_schedule(scenario):
    for trace in traces(scenario):
        check_resources(trace)
        check_queues(trace, scenario)
        check_nesting(trace)


# --- equivalences -------------------------------------------------------------------------


def inlined(steps: list[dict], kind: str) -> list[dict]:
    """`steps` with every `with` (kind "with") or `gather` (kind "gather") replaced by the
    steps inside it."""
    out: list[dict] = []
    for step in steps:
        if "with" in step:
            inner = inlined(step["steps"], kind)
            out += inner if kind == "with" else [{**step, "steps": inner}]
        elif "gather" in step:
            inner = inlined(step["gather"]["steps"], kind)
            gather = {"gather": {**step["gather"], "steps": inner}}
            out += inner if kind == "gather" else [gather]
        else:
            out.append(step)
    return out


@st.composite
def groups(draw, gather_count: st.SearchStrategy[int] | None = None) -> list[dict]:
    """1–3 groups using resource `db` alone, gathers included; no queues."""
    return [
        {
            "name": f"g{i}",
            "count": draw(st.integers(1, 3)),
            "moves": draw(st.integers(1, 2)),
            "steps": draw(rounds({"db": 1}, [], gather_count=gather_count)),
        }
        for i in range(draw(st.integers(1, 3)))
    ]


def timed_columns(trace: Trace, names: tuple[str, ...]) -> dict[str, list]:
    """The host, wait and block rows' columns (the same rows, in the same order, with or
    without the blocks around them)."""
    timed = np.isin(trace.workload.kind, TIMED)
    columns = {name: getattr(trace, name) for name in names if name != "worker"}
    if "worker" in names:
        columns["worker"] = trace.workers()
    return {name: column[timed].tolist() for name, column in columns.items()}


@settings(max_examples=120, deadline=None)
@given(players=groups(), hosts=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_a_with_nobody_waits_for_changes_nothing(players, hosts, seed):
    """`db` has a unit for every hold that could ever be open at once (every game's
    rounds, children included), so no request waits: every step starts and ends, on the
    same host or worker, as without the `with` blocks (their steps inlined). Under
    threaded the same seed gives the same GIL handoffs. (A step's `ready` can differ
    where a `with` was a game's first row: the first row is ready at 0, handed in.)"""
    one = Scenario.model_validate(
        {"host": {"count": hosts}, "players": players, "resources": {"db": 1}}
    )
    # a unit for every `with` row a round has (children's included), for every game
    plan = plan_of(one)
    capacity = sum(
        group.count * sum(leaf.kind == "with" for leaf in plan.leaves[g])
        for g, group in enumerate(one.players)
    )
    with_db = one.model_copy(update={"resources": {"db": max(capacity, 1)}})
    without = Scenario.model_validate(
        {
            "host": {"count": hosts},
            "players": [{**p, "steps": inlined(p["steps"], "with")} for p in players],
            "resources": {"db": max(capacity, 1)},
        }
    )
    for schedule in SCHEDULES:
        names = ("start", "end", "host", "worker")
        try:
            a = played(Workload.of(with_db), schedule, seed)
        except Deadlock:  # a sized pool starved by its children: it is the same without
            with_pool = schedule.threaded is not None and schedule.threaded.threads is not None
            assert with_pool
            continue
        b = played(Workload.of(without), schedule, seed)
        assert timed_columns(a, names) == timed_columns(b, names), schedule.label


@settings(max_examples=120, deadline=None)
@given(players=groups(gather_count=st.just(1)), hosts=st.integers(1, 3))
def test_a_gather_of_one_is_its_steps_inlined(players, hosts):
    """Cooperative: the child is a task on the same loop, started at once, its requests
    keyed by its own place in the round: ready, start, end and host of every step are
    those of the steps played in line. One game at a time the child plays in line
    anyway: start, end and host again. (Not so under threads and processes, whose
    same-instant requests are granted on the spot in the order they are made: there
    the child, started as an event of its own, may come after another game's request
    at that instant.)"""
    data = {"host": {"count": hosts}, "players": players, "resources": {"db": 1}}
    forked = Scenario.model_validate(data)
    flat = Scenario.model_validate(
        {**data, "players": [{**p, "steps": inlined(p["steps"], "gather")} for p in players]}
    )
    checks = [
        (Schedule.of("cooperative"), ("ready", "start", "end", "host")),
        (Schedule.of("synchronous"), ("start", "end", "host")),
    ]
    for schedule, names in checks:
        try:
            a = runners.play(Workload.of(forked), schedule, np.random.default_rng(0))
        except Deadlock:  # `db` of one unit taken inside a `with db`'s child: both deadlock
            try:
                runners.play(Workload.of(flat), schedule, np.random.default_rng(0))
            except Deadlock:
                continue
            raise
        b = runners.play(Workload.of(flat), schedule, np.random.default_rng(0))
        assert timed_columns(a, names) == timed_columns(b, names), schedule.label
