"""Processes: a pool of synchronous workers on CPUs shared when they are too few."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import parallel, play
from sim.engine.workload import CPU, HOST, Workload
from sim.scenario.loader import load_file
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from tests.conftest import (
    SCENARIOS,
    busy_time,
    integer_durations,
    polgar_like,
    real_durations,
    scenarios,
)

ALL_KINDS = ("host", "wait", "block", "native")


def trace_of(scenario: Scenario, kind: str = "parallel", **params):
    return play(Workload.of(scenario), Schedule.of(kind, **params), np.random.default_rng(0))


def on_hosts(scenario: Scenario, hosts: int) -> Scenario:
    return scenario.model_copy(update={"host": scenario.host.model_copy(update={"count": hosts})})


@settings(max_examples=40, deadline=None)
@given(
    scenario=scenarios(st.one_of(integer_durations, real_durations), max_count=4, kinds=ALL_KINDS),
    cost=st.sampled_from([0.0, 0.5]),
)
def test_one_process_is_synchronous_on_one_host(scenario, cost):
    """One worker plays the games one after another on one CPU, paying the switch
    cost between games just as a synchronous host does."""
    host = scenario.host.model_copy(update={"switch_cost": cost})
    scenario = scenario.model_copy(update={"host": host})
    process = trace_of(scenario, processes=1)
    synchronous = trace_of(on_hosts(scenario, 1), "synchronous")
    for column in ("ready", "start", "end"):
        assert np.allclose(getattr(process, column), getattr(synchronous, column), atol=1e-9)
    assert process.switches == synchronous.switches


@settings(max_examples=40, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_count=4, kinds=ALL_KINDS, min_hosts=2, max_hosts=4),
    start=st.sampled_from([0.0, 0.25, 2.0]),
    cost=st.sampled_from([0.0, 0.5]),
)
def test_processes_with_a_cpu_each_are_synchronous_hosts_after_starting(scenario, start, cost):
    """k workers on k CPUs never share: synchronous on k hosts, shifted by the start cost.
    That is how such a pool is computed; the pool played event by event (CPUs shared
    when needed, which here they never are) must agree with it."""
    host = scenario.host.model_copy(update={"switch_cost": cost})
    scenario = scenario.model_copy(update={"host": host})
    process = trace_of(scenario, start_cost=start)
    played = parallel.pooled(Workload.of(scenario), Schedule.of("parallel", start_cost=start))
    synchronous = trace_of(scenario, "synchronous")
    assert np.allclose(process.end, synchronous.end + start, atol=1e-9)
    assert np.array_equal(process.worker, synchronous.host)
    for column in ("ready", "start", "end", "worker", "stalled"):
        assert np.allclose(getattr(played, column), getattr(process, column), atol=1e-9), column
    assert played.switches == process.switches


@settings(max_examples=40, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=3, max_count=4, kinds=ALL_KINDS),
    processes=st.integers(1, 6),
)
def test_processes_share_cpus_without_idling_or_overbooking(scenario, processes):
    """Processor sharing is work-conserving: ∫ min(CPU steps under way, k) dt = CPU work.
    (Start costs are zero here, so only host and native steps use CPUs.)"""
    trace = trace_of(scenario, processes=processes)
    on_host = np.isin(trace.workload.kind, CPU)  # host and native steps: CPU work
    used = busy_time(trace.start[on_host], trace.end[on_host], capacity=scenario.host.count)
    assert used == pytest.approx(trace.workload.host_work(), abs=1e-9)


def test_io_bound_on_one_cpu_four_processes_share_it_in_lockstep():
    """io_bound with host.count 1: the four workers start together, their 10 ms steps
    share the one CPU (each takes 4 × 10 ms = 40 ms), they all wait 1 s and meet
    again: 25 rounds × 1.04 s = 26 s, not the 25 × 1.01 s = 25.25 s of 4 CPUs."""
    scenario = on_hosts(load_file(SCENARIOS / "io_bound.yaml"), 1)
    assert trace_of(scenario, processes=4).makespan == pytest.approx(26.0, abs=1e-9)


def test_workers_start_on_shared_cpus():
    """4 workers, 2 CPUs, a start cost of 1 s of CPU each: the four start-ups share
    the 2 CPUs and end together at 4 × 1 / 2 = 2 s; the four 1 s games then share
    them the same way, 2 s more: 4 s."""
    trace = trace_of(polgar_like(4, rounds=1, c=1, w=0, hosts=2), processes=4, start_cost=1.0)
    assert trace.makespan == pytest.approx(4.0)
    assert trace.start[trace.workload.kind == HOST].tolist() == pytest.approx([2.0] * 4)


@pytest.mark.parametrize(
    ("round_", "makespan"),
    [
        # six rounds one after another on the one process: 6 × (4·10⁹ s + 1 ms)
        ("[{with: db, steps: [{wait: 4000000000000}]}, {host: 1}]", 2.4e10 + 0.006),
        # gather children one after another: 6 × (4·10⁹ s + 2 × (2 000 s + 1 ms))
        (
            "[{wait: 4000000000000}, {gather: {count: 2, steps: [{wait: 2000000}, {host: 1}]}}]",
            2.4e10 + 24_000.012,
        ),
    ],
)
def test_cpu_work_late_in_a_run_ends(round_, makespan):
    """Three games of two rounds on one process, each holding it through a wait of 4·10⁹ s
    and then 1 ms of CPU: late in the run the clock's float steps by 0.5–4 µs, so the
    CPU's share of a step can no longer tell every instant from now. The run ends (it
    used to tick at one instant for ever) at the sum of the steps, to the clock's step.
    (In a thread: a spin fails the test instead of hanging it.)"""
    import threading

    from sim.scenario.loader import from_yaml

    scenario = from_yaml(
        "unit: ms\nresources: {db: 2}\n"
        f"players: [{{name: p, count: 3, moves: 2, steps: {round_}}}]\n"
    )
    workload, played = Workload.of(scenario), []
    player = threading.Thread(
        target=lambda: played.append(play(workload, Schedule.of("parallel"))), daemon=True
    )
    player.start()
    player.join(timeout=30)
    assert not player.is_alive(), "the CPUs ticked at one instant for ever"
    assert played[0].makespan == pytest.approx(makespan, abs=1e-5)
