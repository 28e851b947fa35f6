"""Block steps and `host.switch_cost` under the synchronous and cooperative schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.engine import PLAYERS, STEPWISE, play
from sim.engine.workload import WAIT, Workload
from sim.experiment.runs import run
from sim.results.closed_forms import closed_form, cooperative_one_host
from sim.scenario.schedules import Schedule
from tests.conftest import (
    busy_time,
    integer_durations,
    polgar_like,
    scenarios,
    with_steps_renamed,
)


def trace_of(scenario, kind: str):
    return play(Workload.of(scenario), Schedule.of(kind))


def polgar_shapes(max_games: int, max_rounds: int, max_wait: int, **more):
    """`given` n games of `rounds` rounds, host step c, wait w and switch cost s, all in
    whole seconds (so ties are exact), and `more` strategies."""
    return given(
        n=st.integers(1, max_games),
        rounds=st.integers(1, max_rounds),
        c=st.integers(0, 8),
        w=st.integers(0, max_wait),
        s=st.integers(0, 6),
        **more,
    )


@pytest.mark.parametrize("n", [24, 8])
@pytest.mark.parametrize("s", [0, 0.5, 1, 2, 3, 5, 30])
def test_cooperative_polgar_with_a_switch_cost_matches_the_closed_form(n, s):
    """Judit walks s seconds to every other board (derivation in `sim.results.closed_forms`):
    max(n·R·c + (n·R − 1)·s + w, R·(c+w) + (n−1)·c + (n+R−2)·s).

    n = 24 (R = 30, c = 5, w = 55) is saturated for every s, 23·(5+s) ≥ 55:
    s = 0 → 3 655 s; s = 1 → 3 600 + 719 + 55 = 4 374 s; s = 30 → 3 600 + 21 570 + 55.
    n = 8 changes regime at 7·(5+s) = 55, s = 20/7: s ≤ 2 leaves Judit idle, so the
    last game sets the pace, e.g. s = 2 → 1 800 + 35 + 36·2 = 1 907 s; s = 5 is
    saturated: 1 200 + 239·5 + 55 = 2 450 s."""
    scenario = polgar_like(n, switch_cost=s)
    expected = max(n * 30 * 5 + (n * 30 - 1) * s + 55, 30 * 60 + (n - 1) * 5 + (n + 28) * s)
    worked = {(24, 0): 3_655, (24, 1): 4_374, (24, 30): 3_600 + 719 * 30 + 55}
    worked |= {(8, 2): 1_907, (8, 5): 2_450}
    assert expected == worked.get((n, s), expected)
    trace = trace_of(scenario, "cooperative")
    assert trace.makespan == expected
    assert closed_form(scenario, "cooperative") == expected
    assert trace.switches == n * 30 - 1


@settings(max_examples=150, deadline=None)
@polgar_shapes(max_games=10, max_rounds=6, max_wait=40)
def test_cooperative_switch_cost_closed_form_on_one_host(n, rounds, c, w, s):
    """Both regimes and their boundary (integer times, so ties are exact); rounds of
    no time at all are the one exception (see `sim.results.closed_forms`)."""
    assume(c + w > 0 or s == 0)
    scenario = polgar_like(n, rounds, c, w, switch_cost=s)
    assert trace_of(scenario, "cooperative").makespan == cooperative_one_host(n, rounds, c, w, s)


@settings(max_examples=80, deadline=None)
@polgar_shapes(max_games=12, max_rounds=4, max_wait=20, k=st.integers(2, 4))
def test_synchronous_switch_cost_on_k_hosts(n, rounds, c, w, s, k):
    """Each host plays ⌈n/k⌉ whole games and walks between them ⌈n/k⌉ − 1 times."""
    scenario = polgar_like(n, rounds, c, w, hosts=k, switch_cost=s)
    per_host = math.ceil(n / k)
    expected = per_host * rounds * (c + w) + (per_host - 1) * s
    assert trace_of(scenario, "synchronous").makespan == expected
    assert closed_form(scenario, "synchronous") == expected


def test_switch_cost_is_waiting_for_the_host_in_the_tables():
    """Two games of one 1 s host step, switch cost 0.5 s: the second starts at 1.5 and
    ends at 2.5; its 0.5 s walk and 1 s wait are both waiting for the host; the
    summary counts one switch of 0.5 s."""
    result = run(polgar_like(2, 1, 1, 0, switch_cost=0.5), ["cooperative"])
    games = result.games.set_index("player")
    assert games.loc["p-2", "end_s"] == 2.5 and games.loc["p-2", "wait_for_host_s"] == 1.5
    summary = result.summary.set_index("schedule")
    assert summary.loc["cooperative", "switches"] == 1
    assert summary.loc["cooperative", "switch_s"] == 0.5


@settings(max_examples=80, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=4, kinds=("host", "block", "wait")))
def test_under_cooperative_a_block_step_is_a_host_step(scenario):
    """`time.sleep(d)` in a coroutine holds the loop for d, exactly like d of CPU work:
    every step's times and host are the same (k hosts, integer durations, ties)."""
    blocking = trace_of(scenario, "cooperative")
    computing = trace_of(with_steps_renamed(scenario, "block", "host"), "cooperative")
    for column in ("ready", "start", "end", "host"):
        assert np.array_equal(getattr(blocking, column), getattr(computing, column)), column


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=3, kinds=("host", "block", "wait")))
def test_under_synchronous_a_block_step_is_a_wait_step(scenario):
    """A host holds its game through waits anyway; a blocking call changes nothing."""
    blocking = trace_of(scenario, "synchronous")
    waiting = trace_of(with_steps_renamed(scenario, "block", "wait"), "synchronous")
    assert np.array_equal(blocking.end, waiting.end)


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=3, kinds=("host", "block", "wait")))
def test_every_game_is_host_wait_block_and_waiting_for_a_host(scenario):
    """Games are handed in at 0: end = host + wait + block + waiting for a host,
    under all four schedules (threads with a coarse 0.5 s interval)."""
    schedules = [
        Schedule.of("synchronous"),
        Schedule.of("cooperative"),
        Schedule.of("threaded", switch_interval=0.5),
        Schedule.of("threaded", gil=False),
        Schedule.of("parallel", processes=2),
    ]
    games = run(scenario, schedules).games
    total = games["host_s"] + games["wait_s"] + games["block_s"] + games["wait_for_host_s"]
    assert np.allclose(games["end_s"], total, rtol=1e-9, atol=1e-9)
    assert (games["wait_for_host_s"] >= -1e-9).all()


@settings(max_examples=60, deadline=None)
@given(
    scenario=scenarios(
        integer_durations, min_hosts=2, max_hosts=4, kinds=("host", "block", "wait")
    ),
    cost=st.integers(1, 3),
)
def test_walking_hosts_never_overlap_and_never_idle_while_a_game_is_ready(scenario, cost):
    """k ≥ 2 hosts with a switch cost: a host's walk to another game and the step it
    then serves never overlap the next thing it does; and while any host or block
    step is ready or under way the hosts are all busy (working or walking), so
    ∫ min(steps ready or under way, k) dt = host work + block time + walking."""
    host = scenario.host.model_copy(update={"switch_cost": float(cost)})
    trace = trace_of(scenario.model_copy(update={"host": host}), "cooperative")
    workload = trace.workload
    held = np.flatnonzero(workload.kind != WAIT)
    for number in range(scenario.host.count):
        mine = held[trace.host[held] == number]
        mine = mine[np.argsort(trace.start[mine], kind="stable")]
        games_served = workload.game[mine]
        walked = np.r_[False, games_served[1:] != games_served[:-1]] * cost
        busy_from = trace.start[mine] - walked
        assert (busy_from[1:] >= trace.end[mine][:-1]).all()
    busy = busy_time(trace.ready[held], trace.end[held], scenario.host.count)
    expected = workload.host_work() + workload.block_time() + trace.switch_time
    assert busy == pytest.approx(expected, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=4, kinds=("host", "block", "wait")),
    kind=st.sampled_from(["synchronous", "cooperative"]),
)
def test_fast_paths_hold_the_loop_in_block_steps_and_count_switches_as_the_plain_engine(
    scenario, kind
):
    """Block steps through the fast engines, bit for bit the plain engine's trace; and the
    switches they count afterwards are the ones the plain engine counts as it goes."""
    workload, schedule = Workload.of(scenario), Schedule.of(kind)
    fast = PLAYERS[kind](workload, schedule, np.random.default_rng(0))
    plain = STEPWISE[kind](workload, schedule, np.random.default_rng(0))
    for column in ("ready", "start", "end", "host"):
        assert getattr(fast, column).tolist() == getattr(plain, column).tolist(), column
    assert fast.switches == plain.switches
