"""`cooperative: {order: asyncio}`: the games on asyncio's own loop, its clock virtual.

Expected figures follow asyncio's loop (`BaseEventLoop._run_once`) by hand: an
iteration first moves the timers due by now into the ready queue, then runs
the callbacks queued before it began; a timer's callback sets the sleep's
future, whose callback queues the task for the next iteration; a semaphore's
`release()` sets the first waiter's future, which queues that task; an idle
loop waits for its next timer rounded up to the millisecond.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.engine import play
from sim.engine.deadlock import Deadlock
from sim.engine.workload import Workload
from sim.scenario.loader import from_yaml
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

ASYNCIO = Schedule.of("cooperative", order="asyncio")


def trace_of(text: str, schedule: Schedule = ASYNCIO):
    return play(Workload.of(from_yaml(text), np.random.default_rng(0)), schedule)


CRAWL = """
name: crawl
resources: {connections: 1}
players:
  - name: page
    count: 2
    steps:
      - with: connections
        steps: [{wait: 4s}]
      - host: 2s
"""


def test_a_task_granted_a_unit_runs_only_after_the_releasing_task_s_cpu_work():
    """Page 1 takes the connection and sleeps 0–4 s; page 2 waits for it. At 4 s page
    1's timer moves to the ready queue, its callback queues page 1, which releases (page
    2's future is set: page 2 is queued) and parses 4–6 s holding the loop; page 2 runs
    only then and sleeps 6–10 s, then parses 10–12 s. The tie rule gives page 2 the
    connection at 4 s (makespan 10 s): its sleep overlaps page 1's parsing."""
    trace = trace_of(CRAWL)
    assert trace.makespan == 12.0
    assert trace_of(CRAWL, Schedule.of("cooperative")).makespan == 10.0
    waits = trace.workload.kind == STEP_KINDS.index("wait")
    assert sorted(trace.start[waits].tolist()) == [0.0, 6.0]


PRODUCE = """
queues: {jobs: {}}
players:
  - {name: producer, moves: 4, steps: [{host: 10s}, {put: jobs}]}
  - {name: consumer, serves: jobs, steps: [{wait: 10s}]}
"""


def test_a_put_with_room_lets_nobody_in_so_the_producer_keeps_the_loop():
    """`await jobs.put(job)` into an unbounded queue returns at once: the producer makes
    its 4 jobs back to back, 0–40 s, and the consumer, woken by the first at 10 s, runs
    only at 40 s, then sleeps 10 s a job: it ends at 80 s. The tie rule hands the loop
    round at each host step: the consumer takes job 1 at 10 s and its sleeps overlap
    the producer's work (10–50 s)."""
    assert trace_of(PRODUCE).makespan == 80.0
    assert trace_of(PRODUCE, Schedule.of("cooperative")).makespan == 50.0


def test_the_rows_show_the_busy_loop_between_ready_and_start():
    """Page 2's `with` row is ready at 0 and starts at 6 s, when it is back on the loop;
    page 1's parse is ready at 4 s (its timer) and starts then; page 2's at 10 s."""
    trace = trace_of(CRAWL)
    w = trace.workload
    rows = {
        (int(g), int(s)): (trace.ready[i], trace.start[i], trace.end[i])
        for i, (g, s) in enumerate(zip(w.game, w.step, strict=True))
    }
    assert rows[(0, 0)] == (0.0, 0.0, 4.0)  # with: granted at once, given back at 4 s
    assert rows[(0, 1)] == (0.0, 0.0, 4.0)  # wait
    assert rows[(0, 2)] == (4.0, 4.0, 6.0)  # host
    assert rows[(1, 0)] == (0.0, 6.0, 10.0)
    assert rows[(1, 1)] == (6.0, 6.0, 10.0)
    assert rows[(1, 2)] == (10.0, 10.0, 12.0)


def test_an_idle_loop_wakes_on_the_next_whole_millisecond():
    """A 1.5 ms sleep on an idle loop: epoll's timeout is rounded up to 2 ms, so the
    1 ms of work after it runs from 2 ms to 3 ms; its row was ready at 1.5 ms."""
    trace = trace_of("name: ms\nunit: ms\nplayers: [{name: p, steps: [{wait: 1.5}, {host: 1}]}]\n")
    assert trace.ready.tolist() == [0.0, 0.0015]
    assert trace.start.tolist() == [0.0, 0.002]
    assert trace.end.tolist() == pytest.approx([0.0015, 0.003], abs=1e-15)


def test_polgar_is_the_article_s_exact_figure():
    """24 games of 30 rounds, 5 s on Judit's board then 55 s away: Judit is never idle
    (24 × 5 s > 55 s), so asyncio's order gives 24 × 30 × 5 s + 55 s = 3 655 s."""
    result = sim.run("polgar", schedules=[ASYNCIO])
    assert result.summary["makespan_s"].iloc[0] == 3655.0


def test_a_gather_row_ends_with_its_last_child_and_the_parent_goes_on_later():
    """Two games, each gathering two children of 1 s on the loop, then 1 s of their own.
    Iteration 2 runs both games (each starts two child tasks); iteration 3 the four
    children, 0–4 s; the gathers' callbacks then take two iterations more, so game 1
    runs 4–5 s and game 2 5–6 s. Game 1's gather ended at 2 s (its children's last)."""
    trace = trace_of(
        "name: g\nplayers: [{name: p, count: 2, steps: ["
        "{gather: {count: 2, steps: [{host: 1s}]}}, {host: 1s}]}]\n"
    )
    w = trace.workload
    gather = w.kind == STEP_KINDS.index("gather")
    assert trace.end[gather].tolist() == [2.0, 4.0]
    last = [int(i) for i in w.first_step[1:] - 1]
    assert trace.ready[last].tolist() == [2.0, 4.0]
    assert trace.start[last].tolist() == [4.0, 5.0]
    assert trace.makespan == 6.0


def test_games_that_wait_on_each_other_for_ever_are_a_deadlock():
    """The holder keeps `db` across three puts into a queue of one: the consumer takes
    the first item, then waits for `db`; the holder's third put finds the queue full.
    The loop is left with nothing to do, and says who waits on what."""
    text = """
name: stuck
resources: {db: 1}
queues: {jobs: {maxsize: 1}}
players:
  - name: holder
    steps:
      - with: db
        steps: [{put: jobs}, {put: jobs}, {put: jobs}]
  - name: consumer
    serves: jobs
    steps:
      - with: db
        steps: [{host: 1s}]
"""
    with pytest.raises(Deadlock) as stuck:
        trace_of(text)
    said = str(stuck.value)
    assert said.startswith("deadlock under cooperative(order=asyncio) at t = 0 s")
    assert "holder waits to put into jobs" in said
    assert "consumer waits for 1 unit of db" in said


def test_order_asyncio_is_one_loop(tmp_path):
    """A schedule of several loops in asyncio's order is refused with the file, the line
    and the field, exit 2."""
    path = tmp_path / "two.yaml"
    path.write_text(
        "name: two\nhost: {count: 2}\nplayers: [{name: p, steps: [{host: 1s}]}]\n"
        "schedules:\n  - cooperative: {order: asyncio, hosts: 2}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5" in result.output and "schedules[0].cooperative" in result.output
    assert "expected hosts 1" in result.output
    path.write_text(
        "name: two\nplayers: [{name: p, steps: [{host: 1s}]}]\n"
        "schedules:\n  - cooperative: {order: fifo}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "'tie-rule' or 'asyncio'" in result.output


def test_it_plays_from_inside_a_running_event_loop():
    """From a notebook's loop: the games get a loop of their own, in a thread of its own."""

    async def inside() -> float:
        return trace_of(CRAWL).makespan

    assert asyncio.run(inside()) == 12.0


POOL = CRAWL.replace("resources: {connections: 1}", "executors: {connections: 1}")


def test_an_executor_s_worker_takes_the_next_job_the_moment_it_ends_one():
    """The same pages through an executor of one worker (`run_in_executor`): job 1 runs
    0–4 s; job 2, queued at 0, starts at 4 s on the worker that ended job 1, with no turn
    of the loop, and ends at 8 s. Page 1 hears of its job through the loop and parses 4–6
    s; page 2 parses 8–10 s: 10 s, as the tie rule gives, where a semaphore gives 12 s."""
    trace = trace_of(POOL)
    assert trace.makespan == 10.0
    assert trace_of(POOL, Schedule.of("cooperative")).makespan == 10.0
    w = trace.workload
    rows = {
        (int(g), int(s)): (trace.ready[i], trace.start[i], trace.end[i])
        for i, (g, s) in enumerate(zip(w.game, w.step, strict=True))
    }
    assert rows[(1, 0)] == (0.0, 4.0, 8.0)  # with: submitted at 0, taken at 4 s
    assert rows[(1, 1)] == (4.0, 4.0, 8.0)  # its wait, on the worker
    assert rows[(0, 2)] == (4.0, 4.0, 6.0)
    assert rows[(1, 2)] == (8.0, 8.0, 10.0)


PYTHON_IN_A_JOB = """
name: jobs
unit: ms
executors: {pool: 1}
players:
  - name: page
    count: 2
    steps:
      - with: pool
        steps: [{host: 2}, {wait: 10}]
"""


def test_python_in_a_job_runs_on_the_loop_when_the_loop_gets_to_it():
    """Each job is 2 ms of Python (it needs the GIL: the loop's host) then 10 ms off it.
    Job 1 is taken at 0: its Python runs on the loop 0–2 ms, then it waits 2–12 ms; job 2
    is taken at 12 ms (the worker is free then), its Python runs 12–14 ms, its wait
    14–24 ms: the second page ends at 24 ms, not on a whole millisecond by rounding."""
    trace = trace_of(PYTHON_IN_A_JOB)
    assert trace.makespan == pytest.approx(0.024, abs=1e-12)
    hosts = trace.workload.kind == STEP_KINDS.index("host")
    assert trace.start[hosts].tolist() == pytest.approx([0.0, 0.012], abs=1e-12)
    assert (trace.host[hosts] == 0).all()
    # the other way round, the Python is handed over when the worker's wait ends:
    # 0–10 ms waiting, 10–12 ms on the loop; the second job 12–22 and 22–24 ms
    trace = trace_of(PYTHON_IN_A_JOB.replace("{host: 2}, {wait: 10}", "{wait: 10}, {host: 2}"))
    hosts = trace.workload.kind == STEP_KINDS.index("host")
    assert trace.start[hosts].tolist() == pytest.approx([0.010, 0.022], abs=1e-12)
    assert trace.makespan == pytest.approx(0.024, abs=1e-12)


def test_a_job_holds_only_host_and_wait_steps(tmp_path):
    """C code or a blocking call in a worker thread holds neither the GIL nor the loop: the
    file says so at the step, with its line."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(PYTHON_IN_A_JOB.replace("{host: 2}", "{block: 2}"))
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "bad.yaml:10: players[0].steps[0].steps[0]:" in result.output
    assert "a job on executor 'pool' holds host and wait steps only, not 'block'" in result.output


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("resources: {pool: 2}\nexecutors: {pool: 1}", "names both a resource and an executor"),
        ("executors: {pool: 1}\nqueues: {pool: {}}", "names both an executor and a queue"),
        ("executors: {other: 1}", "declare it under `resources:` or `executors:`"),
        ("executors: {pool: 2}\nunits: 2", "a job takes one worker of executor 'pool', not 2"),
        ("executors: {pool: 1}\nresources: {x: 1}", None),
    ],
)
def test_executors_are_declared_like_resources(declared, message):
    text = PYTHON_IN_A_JOB.replace("executors: {pool: 1}", declared.split("\nunits")[0])
    if "units" in declared:
        text = text.replace("- with: pool", "- with: {resource: pool, units: 2}")
    if message is None:
        assert from_yaml(text).limits == {"x": 1, "pool": 1}
        return
    with pytest.raises(sim.ScenarioError, match=message.replace("(", r"\(")):
        from_yaml(text)
