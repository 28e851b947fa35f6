"""The fast engines against the plain one, bit for bit.

`sim.engine.play` uses a callback engine for cooperative (host steps as single
events, wait steps folded into ready times, hosts granted without a dispatch
when nothing else can happen at the instant) and list scheduling for
synchronous. Both must give exactly the plain `stepwise` engine's trace, the
SimPy-process-per-game reading of docs/design.md: every ready, start and end float
and every host number, with k ≥ 2 hosts, same-instant ties and zero-length
steps and games.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import PLAYERS, STEPWISE
from sim.engine.workload import Workload
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from tests import reference
from tests.conftest import integer_durations, real_durations, scenarios

both = st.sampled_from(["synchronous", "cooperative"])
#: Sums of these are rarely exact in binary: a reordered addition would show.
awkward_durations = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.7, 1.1, 2.0, 1e-9, 1e6])


def columns(trace) -> tuple[list, ...]:
    return (trace.ready.tolist(), trace.start.tolist(), trace.end.tolist(), trace.host.tolist())


def assert_same_as_stepwise(scenario: Scenario, kind: str) -> None:
    workload = Workload.of(scenario)
    schedule = Schedule.of(kind)
    rng = np.random.default_rng(0)
    fast = PLAYERS[kind](workload, schedule, rng)
    plain = STEPWISE[kind](workload, schedule, rng)
    assert columns(fast) == columns(plain)


@settings(max_examples=120, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=4, max_count=6), kind=both)
def test_fast_equals_stepwise_with_ties_and_zero_steps(scenario, kind):
    assert_same_as_stepwise(scenario, kind)


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(st.one_of(real_durations, awkward_durations), max_hosts=4), kind=both)
def test_fast_equals_stepwise_to_the_last_bit_of_every_float(scenario, kind):
    assert_same_as_stepwise(scenario, kind)


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=4), kind=both)
def test_stepwise_equals_the_reference_reading_of_the_tie_rule(scenario, kind):
    """The yardstick itself agrees with tests/reference.py, host numbers included."""
    workload = Workload.of(scenario)
    plain = STEPWISE[kind](workload, Schedule.of(kind), np.random.default_rng(0))
    games = [
        [(step.kind, step.duration) for _ in range(group.moves) for step in group.round]
        for group in scenario.players
        for _ in range(group.count)
    ]
    expected = [row for game in reference.play(games, scenario.host.count, kind) for row in game]
    assert list(zip(*columns(plain), strict=True)) == expected


def random_scenario(seed: int, groups: int, hosts: int) -> Scenario:
    """Hundreds of games of mixed shapes: long queues, idle hosts, wake-ups, both queue paths."""
    rng = np.random.default_rng(seed)
    players = []
    for index in range(groups):
        width = int(rng.integers(1, 5))
        steps = [
            {str(rng.choice(["host", "wait"])): float(rng.integers(0, 4))} for _ in range(width)
        ]
        players.append(
            {
                "name": f"g{index}",
                "count": int(rng.integers(1, 60)),
                "moves": int(rng.integers(1, 6)),
                "steps": steps,
            }
        )
    return Scenario(host={"count": hosts}, players=players)


def test_fast_equals_stepwise_on_hundreds_of_games():
    for seed, hosts in [(1, 1), (2, 2), (3, 3), (4, 7)]:
        scenario = random_scenario(seed, groups=8, hosts=hosts)
        for kind in ("synchronous", "cooperative"):
            assert_same_as_stepwise(scenario, kind)


def test_a_zero_length_game_frees_its_host_for_the_next_round_of_the_instant():
    """Two hosts, games [0 s, 1 s, 1 s] handed in at 0 (docs/design.md's tie rule):
    first round at 0: game 0 → host 0, game 1 → host 1; game 0 ends at once,
    so the second round at 0 gives host 0 to game 2. Plain list scheduling on
    (free at, host) would give game 1 host 0 again."""
    scenario = Scenario(
        host={"count": 2},
        players=[
            {"name": "empty", "steps": [{"host": 0}]},
            {"name": "busy", "count": 2, "steps": [{"host": 1}]},
        ],
    )
    trace = PLAYERS["synchronous"](
        Workload.of(scenario), Schedule.of("synchronous"), np.random.default_rng(0)
    )
    assert trace.host.tolist() == [0, 1, 0]
    assert trace.start.tolist() == [0.0, 0.0, 0.0]


def test_engines_ask_holds_host_which_steps_hold_a_host(monkeypatch):
    """If a wait held a host under cooperative, games of host 1 s + wait 2 s would play
    exactly as games of two host steps: both engines read the one lookup, neither
    tests kinds. Two such games on one host, FIFO: game 0 step 1 on 0–1; game 1
    step 1 (ready 0) on 1–2; game 0 step 2 (ready 1) on 2–4; game 1 step 2 (ready 2)
    on 4–6: ends [1, 4, 2, 6] in row order."""
    from sim.engine import holding

    waits = Scenario(players=[{"name": "p", "count": 2, "steps": [{"host": 1}, {"wait": 2}]}])
    hosts = Scenario(players=[{"name": "p", "count": 2, "steps": [{"host": 1}, {"host": 2}]}])
    cooperative = Schedule.of("cooperative")
    rng = np.random.default_rng(0)
    expected = columns(PLAYERS["cooperative"](Workload.of(hosts), cooperative, rng))
    assert expected[2] == [1.0, 4.0, 2.0, 6.0]
    monkeypatch.setitem(holding.HOLDS_HOST, "cooperative", frozenset({"host", "wait"}))
    for player in (PLAYERS["cooperative"], STEPWISE["cooperative"]):
        assert columns(player(Workload.of(waits), cooperative, rng)) == expected
