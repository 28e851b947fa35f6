"""The task engine against the schedules' own engines, bit for bit, where nothing is shared.

`sim.engine.runners.play_tasks` plays any workload, one that shares nothing
but the hosts included. On those it must be the very engine each schedule
already has, to the last bit of every float: the plain `stepwise` engine for
cooperative and synchronous (ready, start, end and host of every step),
`threaded.play` for threads (the same seed, so the same GIL handoffs:
ready, start, end, worker, stalled, switches), and `parallel.pooled` for
processes. Rows are in the same order (game, move, step) for plain
workloads, so the columns are compared whole.

Integer durations and zero-length steps make same-instant ties common;
k ≥ 2 hosts, `host.switch_cost` and the schedules' parameters (fewer hosts,
a sized pool, no GIL, more processes than CPUs, a start cost) are drawn too.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import parallel, runners, stepwise, threaded
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from tests.conftest import polgar_like

KINDS = ("host", "wait", "block", "native")
#: Whole seconds, zero included: same-instant ties everywhere.
WHOLE_SECONDS = st.integers(0, 5).map(float)
SEEDS = st.integers(0, 2**32 - 1)


def plain_scenarios(
    durations: st.SearchStrategy[float] = WHOLE_SECONDS,
    min_hosts: int = 1,
    max_hosts: int = 4,
    max_count: int = 4,
) -> st.SearchStrategy[Scenario]:
    """1–3 groups of host, wait, block and native steps, 1–4 hosts, sometimes a switch cost."""
    step = st.builds(lambda kind, d: {kind: d}, st.sampled_from(KINDS), durations)
    group = st.fixed_dictionaries(
        {
            "count": st.integers(1, max_count),
            "moves": st.integers(1, 3),
            "steps": st.lists(step, min_size=1, max_size=4),
        }
    )
    return st.builds(
        lambda groups, hosts, cost: Scenario(
            host={"count": hosts, "switch_cost": cost},
            players=[{"name": f"g{i}", **g} for i, g in enumerate(groups)],
        ),
        st.lists(group, min_size=1, max_size=3),
        st.integers(min_hosts, max_hosts),
        st.sampled_from([0.0, 0.0, 0.5, 1.0]),
    )


def stepwise_schedules(hosts: int) -> st.SearchStrategy[Schedule]:
    kind = st.sampled_from(["cooperative", "synchronous"])
    own = st.one_of(st.just({}), st.integers(1, hosts).map(lambda k: {"hosts": k}))
    return st.builds(lambda k, params: Schedule.of(k, **params), kind, own)


THREADED = st.one_of(
    st.just({}),
    st.builds(lambda n: {"threads": n}, st.integers(1, 4)),
    st.just({"gil": False}),
    st.builds(lambda n: {"threads": n, "gil": False}, st.integers(1, 4)),
    st.just({"switch_interval": 0.25}),
).map(lambda params: Schedule.of("threaded", **params))

PARALLEL = st.builds(
    lambda n, cost: Schedule.of("parallel", processes=n, start_cost=cost),
    st.integers(1, 6),
    st.sampled_from([0.0, 0.5, 2.0]),
)


def columns(trace: Trace, names: tuple[str, ...]) -> dict[str, object]:
    got: dict[str, object] = {name: getattr(trace, name).tolist() for name in names}
    got["switches"] = (trace.switches, trace.switch_time)
    return got


def assert_same_trace(workload: Workload, schedule: Schedule, seed: int = 0) -> None:
    """The task engine and the schedule's own engine give the same columns, bit for bit."""
    assert workload.shared is None, "a scenario that shares nothing"
    tasks = runners.play_tasks(workload, schedule, np.random.default_rng(seed))
    kind = schedule.kind
    if kind in ("cooperative", "synchronous"):
        own = stepwise.play(workload, schedule, np.random.default_rng(seed))
        names: tuple[str, ...] = ("ready", "start", "end", "host")
    elif kind == "threaded":
        own = threaded.play(workload, schedule, np.random.default_rng(seed))
        names = ("ready", "start", "end", "worker", "stalled")
    else:
        own = parallel.pooled(workload, schedule)
        names = ("ready", "start", "end", "worker", "stalled")
    # the rows themselves are the workload's, in its order
    for row in ("game", "move", "step", "kind", "duration"):
        assert getattr(tasks.workload, row).tolist() == getattr(workload, row).tolist(), row
    assert columns(tasks, names) == columns(own, names)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), scenario=plain_scenarios())
def test_cooperative_and_synchronous_equal_the_stepwise_engine(data, scenario):
    schedule = data.draw(stepwise_schedules(scenario.host.count))
    assert_same_trace(Workload.of(scenario), schedule)


@settings(max_examples=150, deadline=None)
@given(
    scenario=plain_scenarios(min_hosts=2),
    kind=st.sampled_from(["cooperative", "synchronous"]),
)
def test_on_several_hosts_hosts_are_handed_out_alike(scenario, kind):
    """k ≥ 2: which host a step gets is the tie rule's, the same in both engines."""
    assert_same_trace(Workload.of(scenario), Schedule.of(kind))


@settings(max_examples=100, deadline=None)
@given(
    scenario=plain_scenarios(
        st.sampled_from([0.0, 0.1, 0.3, 0.7, 1.1, 2.0]), max_hosts=3, max_count=3
    ),
    kind=st.sampled_from(["cooperative", "synchronous"]),
)
def test_non_integer_durations_agree_to_the_last_bit(scenario, kind):
    """Sums of 0.1 and 0.3 are rarely exact in binary: an addition done in another
    order would show."""
    assert_same_trace(Workload.of(scenario), Schedule.of(kind))


@settings(max_examples=200, deadline=None)
@given(scenario=plain_scenarios(max_count=3), schedule=THREADED, seed=SEEDS)
def test_threaded_equals_the_threaded_engine_with_the_same_seed(scenario, schedule, seed):
    """The same generator gives the same first thread and the same GIL handoffs."""
    assert_same_trace(Workload.of(scenario), schedule, seed)


@settings(max_examples=200, deadline=None)
@given(scenario=plain_scenarios(), schedule=PARALLEL)
def test_parallel_equals_the_pool_played_event_by_event(scenario, schedule):
    assert_same_trace(Workload.of(scenario), schedule)


def test_polgar_like_exhibitions_under_every_schedule():
    """24 games of 30 rounds of host 5 s then wait 55 s, on one Judit and on two."""
    schedules = [
        Schedule.of("cooperative"),
        Schedule.of("synchronous"),
        Schedule.of("threaded"),
        Schedule.of("threaded", threads=3, gil=False),
        Schedule.of("parallel", processes=3),
    ]
    for hosts in (1, 2):
        workload = Workload.of(polgar_like(24, hosts=hosts))
        for schedule in schedules:
            assert_same_trace(workload, schedule, seed=hosts)
    # the figures themselves, by hand: 24 × 30 × 5 s of Judit's moves plus the last
    # amateur's 55 s; synchronously 24 × 30 × (5 + 55) s; on two hosts half of each
    one = runners.play_tasks(
        Workload.of(polgar_like(24)), Schedule.of("cooperative"), np.random.default_rng(0)
    )
    assert one.makespan == 24 * 30 * 5 + 55
    two = runners.play_tasks(
        Workload.of(polgar_like(24, hosts=2)), Schedule.of("synchronous"), np.random.default_rng(0)
    )
    assert two.makespan == 12 * 30 * (5 + 55)


def test_the_engine_dispatches_only_shared_scenarios_to_the_task_engine(monkeypatch):
    """`sim.engine.play` keeps the fast engines for scenarios that share nothing."""
    import sim.engine as engine

    called = []
    monkeypatch.setattr(engine.runners, "play", lambda *args: called.append(args))
    plain = Workload.of(polgar_like(2, rounds=1))
    engine.play(plain, Schedule.of("cooperative"))
    assert called == []
    shared = Workload.of(
        Scenario(
            resources={"db": 1},
            players=[{"name": "a", "steps": [{"with": "db", "steps": [{"host": 1}]}]}],
        )
    )
    engine.play(shared, Schedule.of("cooperative"))
    assert len(called) == 1
