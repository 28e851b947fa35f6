"""The threaded schedule at every time scale: durations and switch interval × k, run × k.

Nothing in the GIL model is a number of seconds: a slice is one switch
interval, a waiter's timer restarts every interval. So a workload, and the
same workload with every duration, `switch_interval` and `host.switch_cost`
multiplied by k, are one interleaving, the second k times as long. Floats
make that hard: ten slices of 0.005 s add up to 0.05 s at one scale and to a
hair more or less at another, so a step of ten slices would end exactly at
a drop request at one scale and a hair after it at another, and need an
eleventh slice for that hair. Instants within `gil.TIE` of an interval are
one instant, and ties are settled by rule (docs/explanation/schedules-and-the-gil.md).

Base workloads here are in binary fractions (1/64 s, 1/256 s), exact in
floating point; scaled by k = 0.1, 0.3, … they are not.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import play
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule

#: Scales: the decimals round the products with binary fractions, the others do not
#: (they would show a constant in seconds).
SCALES = (0.001, 0.01, 0.1, 0.3, 0.7, 3.0, 10.0, 1000.0, 1 / 8, 4.0)
UNIT = 1 / 64


def rounds_of(
    n: int, rounds: int, host: float, wait: float, kind: str = "wait", cost: float = 0.0
) -> Scenario:
    """n identical games of `rounds` rounds: a host step, then a wait (or block) step."""
    steps = [{"host": host}, {kind: wait}]
    players = [{"name": "p", "count": n, "moves": rounds, "steps": steps}]
    return Scenario(host={"count": 1, "switch_cost": cost}, players=players)


def played(scenario: Scenario, interval: float, seed: int, threads: int | None = None) -> Trace:
    schedule = Schedule.of("threaded", threads=threads, switch_interval=interval)
    return play(Workload.of(scenario), schedule, np.random.default_rng(seed))


@pytest.mark.parametrize(("host", "interval"), [(5, 0.005), (0.05, 0.005), (0.7, 0.1), (1, 0.001)])
def test_a_step_of_whole_slices_needs_no_slice_more(host, interval):
    """Two threads of `host` seconds of Python, m = host / interval slices each. They
    alternate every interval, so the first done ends at 2·host − interval and the other
    at 2·host, after 2m − 1 switches, whatever the rounding of m sums of `interval`. (A
    real slice gives its thread at least one interval of CPU: its timer never fires
    early.)"""
    scenario = Scenario(players=[{"name": f"g{i}", "steps": [{"host": host}]} for i in range(2)])
    slices = round(host / interval)
    for seed in range(3):
        trace = played(scenario, interval, seed)
        ends = sorted(trace.game_ends().tolist())
        assert ends == pytest.approx([2 * host - interval, 2 * host], rel=1e-12)
        assert trace.switches == 2 * slices - 1


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(2, 6),
    rounds=st.integers(1, 3),
    host=st.integers(0, 12),
    wait=st.integers(0, 40),
    slice_units=st.sampled_from([1, 2, 4]),
    kind=st.sampled_from(["wait", "block"]),
    threads=st.sampled_from([None, 2]),
    cost=st.sampled_from([0.0, UNIT / 4]),
    k=st.sampled_from(SCALES),
    seed=st.integers(0, 2**16),
)
def test_scaling_every_duration_and_the_interval_by_k_scales_the_run_by_k(
    n, rounds, host, wait, slice_units, kind, threads, cost, k, seed
):
    """Alike games of host then wait (or block) steps, durations and interval whole
    numbers of 1/64 s: steps end exactly on drop requests and timers restart exactly at
    switches all the time. Scaled by k, the same seed makes the same switches and every
    step ends k times as late (to float rounding: 1e-9 of the makespan). The games are
    alike so that two threads' own steps never end at one instant by two different sums:
    that tie is SimPy's order of events, not the GIL's."""

    def at_scale(k: float):
        scenario = rounds_of(n, rounds, host * UNIT * k, wait * UNIT * k, kind, cost * k)
        return played(scenario, slice_units * UNIT * k, seed, threads)

    base, scaled = at_scale(1.0), at_scale(k)
    assert scaled.switches == base.switches
    assert scaled.makespan == pytest.approx(k * base.makespan, rel=1e-9)
    np.testing.assert_allclose(scaled.end, k * base.end, rtol=0, atol=1e-9 * k * base.makespan)


def test_the_mean_over_seeds_is_the_same_at_every_scale():
    """8 games of 10 rounds, a 50 ms host step then a 550 ms wait, interval 5 ms,
    played at ÷10, ×1, ×100 and ×1000 over 20 seeds: ×1000 (50 s, 550 s, 5 s) is exact
    in binary, the others are not (0.55 × 100 is 55.00000000000001); each seed's
    makespan ÷ scale is the same at all four, so the mean is too."""

    def makespans(k: float) -> list[float]:
        scenario = rounds_of(8, 10, 0.05 * k, 0.55 * k)
        return [played(scenario, 0.005 * k, seed).makespan / k for seed in range(20)]

    exact = makespans(1000)
    for k in (0.1, 1, 100):
        assert makespans(k) == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("k", [1.28, 0.01])
def test_a_polgar_sized_run_makes_the_same_switches_at_every_scale(k):
    """24 games of 30 rounds: 1 000 slices of host work, then 11 000 slices of waiting,
    the slice 1/256 s (exact), and the same × k; × 1.28 is polgar itself (5 s, 55 s,
    5 ms). Hundreds of thousands of switches a run, most settled in long runs of them
    (`sim.engine.gil`): the same ones at both scales, seed by seed, though 5 ms summed
    thousands of times drifts off the grid of its multiples, and whichever way a switch
    is played (alone or in a run) must draw the same random numbers."""
    slice_ = 1 / 256
    for seed in range(2):
        base = played(rounds_of(24, 30, 1_000 * slice_, 11_000 * slice_), slice_, seed)
        scenario = rounds_of(24, 30, 1_000 * slice_ * k, 11_000 * slice_ * k)
        scaled = played(scenario, slice_ * k, seed)
        assert scaled.switches == base.switches
        assert scaled.makespan == pytest.approx(k * base.makespan, rel=1e-9)
