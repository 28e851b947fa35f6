"""Games that wait on each other for ever: the `Deadlock` report, the command line, notes.

Each scenario is small enough to follow by hand: the docstrings say who
waits on what, and when the last event happened (the report's `t`).
"""

from __future__ import annotations

import pickle
import re

import pytest

import sim
from sim.engine import play
from sim.engine.deadlock import Deadlock
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.scenario.loader import from_yaml
from sim.scenario.schedules import Schedule
from tests.helpers import invoke
from tests.test_shared_format import FAN_OUT


def played(text: str, kind: str, **params) -> Trace:
    return play(Workload.of(from_yaml(text)), Schedule.of(kind, **params))


def deadlock_of(text: str, kind: str, **params) -> Deadlock:
    with pytest.raises(Deadlock) as caught:
        played(text, kind, **params)
    return caught.value


#: The shop puts one order and ends at 0. The packer takes it and, holding the lock,
#: puts three parcels into a queue of one: the courier takes the 1st, then waits for
#: the lock; the 2nd fills the queue; the 3rd can never go in. Only consumers are left,
#: the one producer of `orders` long gone, and the queue `orders` is not what they wait on.
CONSUMERS_ONLY = """
resources: {lock: 1}
queues:
  orders: {}
  parcels: {maxsize: 1}
players:
  - {name: shop, steps: [{put: orders}]}
  - name: packer
    serves: orders
    steps:
      - with: lock
        steps: [{put: parcels}, {put: parcels}, {put: parcels}]
  - name: courier
    serves: parcels
    steps:
      - with: lock
        steps: [{wait: 1}]
"""


def test_all_consumers_and_no_producer_left():
    deadlock = deadlock_of(CONSUMERS_ONLY, "cooperative")
    assert deadlock.schedule == "cooperative" and deadlock.at == 0.0
    assert sorted(deadlock.waits) == [
        "courier waits for 1 unit of lock (0 of 1 free; held by packer)",
        "packer waits to put into parcels (full: 1 of 1)",
    ]
    assert not any(wait.startswith("shop") for wait in deadlock.waits)
    assert str(deadlock).startswith("deadlock under cooperative at t = 0 s: 2 waits never end:")


#: p holds the lock across two puts into a queue of one nobody serves: the 2nd never
#: goes in (at 0). q waits 0–1 and asks for the lock at 1: the last event, t = 1 s.
HELD_ACROSS_A_PUT = """
resources: {lock: 1}
queues: {jobs: {maxsize: 1}}
players:
  - name: p
    steps:
      - with: lock
        steps: [{put: jobs}, {put: jobs}]
  - name: q
    steps:
      - wait: 1
      - with: lock
        steps: [{host: 1}]
"""


@pytest.mark.parametrize("kind", ["cooperative", "threaded"])
def test_a_resource_held_across_a_put_to_a_full_queue(kind):
    deadlock = deadlock_of(HELD_ACROSS_A_PUT, kind)
    assert deadlock.at == 1.0
    assert deadlock.waits == [
        "p waits to put into jobs (full: 1 of 1)",
        "q waits for 1 unit of lock (0 of 1 free; held by p)",
    ]


def test_without_the_second_put_nothing_deadlocks():
    """The same with one put: p gives the lock back at 0; q waits 0–1, takes the lock
    and runs 1–2. (The item stays in jobs, which nobody serves.)"""
    one_put = HELD_ACROSS_A_PUT.replace("[{put: jobs}, {put: jobs}]", "[{put: jobs}]")
    assert played(one_put, "cooperative").game_ends().tolist() == [0.0, 2.0]


def test_a_pool_whose_threads_all_wait_for_their_children_starves():
    """threads: 2, two games: both threads are taken at 0 by the games, which fork three
    children each onto the pool's queue and wait for them; no thread is ever free."""
    deadlock = deadlock_of(FAN_OUT, "threaded", threads=2)
    assert deadlock.at == 0.0
    assert deadlock.schedule == "threaded(threads=2)"
    assert len(deadlock.waits) == 8
    assert deadlock.waits.count("g-1 waits for its 3 gathered children") == 1
    assert sum("waits for a thread of the pool (all 2 busy)" in w for w in deadlock.waits) == 6


def test_a_pool_of_one_with_one_child_starves():
    one = "players:\n  - name: g\n    steps:\n      - gather: {count: 1, steps: [{host: 1}]}\n"
    deadlock = deadlock_of(one, "threaded", threads=1)
    assert sorted(deadlock.waits) == [
        "g waits for its 1 gathered children",
        "g/1 waits for a thread of the pool (all 1 busy)",
    ]


def test_a_pool_with_threads_to_spare_runs_the_children():
    """`ThreadPoolExecutor(max_workers=4)` makes a new thread for submitted work while
    fewer than 4 exist and none is idle. Two games take threads 1, 2 at 0; g1's children
    take the 3rd and 4th (waits 0–2), its 3rd child and g2's three queue behind. At 2
    the free threads take g1/3 and g2/1 (2–4); at 4, g2/2 and g2/3 (4–6). g1's gather
    ends at 4, its host step 4–5; g2's at 6, host 6–7. Makespan 7, no deadlock.

    The engine sizes the pool at min(threads, games) = 2 (`Schedule.workers`), so the
    children find no thread and it reports a deadlock instead."""
    trace = played(FAN_OUT, "threaded", threads=4, switch_interval=10.0)
    assert trace.game_ends().tolist() == [5.0, 7.0]


def test_a_producer_filling_a_bounded_queue_deadlocks_one_game_at_a_time():
    """Synchronous on one host: p plays first (consumers after producers): host 0–1,
    put (jobs 1 of 1), host 1–2, put at 2 into a full queue; c never gets the host.
    One process (parallel's default on one CPU) is the same."""
    text = (
        "queues: {jobs: {maxsize: 1}}\nplayers:\n"
        "  - {name: p, moves: 3, steps: [{host: 1}, {put: jobs}]}\n"
        "  - {name: c, serves: jobs, steps: [{wait: 3}]}\n"
    )
    for kind, needs in [("synchronous", "a host"), ("parallel", "a worker process")]:
        deadlock = deadlock_of(text, kind)
        assert deadlock.at == 2.0
        assert deadlock.waits == ["p waits to put into jobs (full: 1 of 1)", f"c waits for {needs}"]


def test_a_deadlock_travels_between_processes():
    """Replications played by worker processes send it back pickled."""
    deadlock = deadlock_of(HELD_ACROSS_A_PUT, "cooperative")
    again = pickle.loads(pickle.dumps(deadlock))
    assert (again.schedule, again.at, again.waits, str(again)) == (
        deadlock.schedule,
        deadlock.at,
        deadlock.waits,
        str(deadlock),
    )


def test_consumers_of_a_queue_whose_producers_ended_are_no_deadlock():
    """Two consumers wait on an empty queue; the one producer puts two items at 1 and 2
    and ends at 2: the queue closes then and each consumer's last get ends it (c-1 takes
    the 1st item, 1–4; c-2 the 2nd, 2–5)."""
    text = (
        "queues: {jobs: {}}\nplayers:\n"
        "  - {name: p, moves: 2, steps: [{wait: 1}, {put: jobs}]}\n"
        "  - {name: c, count: 2, serves: jobs, steps: [{wait: 3}]}\n"
    )
    assert played(text, "cooperative").game_ends().tolist() == [2.0, 4.0, 5.0]


# --- the command line and the default schedules ------------------------------------------


def test_the_command_line_exits_1_with_who_waits_on_what(tmp_path):
    file = tmp_path / "held.yaml"
    file.write_text(HELD_ACROSS_A_PUT)
    result = invoke("run", file, "--schedule", "cooperative", "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "deadlock under cooperative at t = 1 s: 2 waits never end:"
    assert sorted(line.strip() for line in lines[1:]) == [
        "p waits to put into jobs (full: 1 of 1)",
        "q waits for 1 unit of lock (0 of 1 free; held by p)",
    ]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_run_whose_every_schedule_deadlocks_exits_1(tmp_path):
    file = tmp_path / "held.yaml"
    file.write_text(HELD_ACROSS_A_PUT + "schedules: [cooperative, threaded]\n")
    result = invoke("run", file, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert re.search(r"deadlock under \w+ at t = \d+ s", result.stderr), result.stderr


#: Deadlocks one game at a time (see above) but plays with a task or thread per game.
ONE_AT_A_TIME_DEADLOCKS = (
    "queues: {jobs: {maxsize: 1}}\nplayers:\n"
    "  - {name: p, moves: 3, steps: [{host: 1}, {put: jobs}]}\n"
    "  - {name: c, serves: jobs, steps: [{wait: 3}]}\n"
)


def test_default_schedules_that_deadlock_are_left_out_with_a_note():
    result = sim.run(from_yaml(ONE_AT_A_TIME_DEADLOCKS))
    assert [trace.schedule.label for trace in result.traces] == ["cooperative", "threaded"]
    assert [trace.makespan for trace in result.traces] == [10.0, 10.0]
    left_out = [note for note in result.notes if "left out" in note]
    assert len(left_out) == 2
    for label, note in zip(["synchronous", "parallel"], left_out, strict=True):
        assert note.startswith(f"{label} left out"), note
        assert re.search(r"deadlocks? at t = 2 s", note), note
        assert "p waits to put into jobs (full: 1 of 1)" in note, note


def test_a_schedule_named_in_code_that_deadlocks_is_an_error():
    with pytest.raises(Deadlock):
        sim.run(from_yaml(ONE_AT_A_TIME_DEADLOCKS), schedules=["synchronous", "cooperative"])


def test_the_command_line_plays_the_rest_and_says_what_it_left_out(tmp_path):
    file = tmp_path / "pipe.yaml"
    file.write_text(ONE_AT_A_TIME_DEADLOCKS)
    result = invoke("run", file, "--out", tmp_path / "out", "--no-plots")
    assert result.exit_code == 0, result.output
    assert "synchronous left out" in result.stdout and "parallel left out" in result.stdout
    assert (tmp_path / "out" / "summary.csv").is_file()
