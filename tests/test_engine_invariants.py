"""Engine invariants on random heterogeneous scenarios, read from the steps table.

Integer durations (zeros included) make same-instant ties common, which is
where a naive resource goes wrong with two or more hosts; non-integer ones
check the general case.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import play
from sim.engine.workload import Workload
from sim.results.tables import steps as steps_table
from sim.scenario.schedules import Schedule
from tests import reference
from tests.conftest import integer_durations, real_durations, scenarios

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
        ]
    ),
)
def test_hosts_past_the_games_change_no_step(scenario, kind):
    """Games that share nothing hold at most one host each, and the lowest free host goes
    first: with more hosts (or worker processes) than games, playing on as many as there
    are games (what `play` does, `without_idle_hosts` and `without_idle_workers`) gives
    every column of the trace bit for bit, integer durations (ties everywhere) included,
    and reports the scenario's own hosts and schedule."""
    from sim.engine import PLAYERS, without_idle_hosts

    workload = Workload.of(scenario, np.random.default_rng(0))
    schedule = Schedule.of(kind[0], **kind[1])
    whole = PLAYERS[schedule.kind](workload, schedule, np.random.default_rng(1))
    played = play(workload, schedule, np.random.default_rng(1))
    narrowed = without_idle_hosts(workload, schedule)
    assert narrowed.hosts == min(workload.hosts, workload.games)
    assert played.workload is workload and played.schedule is schedule
    for column in ("ready", "start", "end", "host"):
        assert np.array_equal(getattr(played, column), getattr(whole, column)), column
    assert played.switches == whole.switches


def test_workers_that_start_on_the_cpus_are_all_played():
    """With a `start_cost` every worker process starts, game or no game, and takes CPU time
    to: nothing is narrowed. 4 workers starting for 1 s each on 2 CPUs, 1 game of 1 s:
    the game waits for its worker's start, shared with another's (2 s), then plays (1 s)."""
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
