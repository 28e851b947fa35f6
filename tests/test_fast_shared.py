"""The fast players of games that share against the task engine, bit for bit.

`sim.engine.eventloop` (cooperative) and `sim.engine.sequential` (synchronous
on one host) play what `sim.engine.runners.play_tasks` plays, with fewer
events or none; every column of the trace and the rows themselves must be
the task engine's to the last bit. Random scenarios nest `with` blocks,
gathers, puts and consumers (tests/test_shared_properties.py's strategy);
integer durations make same-instant ties common, fractional ones (0.1, 1/3,
…) test that every sum is made as the task engine makes it; one to three
hosts. Where the fast player does not apply it must say so (None), and the
task engine then plays or reports the deadlock.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.test_shared_properties as shared
from sim.engine import eventloop, runners, sequential
from sim.engine.deadlock import Deadlock
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.loader import load_file
from sim.scenario.model import TIMED_KINDS, Scenario
from sim.scenario.schedules import Schedule

ROOT = Path(__file__).resolve().parent.parent
ROWS = ("game", "move", "step", "kind", "shared", "duration", "first_step")
TIMES = ("ready", "start", "end", "host")

fractional_steps = st.builds(
    lambda kind, n, unit: {kind: n * unit},
    st.sampled_from(TIMED_KINDS),
    st.integers(0, 3),
    st.sampled_from([0.1, 0.013, 1 / 3, 0.7, 2.5]),
)


def assert_same(fast: Trace, tasks: Trace) -> None:
    for name in ROWS:
        ours, theirs = getattr(fast.workload, name), getattr(tasks.workload, name)
        assert ours.dtype == theirs.dtype, name
        assert ours.tolist() == theirs.tolist(), name
    for name in TIMES:
        assert getattr(fast, name).tolist() == getattr(tasks, name).tolist(), name
    assert (fast.switches, fast.switch_time) == (tasks.switches, tasks.switch_time)
    assert fast.worker is None and tasks.worker is None


def compare(scenario: Scenario, schedule: Schedule, fast) -> str:
    """How the fast player did: "played" (and agreed with the task engine), "waits for
    ever" (it declined, and the task engine reports the deadlock), "declined" or, for a
    scenario that shares nothing (no task engine then), "plain"."""
    workload = Workload.of(scenario)
    if workload.shared is None:
        return "plain"
    played = fast(workload, schedule)
    try:
        tasks = runners.play_tasks(workload, schedule, np.random.default_rng(0))
    except Deadlock:
        assert played is None, "a run that waits for ever is the task engine's to report"
        return "waits for ever"
    if played is None:
        return "declined"
    assert_same(played, tasks)
    return "played"


@settings(max_examples=250, deadline=None)
@given(scenario=shared.shared_scenarios())
def test_the_event_loop_is_the_task_engine_cooperative(scenario):
    assert compare(scenario, Schedule.of("cooperative"), eventloop.play) != "declined"


@settings(max_examples=250, deadline=None)
@given(scenario=shared.shared_scenarios())
def test_the_sequence_is_the_task_engine_synchronous_on_one_host(scenario):
    """It declines only where a game would wait, and on one host that is for ever."""
    assert compare(scenario, Schedule.of("synchronous", hosts=1), sequential.play) != "declined"


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fractional_durations_are_summed_as_the_task_engine_sums_them(data):
    integer_steps, shared.timed_steps = shared.timed_steps, fractional_steps
    try:
        scenario = data.draw(shared.shared_scenarios())
    finally:
        shared.timed_steps = integer_steps
    assert compare(scenario, Schedule.of("cooperative"), eventloop.play) != "declined"
    assert compare(scenario, Schedule.of("synchronous", hosts=1), sequential.play) != "declined"


def boards_and_scores(players: int, hosts: int, boards: int) -> Scenario:
    """The benchmark's shape: host steps inside a resource, one item each to 3 scorers."""
    return Scenario.model_validate(
        {
            "host": {"count": hosts},
            "resources": {"boards": boards},
            "queues": {"scores": {}},
            "players": [
                {
                    "name": "p",
                    "count": players,
                    "moves": 4,
                    "steps": [{"with": "boards", "steps": [{"host": 5}]}, {"wait": 55}],
                },
                {"name": "score", "count": players, "steps": [{"put": "scores"}]},
                {"name": "scorer", "count": 3, "serves": "scores", "steps": [{"wait": 1}]},
            ],
        }
    )


@pytest.mark.parametrize("hosts", [1, 2, 3])
@pytest.mark.parametrize("boards", [1, 4, 50])
def test_k_hosts_freed_together_are_handed_out_as_the_task_engine_does(hosts, boards):
    """Integer durations make hosts free at one instant: a freed host goes straight to
    the head of the asks only where the hand-out could make no other choice."""
    scenario = boards_and_scores(40, hosts, boards)
    assert compare(scenario, Schedule.of("cooperative"), eventloop.play) == "played"


def test_the_figure_by_hand():
    """One host, boards never short: the polgar makespan, 40 × 4 × 5 s of host steps
    plus the last player's 55 s wait; synchronously 40 × 4 × 60 s, then 40 scores of
    1 s taken by the first scorer."""
    scenario = boards_and_scores(40, 1, 50)
    workload = Workload.of(scenario)
    cooperative = eventloop.play(workload, Schedule.of("cooperative"))
    synchronous = sequential.play(workload, Schedule.of("synchronous"))
    assert cooperative is not None and synchronous is not None
    assert cooperative.makespan == 40 * 4 * 5 + 55
    assert synchronous.makespan == 40 * 4 * 60 + 40 * 1


@pytest.mark.parametrize("name", ["crawler", "pipeline"])
@pytest.mark.parametrize("kind", ["cooperative", "synchronous"])
def test_the_shipped_scenarios(name, kind):
    scenario = load_file(ROOT / "scenarios" / f"{name}.yaml")
    fast = eventloop.play if kind == "cooperative" else sequential.play
    assert compare(scenario, Schedule.of(kind), fast) == "played"


def test_where_the_fast_players_do_not_apply_they_say_so():
    scenario = boards_and_scores(4, 2, 2)
    workload = Workload.of(scenario)
    assert eventloop.play(workload, Schedule.of("cooperative", hosts=1)) is None  # fewer hosts
    assert sequential.play(workload, Schedule.of("synchronous")) is None  # two hosts
    costly = Workload.of(scenario.model_copy(update={"host": scenario.host.model_copy(
        update={"switch_cost": 1.0})}))  # fmt: skip
    assert eventloop.play(costly, Schedule.of("cooperative")) is None
    # a bounded queue that its producers overfill before any consumer runs
    bounded = Scenario.model_validate(
        {
            "queues": {"jobs": {"maxsize": 2}},
            "players": [
                {"name": "producer", "moves": 3, "steps": [{"host": 1}, {"put": "jobs"}]},
                {"name": "consumer", "serves": "jobs", "steps": [{"wait": 1}]},
            ],
        }
    )
    assert sequential.play(Workload.of(bounded), Schedule.of("synchronous")) is None
    rng = np.random.default_rng(0)
    with pytest.raises(Deadlock):
        runners.play(Workload.of(bounded), Schedule.of("synchronous"), rng)
    played = runners.play(Workload.of(bounded), Schedule.of("cooperative"), rng)
    assert played.makespan == 3 * 1 + 1  # the consumer keeps up: 1 s behind the last put


def test_every_whole_second_below_two_to_the_25_is_its_own_instant():
    """The loop skips rounding a time that is a whole number of seconds below 2²⁵: each
    of them must round back to itself at the clock's 12 digits (as Python's `round` and
    numpy's agree for values this large, which are whole numbers of picoseconds), and the
    bound must be where it is said to be: 36 893 489 s does not."""
    from sim.engine.clock import DIGITS
    from sim.engine.eventloop import _WHOLE

    scale = 10.0**DIGITS
    for low in range(0, int(_WHOLE), 2**22):
        whole = np.arange(low, low + 2**22, dtype=np.float64)
        assert (np.round(whole * scale) / scale == whole).all(), low
    assert round(36_893_489.0 * scale) / scale != 36_893_489.0
    assert all(round(x * scale) / scale == x for x in (0.0, 1.0, 2.0**25 - 1))
