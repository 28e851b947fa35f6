"""Waits on other tasks written as blocks: exact arithmetic on made-up recordings.

Each recording here is what the loop and the wrapped primitives would have noted
for a small program; times are in seconds from the first task's birth.
"""

from __future__ import annotations

import math

import pytest

import sim
from sim.record.primitives import (
    ACQUIRE,
    GATHER,
    GET,
    GET_ASK,
    GRANTED,
    PUT,
    PUT_ASK,
    RELEASE,
    SUBMIT,
    Objects,
)
from sim.record.program import RawObject, RawRecording, RawTask
from sim.record.render import render
from sim.record.transcript import transcribe


def task(function: str, serial: int, steps: list[tuple], events: list[tuple] = ()) -> RawTask:
    """Steps as (ready, start, end) or (ready, start, end, joined); cpu = wall, no switches."""
    full = tuple(
        (s[0], s[1], s[2], s[2] - s[1], bool(s[3]) if len(s) > 3 else False, 0) for s in steps
    )
    return RawTask("t", function, "/app/prog.py", 1, full[0][0], full, {}, tuple(events), serial)


def recording(*tasks: RawTask, objects=None, gathers=(), jobs=()) -> RawRecording:
    return RawRecording(
        "prog.py", 1.0, 1.0, 0.05, tasks, 1, objects or {}, tuple(gathers), tuple(jobs)
    )


def kinds(positions) -> list:
    """Kinds, with blocks' insides: ["host", ("with", "db", ["wait"]), …]."""
    out = []
    for p in positions:
        if p.kind == "with":
            out.append(("with", p.target, kinds(p.steps)))
        elif p.kind == "gather":
            out.append(("gather", p.count, kinds(p.steps)))
        elif p.kind == "put":
            out.append(("put", p.target))
        else:
            out.append(p.kind)
    return out


def approx(values):
    return pytest.approx(values, abs=1e-9)


def crawler() -> RawRecording:
    """main gathers two fetches that share one connection (a semaphore of 1).

    A gets it at once: host 0.2 ms, asks, gets, 0.7 ms more, sleeps 40 ms; wakes, releases
    at 0.1 ms into the step and parses 2.9 ms. B asks at once too but waits (joined), is
    granted when its step runs, 0.2 ms, sleeps 40 ms, then releases and parses likewise."""
    main = task(
        "main",
        0,
        [(0, 0, 0.001), (0.0883, 0.0883, 0.0884, True)],
        [(0, 0.0005, GATHER, 0)],
    )
    a = task(
        "fetch",
        1,
        [(0.001, 0.001, 0.002), (0.042, 0.042, 0.045)],
        [(0, 0.0012, ACQUIRE, 0), (0, 0.0013, GRANTED, 0), (1, 0.0421, RELEASE, 0)],
    )
    b = task(
        "fetch",
        2,
        [(0.001, 0.002, 0.0025), (0.0421, 0.045, 0.0452, True), (0.0852, 0.0852, 0.0882)],
        [(0, 0.0022, ACQUIRE, 0), (1, 0.045, GRANTED, 0), (2, 0.0853, RELEASE, 0)],
    )
    objects = {0: RawObject("semaphore", "connections", 1)}
    return recording(main, a, b, objects=objects, gathers=[(("task", 1), ("task", 2))])


def test_a_semaphore_held_is_a_with_block_and_a_gather_of_one_shape_a_gather_block():
    """Both fetches have one shape whether they waited for the connection or not: the time
    spent waiting is the schedule's. The release ends the block with its step, so the
    parsing after it is inside: a waiter could not run before the step was over."""
    transcript = transcribe(recording_of := crawler(), structured=True)
    (main,) = transcript.groups
    assert (main.name, main.count) == ("main", 1)
    assert kinds(main.positions) == [
        "host",
        ("gather", 2, ["host", ("with", "connections", ["host", "wait", "host"])]),
        "host",
    ]
    gather = main.positions[1]
    assert gather.steps[0].values == approx((0.0002, 0.0002))
    inside = gather.steps[1].steps
    assert inside[0].values == approx((0.0007, 0.0002))
    assert inside[1].values == approx((0.040, 0.040))
    assert inside[2].values == approx((0.003, 0.003))
    assert transcript.resources == {"connections": 1} and transcript.queues == {}
    assert any("`with` blocks" in note for note in transcript.notes)
    assert recording_of.tasks[0].function == "main"


def test_the_scenario_plays_the_holds_one_after_the_other():
    """One connection: B's 40 ms begin when A's block ends. Main 1 ms; A's and B's first
    host steps 0.2 ms each; A's block from 1.4 ms (0.7 + 40 + 3); B's from there
    (0.2 + 40 + 3); main's last 0.1 ms: 88.4 ms."""
    text = render(transcribe(crawler(), structured=True), "crawler", deterministic=True)
    scenario = sim.from_yaml(text)
    assert scenario.resources == {"connections": 1}
    makespan = float(sim.run(scenario, ["cooperative"]).summary.makespan_s.iloc[0])
    assert makespan == pytest.approx(0.0884, abs=1e-9)


def test_without_the_format_s_blocks_events_are_ignored_and_tasks_are_flat():
    transcript = transcribe(crawler(), structured=False)
    assert [(g.name, g.count) for g in transcript.groups] == [
        ("main", 1),
        ("fetch", 1),
        ("fetch#2", 1),
    ]
    assert transcript.resources == {} and all(
        p.kind in ("host", "wait") for g in transcript.groups for p in g.positions
    )


def test_a_lock_given_back_by_another_task_is_no_with_block():
    """X takes the lock and sleeps; Y gives it back: no `with`, X stays host, wait, host."""
    x = task(
        "x",
        0,
        [(0, 0, 0.001), (0.011, 0.011, 0.012)],
        [(0, 0.0005, ACQUIRE, 0), (0, 0.0006, GRANTED, 0)],
    )
    y = task("y", 1, [(0, 0.001, 0.002)], [(0, 0.0015, RELEASE, 0)])
    objects = {0: RawObject("lock", "lock", 1)}
    transcript = transcribe(recording(x, y, objects=objects), structured=True)
    assert [kinds(g.positions) for g in transcript.groups] == [["host", "wait", "host"], ["host"]]
    assert transcript.resources == {}


def pipeline() -> RawRecording:
    """A producer makes 3 items of 3 ms in one step (the queue never fills); a consumer
    takes one at once, sleeps 30 ms, finishes 1 ms, takes the next at once …, and is
    cancelled waiting for a third."""
    producer = task(
        "producer",
        0,
        [(0, 0, 0.009)],
        [
            (0, 0.003, PUT_ASK, 0),
            (0, 0.003, PUT, 0),
            (0, 0.006, PUT_ASK, 0),
            (0, 0.006, PUT, 0),
            (0, 0.009, PUT_ASK, 0),
            (0, 0.009, PUT, 0),
        ],
    )
    consumer = task(
        "consumer",
        1,
        [
            (0.009, 0.009, 0.0091),
            (0.0391, 0.0391, 0.0401),
            (0.0701, 0.0701, 0.0711),
            (0.0711, 0.2, 0.2001, True),
        ],
        [
            (0, 0.00905, GET_ASK, 0),
            (0, 0.00905, GET, 0),
            (1, 0.0400, GET_ASK, 0),
            (1, 0.0400, GET, 0),
            (2, 0.0711, GET_ASK, 0),
        ],
    )
    objects = {0: RawObject("queue", "jobs", 2)}
    return recording(producer, consumer, objects=objects)


def test_a_producer_is_a_group_of_moves_and_a_consumer_serves_the_queue():
    """The producer: 3 rounds of host 3 ms then put. The consumer's rounds begin with the
    item it took; having taken it without waiting it went on in the same step, so a round
    is its sleep, then its finishing together with the start of the next round."""
    transcript = transcribe(pipeline(), structured=True)
    producer, consumer = transcript.groups
    assert (producer.name, producer.moves, producer.serves) == ("producer", 3, "")
    assert kinds(producer.positions) == ["host", ("put", "jobs")]
    assert producer.positions[0].values == approx((0.003, 0.003, 0.003))
    assert (consumer.name, consumer.count, consumer.serves) == ("consumer", 1, "jobs")
    assert kinds(consumer.positions) == ["wait", "host"]
    assert consumer.positions[0].values == approx((0.030, 0.030))
    assert consumer.positions[1].values == approx((0.001, 0.001))
    assert transcript.queues == {"jobs": 2}


def test_the_pipeline_file_validates_and_plays_cooperatively_only():
    """A bounded queue: played one game after another the producer would wait for ever,
    so only cooperative is listed. Items at 3, 6, 9 ms; the consumer takes them at 3,
    34 and 65 ms: it ends at 65 + 31 = 96 ms."""
    text = render(transcribe(pipeline(), structured=True), "pipeline", deterministic=True)
    assert (
        "schedules: [{cooperative: {order: asyncio}}, cooperative]" in text
        and "serves: jobs" in text
    )
    scenario = sim.from_yaml(text)
    assert scenario.queues["jobs"].maxsize == 2
    makespan = float(sim.run(scenario, ["cooperative"]).summary.makespan_s.iloc[0])
    assert makespan == pytest.approx(0.096, abs=1e-6)


def test_a_gather_of_children_of_two_shapes_leaves_them_games_of_their_own():
    main = task("main", 0, [(0, 0, 0.001), (0.05, 0.05, 0.051, True)], [(0, 0.0005, GATHER, 0)])
    a = task("a", 1, [(0.001, 0.001, 0.002), (0.012, 0.012, 0.013)])
    b = task("b", 2, [(0.001, 0.002, 0.003)])
    transcript = transcribe(recording(main, a, b, gathers=[(("task", 1), ("task", 2))]), True)
    assert [g.name for g in transcript.groups] == ["main", "a", "b"]
    assert kinds(transcript.groups[0].positions) == ["host", "host"]
    assert any("several shapes" in note for note in transcript.notes)


def test_a_gather_of_one_child_is_the_child_s_steps_in_place():
    """main 1 ms, the child 1 ms, 10 ms asleep, 1 ms, main 1 ms: the child's first and last
    steps join main's, host 2 ms, wait 10 ms, host 2 ms."""
    main = task("main", 0, [(0, 0, 0.001), (0.013, 0.013, 0.014, True)], [(0, 0.0005, GATHER, 0)])
    child = task("child", 1, [(0.001, 0.001, 0.002), (0.012, 0.012, 0.013)])
    transcript = transcribe(recording(main, child, gathers=[(("task", 1),)]), structured=True)
    (group,) = transcript.groups
    assert kinds(group.positions) == ["host", "wait", "host"]
    assert [p.values for p in group.positions] == [
        approx((0.002,)),
        approx((0.01,)),
        approx((0.002,)),
    ]


def executor_task(jobs: list[tuple], capacity: int = 4) -> RawRecording:
    """A task submits a job at 1 ms and sleeps until it is done (woken by the thread)."""
    t = task(
        "load",
        0,
        [(0, 0, 0.001), (0.052, 0.052, 0.054)],
        [(0, 0.001, SUBMIT, 0)],
    )
    objects = {0: RawObject("executor", "pool", capacity)}
    return recording(t, objects=objects, jobs=jobs)


def test_an_executor_job_is_a_with_block_on_the_pool_waiting_when_it_blocked():
    """The job ran 50 ms in its thread with 0.1 ms of CPU: a blocking call, a wait that
    holds one of the pool's workers and not the loop."""
    transcript = transcribe(executor_task([(0, 0.001, 0.0015, 0.0515, 0.0001)]), True)
    (group,) = transcript.groups
    assert kinds(group.positions) == ["host", ("with", "pool", ["wait"]), "host"]
    assert group.positions[1].steps[0].values == approx((0.05,))
    assert (transcript.resources, transcript.executors) == ({}, {"pool": 4})


def test_an_executor_is_written_under_executors_and_its_job_played_on_a_worker():
    """The pool is declared under `executors:` with its max_workers, and the file plays:
    1 ms on the loop, the 50 ms job on a worker, 2 ms on the loop: 53 ms in either order."""
    text = render(
        transcribe(executor_task([(0, 0.001, 0.0015, 0.0515, 0.0001)]), True),
        "pool",
        deterministic=True,
    )
    assert "executors:" in text and "  pool: 4\n" in text and "resources:" not in text
    scenario = sim.from_yaml(text)
    assert scenario.executors == {"pool": 4}
    makespans = sim.run(scenario, scenario.schedules[:2]).summary.makespan_s
    assert list(makespans) == [pytest.approx(0.053, abs=1e-9)] * 2


def test_the_scenario_plays_asyncio_s_order_first_and_the_tie_rule_beside_it():
    """The recorded program's loop in asyncio's order (its own schedule, first, as every
    recording has its own) and by the tie rule; then one game after another, where no
    bounded queue forbids it."""
    plain = render(transcribe(crawler(), structured=True), "crawler", deterministic=True)
    assert "schedules: [{cooperative: {order: asyncio}}, cooperative, synchronous]\n" in plain


def test_an_executor_job_mostly_on_the_cpu_is_host_work():
    """50 ms with 45 ms of CPU: Python in the thread, needing the GIL: a host step of its CPU."""
    transcript = transcribe(executor_task([(0, 0.001, 0.0015, 0.0515, 0.045)]), True)
    (group,) = transcript.groups
    assert kinds(group.positions) == ["host", ("with", "pool", ["host"]), "host"]
    assert group.positions[1].steps[0].values == approx((0.045,))


def test_a_process_pool_s_jobs_begin_when_a_worker_is_free():
    """Jobs of an executor that cannot be watched (start NaN): one worker, both submitted at
    0, ended at 50 and 100 ms, so the second began at 50 ms: 50 ms each, not 50 and 100."""
    main = task(
        "main",
        0,
        [(0, 0, 0.001), (0.1, 0.1, 0.101, True)],
        [(0, 0.0005, SUBMIT, 0), (0, 0.0006, SUBMIT, 1), (0, 0.0007, GATHER, 0)],
    )
    jobs = [(0, 0.0, math.nan, 0.05, 0.0), (0, 0.0, math.nan, 0.1, 0.0)]
    objects = {0: RawObject("executor", "processes", 1)}
    raw = recording(main, objects=objects, gathers=[(("job", 0), ("job", 1))], jobs=jobs)
    (group,) = transcribe(raw, structured=True).groups
    assert kinds(group.positions) == [
        "host",
        ("gather", 2, [("with", "processes", ["wait"])]),
        "host",
    ]
    assert group.positions[1].steps[0].steps[0].values == approx((0.05, 0.05))


def test_objects_are_named_after_the_program_s_variables_else_numbered():
    """A local bound in the creating frame, an attribute of one, or `kind-n`; names are
    made safe for the format and unique."""

    class Holder:
        pass

    objects = Objects()
    connections = object()
    held = Holder()
    held.jobs = object()
    objects.made(connections, "semaphore", 10)
    objects.made(held.jobs, "queue", 0)
    objects.made(object(), "lock", 1)
    objects.made(object(), "lock", 1)
    assert [objects.used(tracked) for tracked in objects.tracked] == [0, 1, 2, 3]
    assert [t.name for t in objects.tracked] == ["connections", "jobs", "lock-1", "lock-2"]
    assert objects._unique("9 lives!") == "v9_lives" and objects._unique("jobs") == "jobs-2"
