"""Threads: the GIL's rules pinned on tiny cases, and invariants on random scenarios.

Durations in the exact cases are binary fractions (0.25, 0.75, …), so every
instant is exact in floating point and ties are ties.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import gil, play
from sim.engine.workload import CPU, HOST, Workload
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from tests.conftest import busy_time, integer_durations, scenarios, with_steps_renamed

ALL_KINDS = ("host", "wait", "block", "native")


def trace_of(scenario: Scenario, kind: str = "threaded", seed: int = 0, **params):
    return play(Workload.of(scenario), Schedule.of(kind, **params), np.random.default_rng(seed))


def games(*rounds: list[dict], switch_cost: float = 0.0, hosts: int = 1) -> Scenario:
    """One game per argument, each one round of the given steps."""
    players = [{"name": f"g{i}", "steps": steps} for i, steps in enumerate(rounds)]
    return Scenario(host={"count": hosts, "switch_cost": switch_cost}, players=players)


def game_ends(trace) -> list[float]:
    return trace.game_ends().tolist()


# --- the GIL's rules, case by case --------------------------------------------------------


def test_two_cpu_bound_threads_alternate_every_switch_interval():
    """Two threads of 1 s each, interval 0.25 s. Whoever starts runs 0–0.25, the
    other 0.25–0.5 (it asked for the GIL after one interval), and so on: the
    first done has its 4th slice at 1.5–1.75, the other at 1.75–2. Either way
    the ends are 2·1 − 0.25 = 1.75 and 2 s."""
    scenario = games([{"host": 1}], [{"host": 1}])
    for seed in range(4):
        trace = trace_of(scenario, seed=seed, switch_interval=0.25)
        assert sorted(game_ends(trace)) == [1.75, 2.0]


def test_long_runs_of_switches_settled_together_follow_the_same_rule():
    """The same two threads with an interval of 1/64 s: 64 slices each, so the switches
    are settled in runs (`sim.engine.gil`); the ends are still 2 − 1/64 and 2."""
    scenario = games([{"host": 1}], [{"host": 1}])
    for seed in range(3):
        trace = trace_of(scenario, seed=seed, switch_interval=1 / 64)
        assert sorted(game_ends(trace)) == [2 - 1 / 64, 2.0]
        assert trace.switches == 127


@pytest.mark.parametrize("interval", [0.25, 1 / 64])
def test_the_thread_that_asked_for_the_switch_can_keep_the_gil_between_two(interval, monkeypatch):
    """Three threads of 1 s. If the waiter that asks for the switch always takes the
    GIL (the share set to 1), the first two holders pass it back and forth, every
    interval, while the third starves: the first done ends at 2 − interval, as if
    alone with one other thread; the GIL is never idle, so the last ends at 3."""
    monkeypatch.setattr(gil, "REQUESTER_FIRST", 1.0)
    scenario = games([{"host": 1}], [{"host": 1}], [{"host": 1}])
    for seed in range(4):
        ends = sorted(game_ends(trace_of(scenario, seed=seed, switch_interval=interval)))
        assert ends[0] == 2 - interval and ends[-1] == pytest.approx(3.0, abs=1e-9)


def test_a_thread_back_from_sleep_waits_one_interval_then_alternates():
    """g0 computes 10 s from 0 alone. g1 sleeps 1 s, then wants 1 s of CPU: it
    waits one interval (0.25 s), asks for the drop, runs 1.25–1.5; g0 asks back
    one interval after that switch; so g1 runs every other slice: 1.25, 1.75,
    2.25, 2.75 → it ends at 3. g0 lost 4 slices of 0.25 s: it ends at 11."""
    scenario = games([{"host": 10}], [{"wait": 1}, {"host": 1}])
    trace = trace_of(scenario, switch_interval=0.25)
    assert game_ends(trace) == [11.0, 3.0]
    steps = Workload.of(scenario)
    g1_host = int(steps.first_step[1]) + 1
    assert (trace.ready[g1_host], trace.start[g1_host], trace.end[g1_host]) == (1.0, 1.25, 3.0)


def test_after_a_voluntary_drop_the_next_request_keeps_each_waiters_phase():
    """Interval 1 s. g0 holds the GIL alone for 0.75 s; g1 starts waiting for it at
    0.25, g2 at 0.5; each wants 1.5 s. At 0.75 g0 is done and hands over to g1 or
    g2 (a draw). A waiter's timer restarts every second from when it began, and
    only a wait that begins after the switch may ask for a drop: g1 restarts at
    1.25 and asks at 2.25, g2 at 1.5 and asks at 2.5. If g1 holds, g2's request
    comes at 2.5, after g1 is done (0.75 + 1.5 = 2.25); if g2 holds, g1's comes
    at 2.25, exactly when g2 is done. Either way: one ends at 2.25, the other
    then runs alone and ends at 3.75. (Asking one interval after the switch,
    at 1.75, would give 3.25 and 3.75.)"""
    scenario = games(
        [{"host": 0.75}], [{"wait": 0.25}, {"host": 1.5}], [{"wait": 0.5}, {"host": 1.5}]
    )
    for seed in range(6):
        trace = trace_of(scenario, seed=seed, switch_interval=1.0)
        assert sorted(game_ends(trace)[1:]) == [2.25, 3.75]


def test_entering_a_wait_or_block_step_drops_the_gil_at_once():
    """Three threads each compute 0.25 s, then sleep or block 1 s, interval 1 s:
    nobody is preempted, each hands the GIL on when it sleeps, so the three
    computations run back to back (0.75 s) and the last sleep ends at 1.75 s."""
    scenario = games(
        [{"host": 0.25}, {"wait": 1}], [{"host": 0.25}, {"block": 1}], [{"host": 0.25}, {"wait": 1}]
    )
    for seed in range(3):
        trace = trace_of(scenario, seed=seed, switch_interval=1.0)
        assert sorted(game_ends(trace)) == [1.25, 1.5, 1.75]


def test_which_thread_gets_the_gil_is_drawn_from_the_seed():
    """Same seed, same trace; other seeds give other interleavings (24 threads)."""
    scenario = games(*[[{"host": 1}, {"wait": 2}, {"host": 1}] for _ in range(24)])
    first = trace_of(scenario, seed=1, switch_interval=0.25)
    again = trace_of(scenario, seed=1, switch_interval=0.25)
    assert np.array_equal(first.end, again.end) and np.array_equal(first.start, again.start)
    others = {tuple(trace_of(scenario, seed=s, switch_interval=0.25).end) for s in range(2, 6)}
    assert len(others | {tuple(first.end)}) > 1


def test_switch_costs_add_to_a_cpu_bound_run():
    """Two CPU-only threads of 1 s, interval 0.25 s, switch cost 0.125 s: the GIL is
    never idle, so the makespan is the work plus every switch: 2 + switches × 0.125.
    Each slice still gives 0.25 s of work (the interval counts from when the new
    holder has the GIL), so there are 8 slices and 7 switches: 2.875 s."""
    trace = trace_of(games([{"host": 1}], [{"host": 1}], switch_cost=0.125), switch_interval=0.25)
    assert trace.switches == 7 and trace.switch_time == 7 * 0.125
    assert trace.makespan == 2 + 7 * 0.125


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=1, max_count=3, kinds=ALL_KINDS))
def test_one_thread_is_synchronous_on_one_host(scenario):
    """A single thread plays the games one after another, exactly as one host does."""
    thread = trace_of(scenario, threads=1)
    synchronous = trace_of(scenario, "synchronous")
    for column in ("ready", "start", "end"):
        assert np.array_equal(getattr(thread, column), getattr(synchronous, column)), column


@settings(max_examples=40, deadline=None)
@given(scenario=scenarios(integer_durations, max_count=3, kinds=ALL_KINDS), data=st.data())
def test_free_threads_with_a_cpu_each_never_wait(scenario, data):
    """gil: false and host.count ≥ games: every game runs as if alone, its end the
    sum of its own steps."""
    hosts = scenario.games + data.draw(st.integers(0, 2))
    scenario = scenario.model_copy(
        update={"host": scenario.host.model_copy(update={"count": hosts})}
    )
    trace = trace_of(scenario, gil=False)
    workload = trace.workload
    alone = np.bincount(workload.game, weights=workload.duration, minlength=workload.games)
    assert np.allclose(trace.game_ends(), alone, rtol=1e-12, atol=1e-9)
    assert np.allclose(trace.start, trace.ready, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_count=3, kinds=ALL_KINDS),
    interval=st.sampled_from([0.25, 0.5, 1.0]),
    cost=st.sampled_from([0.0, 0.125]),
    seed=st.integers(0, 2**16),
)
def test_the_gil_is_never_idle_while_a_thread_wants_it(scenario, interval, cost, seed):
    """From the steps table: while any host step is under way (ready to end), the
    GIL is busy, and with one holder at a time it does exactly the host work and
    the switches. So ∫ min(steps under way, 1) dt = host work + switch time: more
    would be double booking, less an idle GIL."""
    host = scenario.host.model_copy(update={"switch_cost": cost})
    scenario = scenario.model_copy(update={"host": host})
    trace = trace_of(scenario, seed=seed, switch_interval=interval)
    on_host = trace.workload.kind == HOST
    held = busy_time(trace.ready[on_host], trace.end[on_host], capacity=1)
    expected = trace.workload.python_work() + trace.switch_time  # native steps drop the GIL
    assert held == pytest.approx(expected, abs=1e-9)
    assert (trace.stalled >= 0).all() and (trace.start >= trace.ready).all()


@settings(max_examples=40, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=4, max_count=4, kinds=ALL_KINDS))
def test_free_threads_share_cpus_without_idling_or_overbooking(scenario):
    """gil: false on k CPUs: ∫ min(host and native steps under way, k) dt = CPU work."""
    trace = trace_of(scenario, gil=False)
    on_host = np.isin(trace.workload.kind, CPU)
    used = busy_time(trace.start[on_host], trace.end[on_host], capacity=scenario.host.count)
    assert used == pytest.approx(trace.workload.host_work(), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_count=4, kinds=ALL_KINDS),
    threads=st.integers(1, 3),
    gil=st.booleans(),
)
def test_a_pool_plays_its_games_in_file_order_one_per_thread(scenario, threads, gil):
    """`threads` workers, like a ThreadPoolExecutor: a thread takes its next game when
    it ends the last one, games are taken in file order, a thread's games never overlap."""
    trace = trace_of(scenario, threads=threads, gil=gil, switch_interval=0.5)
    workload = trace.workload
    first, last = workload.first_step[:-1], workload.first_step[1:] - 1
    worker, ends = trace.worker[first], trace.end[last]
    assert set(worker.tolist()) == set(range(min(threads, workload.games)))
    taken = np.zeros(workload.games)  # when a thread took the game: its previous game's end
    for thread in range(threads):
        mine = np.flatnonzero(worker == thread)
        taken[mine[1:]] = ends[mine[:-1]]
        assert (trace.start[first][mine[1:]] >= ends[mine[:-1]]).all()
    assert (np.diff(taken) >= 0).all()


@settings(max_examples=30, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_count=3, kinds=("host", "wait")),
    seed=st.integers(0, 2**16),
)
def test_under_threads_a_block_step_is_a_wait_step(scenario, seed):
    """time.sleep and I/O release the GIL: turning every wait into a block changes nothing."""
    plain = trace_of(scenario, seed=seed, switch_interval=0.5)
    blocked = trace_of(
        with_steps_renamed(scenario, "wait", "block"), seed=seed, switch_interval=0.5
    )
    assert np.array_equal(plain.start, blocked.start) and np.array_equal(plain.end, blocked.end)
