"""Queueing theory as the oracle for resources: the finite-source M/M/c//N queue.

N games each loop: think (a `wait` drawn from an exponential of mean 1/λ,
holding nothing), then hold one unit of a resource of capacity c for a
`wait` drawn from an exponential of mean 1/μ. Waits need no host, so the
resource is the only thing the games contend for, and under cooperative it
is granted first come, first served. That is the machine-repairman model
(N machines, c repairmen): the number n of games at the resource (holding
or queued for it) is a birth–death chain on 0..N with

    births  (N − n) λ       (each of the N − n thinking games comes back at rate λ)
    deaths  min(n, c) μ     (each of the min(n, c) holders gives back at rate μ)

whose stationary law solves the cut equations p_{n+1} min(n+1, c) μ = p_n (N − n) λ:

    p_n ∝ ∏_{k=0}^{n-1} (N − k) λ / (min(k + 1, c) μ),    Σ p_n = 1,

and whose throughput, holds completed per second, is the mean death rate

    X = Σ_n min(n, c) μ p_n.

The engine's throughput is counted from the trace: `with` rows that end
(the unit given back) inside a window [t0, t1], over t1 − t0. The window
closes at the first game's end, so all N games are looping throughout
(no drain at the end), and opens after 2 % of it: the chain starts at n = 0
and forgets it within a few cycles of a few seconds, against thousands of
seconds measured. Each case plays tens of thousands of holds; over seeds
the measured X spreads by about 0.4 %, so 2 % is five standard deviations,
while the wrong capacities c − 1, c + 1 and "no limit at all" are 8 % to
42 % away (checked below, so the test can tell them apart).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine import play
from sim.engine.workload import Workload
from sim.scenario.loader import from_yaml
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

WITH = STEP_KINDS.index("with")


def machine_repairman_throughput(n_sources: int, servers: int, lam: float, mu: float) -> float:
    """X of the M/M/c//N queue from the birth–death chain above."""
    weights = [1.0]
    for n in range(n_sources):
        weights.append(weights[-1] * (n_sources - n) * lam / (min(n + 1, servers) * mu))
    total = math.fsum(weights)
    return math.fsum(min(n, servers) * mu * w / total for n, w in enumerate(weights))


def played_throughput(n_sources: int, servers: int, think: float, hold: float, moves: int) -> float:
    scenario = from_yaml(
        f"resources: {{db: {servers}}}\n"
        "players:\n"
        "  - name: machine\n"
        f"    count: {n_sources}\n"
        f"    moves: {moves}\n"
        "    steps:\n"
        f"      - wait: {{dist: exponential, mean: {think}s}}\n"
        "      - with: db\n"
        f"        steps: [{{wait: {{dist: exponential, mean: {hold}s}}}}]\n"
        "schedules: [cooperative]\n"
    )
    workload = Workload.of(scenario, np.random.default_rng(20260101 + servers))
    trace = play(workload, Schedule.of("cooperative"))
    holds = trace.end[trace.workload.kind == WITH]
    assert len(holds) == n_sources * moves  # every hold played, none lost
    t1 = float(trace.game_ends().min())
    t0 = 0.02 * t1
    done = np.count_nonzero((holds > t0) & (holds <= t1))
    assert done > 20_000, "long enough for 2 %"
    return done / (t1 - t0)


#: (N games, c units, mean think 1/λ s, mean hold 1/μ s, rounds per game): every
#: case offers more than c units' worth of work (N λ / μ > c), so games do queue.
CASES = [
    (5, 1, 2.0, 0.5, 7000),
    (8, 2, 3.0, 1.0, 4500),
    (12, 4, 2.0, 1.0, 3000),
]


@pytest.mark.parametrize(("n_sources", "servers", "think", "hold", "moves"), CASES)
def test_a_resource_is_the_finite_source_queue(n_sources, servers, think, hold, moves):
    lam, mu = 1 / think, 1 / hold
    expected = machine_repairman_throughput(n_sources, servers, lam, mu)
    # the oracle can tell a wrong engine: other capacities, or none, are far off
    assert abs(n_sources / (think + hold) / expected - 1) > 0.08  # never a wait to get in
    assert abs(machine_repairman_throughput(n_sources, servers + 1, lam, mu) / expected - 1) > 0.08
    if servers > 1:
        fewer = machine_repairman_throughput(n_sources, servers - 1, lam, mu)
        assert abs(fewer / expected - 1) > 0.08
    got = played_throughput(n_sources, servers, think, hold, moves)
    assert got == pytest.approx(expected, rel=0.02)


def test_the_formula_on_cases_worked_by_hand():
    """N = 1: one game alternates think and hold, X = 1 / (1/λ + 1/μ). N = 2, c = 1,
    λ = μ = 1: p ∝ (1, 2·1/1, 2·1·1/1) = (1, 2, 2)/5, X = μ (p1 + p2) = 4/5.
    c ≥ N: nobody queues, X = N / (1/λ + 1/μ)."""
    assert machine_repairman_throughput(1, 1, 0.5, 2.0) == pytest.approx(1 / (2 + 0.5))
    assert machine_repairman_throughput(2, 1, 1.0, 1.0) == pytest.approx(0.8)
    assert machine_repairman_throughput(3, 3, 1.0, 2.0) == pytest.approx(3 / 1.5)
