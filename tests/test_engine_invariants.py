"""Engine invariants on random heterogeneous scenarios, read from the steps table.

Integer durations (zeros included) make same-instant ties common, which is
where a naive resource goes wrong with two or more hosts; non-integer ones
check the general case.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import play, runners
from sim.engine.deadlock import Deadlock
from sim.engine.workload import Workload
from sim.results.tables import steps as steps_table
from sim.scenario.schedules import Schedule
from tests import reference
from tests.conftest import integer_durations, real_durations, scenarios
from tests.test_shared_properties import shared_scenarios

any_durations = st.one_of(integer_durations, real_durations)
both = st.sampled_from(["synchronous", "cooperative"])


def trace_of(scenario, kind):
    return play(Workload.of(scenario), Schedule.of(kind))


def games_of(scenario) -> list[list[tuple[str, float]]]:
    return [
        [(step.kind, step.duration) for _ in range(group.moves) for step in group.round]
        for group in scenario.players
        for _ in range(group.count)
    ]


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=4), kind=both)
def test_engine_equals_the_reference_reading_of_the_tie_rule(scenario, kind):
    """Every step's ready, start, end and host, to the bit, with ties and zero steps."""
    trace = trace_of(scenario, kind)
    expected = [
        row
        for game in reference.play(games_of(scenario), scenario.host.count, kind)
        for row in game
    ]
    got = list(
        zip(
            trace.ready.tolist(),
            trace.start.tolist(),
            trace.end.tolist(),
            trace.host.tolist(),
            strict=True,
        )
    )
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(scenario=scenarios(real_durations), kind=both)
def test_engine_equals_the_reference_on_real_durations(scenario, kind):
    trace = trace_of(scenario, kind)
    expected = [
        row[1:3]
        for game in reference.play(games_of(scenario), scenario.host.count, kind)
        for row in game
    ]
    assert list(zip(trace.start.tolist(), trace.end.tolist(), strict=True)) == expected


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(any_durations, max_hosts=4), kind=both)
def test_a_host_never_serves_two_steps_at_once(scenario, kind):
    steps = steps_table([trace_of(scenario, kind)])
    held = steps[steps["host"].notna() & (steps["end_s"] > steps["start_s"])]
    for _, on_host in held.groupby("host"):
        # synchronous: a game's steps all sit on its host; the game spans them
        spans = (
            on_host.groupby("player", observed=True).agg(
                start=("start_s", "min"), end=("end_s", "max")
            )
            if kind == "synchronous"
            else on_host.rename(columns={"start_s": "start", "end_s": "end"})
        )
        ordered = spans.sort_values("start")
        assert (ordered["start"].to_numpy()[1:] >= ordered["end"].to_numpy()[:-1]).all()


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(any_durations, max_hosts=4), kind=both)
def test_makespan_is_at_least_every_lower_bound(scenario, kind):
    """Hosts cannot do more than k seconds of host work a second; no game beats its own length."""
    trace = trace_of(scenario, kind)
    workload = trace.workload
    longest = np.bincount(workload.game, weights=workload.duration).max()
    bound = max(workload.host_work() / scenario.host.count, longest)
    assert trace.makespan >= bound - 1e-9 * max(1.0, bound)


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(any_durations, max_hosts=4))
def test_cooperative_hosts_never_idle_while_a_game_is_ready(scenario):
    """During every wait for a host, all k hosts are busy (work conservation)."""
    trace = trace_of(scenario, "cooperative")
    hosts = scenario.host.count
    on_host = trace.host >= 0
    starts, ends = trace.start[on_host], trace.end[on_host]
    for ready, start in zip(trace.ready[on_host], starts, strict=True):
        if start <= ready:
            continue
        # busy hosts just after each moment where the count can change inside (ready, start)
        moments = np.unique(np.concatenate([[ready], starts, ends]))
        moments = moments[(moments >= ready) & (moments < start)]
        for moment in moments:
            busy = np.count_nonzero((starts <= moment) & (ends > moment))
            assert busy == hosts, (ready, start, moment, busy)


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(st.integers(1, 4).map(float), max_hosts=4))
def test_cooperative_serves_in_ready_time_then_file_order(scenario):
    """Sorted by (ready time, game index), host steps start in non-decreasing order.

    (Positive durations: a zero-length host step can make a game ready again
    after the instant's hosts were handed out.)
    """
    trace = trace_of(scenario, "cooperative")
    on_host = trace.host >= 0
    order = np.lexsort((trace.workload.game[on_host], trace.ready[on_host]))
    assert (np.diff(trace.start[on_host][order]) >= 0).all()


@settings(max_examples=100, deadline=None)
@given(scenario=scenarios(any_durations, max_hosts=4))
def test_synchronous_plays_games_whole_and_in_file_order(scenario):
    """Each game runs without gaps once started, and games start in file order."""
    trace = trace_of(scenario, "synchronous")
    workload = trace.workload
    first = workload.first_step[:-1]
    assert (np.diff(trace.start[first]) >= 0).all()
    same_game = workload.game[1:] == workload.game[:-1]
    assert (trace.start[1:][same_game] == trace.end[:-1][same_game]).all()


@settings(max_examples=60, deadline=None)
@given(
    scenario=scenarios(
        integer_durations, max_hosts=12, max_count=3, kinds=("host", "wait", "block")
    ),
    kind=st.sampled_from(
        [
            ("synchronous", {}),
            ("cooperative", {}),
            ("threaded", {}),
            ("threaded", {"gil": False}),
            ("parallel", {}),
            ("parallel", {"processes": 9}),
            ("parallel", {"processes": 2}),
            ("parallel", {"start_cost": 1.0}),
            ("parallel", {"processes": 9, "start_cost": 2.0}),
        ]
    ),
)
def test_hosts_past_the_games_change_no_step(scenario, kind):
    """Games that share nothing hold at most one host each, and the lowest free host goes
    first: with more hosts (or worker processes) than games, playing on as many as there
    are games (what `play` does, `without_idle_hosts` and `without_idle_workers`; with a
    `start_cost`, the workers no game reaches start as one job on the CPUs) gives every
    column of the trace bit for bit, integer durations (ties everywhere) included, and
    reports the scenario's own hosts and schedule."""
    from sim.engine import PLAYERS, parallel, without_idle_hosts

    workload = Workload.of(scenario, np.random.default_rng(0))
    schedule = Schedule.of(kind[0], **kind[1])
    with pytest.MonkeyPatch.context() as every_worker:
        every_worker.setattr(parallel, "played_workers", lambda processes, games: processes)
        whole = PLAYERS[schedule.kind](workload, schedule, np.random.default_rng(1))
    played = play(workload, schedule, np.random.default_rng(1))
    narrowed = without_idle_hosts(workload, schedule)
    if "start_cost" not in kind[1]:  # there the CPUs decide how long the starts take
        assert narrowed.hosts == min(workload.hosts, workload.games)
    assert played.workload is workload and played.schedule is schedule
    for column in ("ready", "start", "end", "host"):
        assert np.array_equal(getattr(played, column), getattr(whole, column)), column
    assert played.switches == whole.switches


def test_workers_that_start_on_the_cpus_are_all_played():
    """With a `start_cost` every worker process starts, game or no game, and takes CPU time
    to: the engine narrows neither hosts nor workers. 4 workers starting for 1 s each on 2
    CPUs, 1 game of 1 s: the game waits for its worker's start, shared with the three
    others (4 × 1 s of CPU on 2 CPUs: 2 s), then plays (1 s). 3 000 000 workers for that
    game start in 3 000 000 × 1 s / 2 CPUs = 1 500 000 s, and cost one job, not a
    million."""
    from sim.engine import without_idle_hosts, without_idle_workers
    from sim.scenario.loader import from_yaml

    scenario = from_yaml(
        "name: starts\nhost: {count: 2}\n"
        "players: [{name: p, count: 1, moves: 1, steps: [{host: 1s}]}]\n"
        "schedules: [{parallel: {processes: 4, start_cost: 1s}}]\n"
    )
    workload = Workload.of(scenario, np.random.default_rng(0))
    schedule = scenario.schedules[0]
    assert without_idle_hosts(workload, schedule) is workload
    assert without_idle_workers(workload, schedule) is schedule
    assert play(workload, schedule).makespan == 3.0
    many = schedule.model_copy(
        update={"parallel": schedule.parallel.model_copy(update={"processes": 3_000_000})}
    )
    tracemalloc.start()
    try:
        assert play(workload, many).makespan == 1_500_000.0 + 1.0
        assert tracemalloc.get_traced_memory()[1] < 10_000_000  # bytes, at the peak
    finally:
        tracemalloc.stop()


SHARED_SCHEDULES = [
    ("synchronous", {}),
    ("synchronous", {"hosts": 2}),
    ("cooperative", {}),
    ("cooperative", {"hosts": 1}),
    ("cooperative", {"hosts": 3}),
    ("threaded", {}),
    ("threaded", {"threads": 2}),
    ("threaded", {"gil": False}),
    ("parallel", {}),
    ("parallel", {"processes": 40}),
    ("parallel", {"start_cost": 1.0}),
    ("parallel", {"processes": 40, "start_cost": 2.0}),
]


@settings(max_examples=80, deadline=None)
@given(
    scenario=shared_scenarios(),
    extra=st.integers(0, 30),
    switch_cost=st.sampled_from([0.0, 1.0]),
    kind=st.sampled_from(SHARED_SCHEDULES),
)
def test_hosts_and_workers_no_task_can_reach_change_no_step(scenario, extra, switch_cost, kind):
    """Where games share limits, queues and fan-out, at most `tasks_at_once` tasks (every
    game times its widest gather) hold a host or a CPU at once: on hosts past that count
    (and past two), worker processes past the games', and idle starting workers played
    as one job on the CPUs, every column of the trace is the one played on them all, bit
    for bit (integer durations: ties everywhere), as is a deadlock and what it reports."""
    from sim.engine import parallel, tasks_at_once

    hosts = tasks_at_once(Workload.of(scenario)) + extra
    host = {"count": hosts, "switch_cost": switch_cost}
    scenario = scenario.model_copy(update={"host": scenario.host.model_copy(update=host)})
    workload = Workload.of(scenario, np.random.default_rng(0))
    params = dict(kind[1])
    if "hosts" in params:
        params["hosts"] = min(params["hosts"], hosts)
    schedule = Schedule.of(kind[0], **params)

    def whole_or_deadlock(play_it):
        try:
            return play_it(workload, schedule, np.random.default_rng(1))
        except Deadlock as deadlock:
            return str(deadlock)

    played = whole_or_deadlock(play)
    with pytest.MonkeyPatch.context() as every_worker:
        every_worker.setattr(parallel, "played_workers", lambda processes, games: processes)
        whole = whole_or_deadlock(runners.play)
    if isinstance(whole, str):
        assert played == whole
        return
    assert played.workload.scenario is scenario and played.schedule is schedule
    assert np.array_equal(played.workload.game, whole.workload.game)
    for column in ("ready", "start", "end", "host", "stalled"):
        assert np.array_equal(getattr(played, column), getattr(whole, column)), column
    assert np.array_equal(played.workers(), whole.workers())
    assert (played.switches, played.switch_time) == (whole.switches, whole.switch_time)


@pytest.mark.parametrize(
    "kind",
    [
        *(kind for kind in SHARED_SCHEDULES if kind != ("threaded", {"threads": 2})),
        ("threaded", {"threads": 8}),  # 2 threads would be held by the gathering games
        ("parallel", {"processes": 3_000_000}),
    ],
)
def test_a_million_hosts_for_a_few_tasks_take_no_memory(kind):
    """2 games, each gathering 3 children, hold at most 6 hosts at once: a million hosts
    (and 3 000 000 worker processes, starting or not) cost what 6 would. Without the
    narrowing the players kept a slot per host: about 0.3 GB here, 3 GB for workers."""
    from sim.scenario.loader import from_yaml

    scenario = from_yaml(
        "name: wide\nhost: {count: 1000000}\nresources: {db: 2}\n"
        "players: [{name: p, count: 2, moves: 2, steps: [{with: db, steps: [{host: 1s}]},"
        " {gather: {count: 3, steps: [{wait: 1s}, {host: 1s}]}}]}]\n"
    )
    workload = Workload.of(scenario, np.random.default_rng(0))
    params = {key: min(value, 3) if key == "hosts" else value for key, value in kind[1].items()}
    tracemalloc.start()
    try:
        trace = play(workload, Schedule.of(kind[0], **params))
        assert tracemalloc.get_traced_memory()[1] < 10_000_000  # bytes, at the peak
    finally:
        tracemalloc.stop()
    assert trace.workload.hosts == 1_000_000
    assert trace.makespan > 0
