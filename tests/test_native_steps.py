"""Native steps: CPU work in C code that releases the GIL (numpy, hashlib, zlib).

Synchronous, cooperative and parallel play a native step as a host step: it
holds the game's host, the loop, or the worker and a CPU. Threads under the
GIL drop it for the step, as for a wait, and run the step on the CPUs,
shared with the other native steps; while a thread holds the GIL, its Python
has a CPU of its own and the native steps share the others (one CPU: they
pause). Without the GIL a native step is a host step. The figures are worked
by hand in the docstrings; the properties hold on random scenarios.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine import play, runners
from sim.engine.workload import CPU, HOST, NATIVE, Workload
from sim.output import chrome_trace, plots
from sim.results import closed_forms
from sim.results.tables import GAME_COLUMNS
from sim.scenario.errors import ScenarioError
from sim.scenario.model import STEP_KINDS, TIMED_KINDS, Scenario
from sim.scenario.schedules import Schedule
from sim.scenario.schema import scenario_schema
from sim.verify.virtual import replay
from sim.verify.work import crunch, do_step
from tests.conftest import integer_durations, scenarios, with_steps_renamed

ALL_KINDS = ("host", "wait", "block", "native")
SEEDS = st.integers(0, 2**32 - 1)


def trace_of(scenario: Scenario, schedule: Schedule | str, seed: int = 0):
    chosen = Schedule.of(schedule) if isinstance(schedule, str) else schedule
    return play(Workload.of(scenario), chosen, np.random.default_rng(seed))


def games(*rounds: list[dict], hosts: int = 1, **fields) -> Scenario:
    """One game per argument, each one round of the given steps."""
    players = [{"name": f"g{i}", "steps": steps} for i, steps in enumerate(rounds)]
    return Scenario(host={"count": hosts}, players=players, **fields)


def four_tasks(kind: str, shared: bool = False) -> Scenario:
    """4 tasks of one 1 s step on 2 CPUs; `shared`: the step inside a `with` on a pool of
    4 slots, which nobody waits for, so the task engine plays it."""
    step = {kind: 1}
    steps = [{"with": "slots", "steps": [step]}] if shared else [step]
    return Scenario(
        host={"count": 2},
        players=[{"name": "task", "count": 4, "steps": steps}],
        resources={"slots": 4} if shared else {},
    )


# --- the figures, by hand -----------------------------------------------------------------

ONE_LOOP = Schedule.of("cooperative", hosts=1)
ONE_PROGRAM = Schedule.of("synchronous", hosts=1)
FREE = Schedule.of("threaded", gil=False)
TWO_PROCESSES = Schedule.of("parallel", processes=2)


@pytest.mark.parametrize("shared", [False, True], ids=["plain", "in a with"])
@pytest.mark.parametrize(
    ("schedule", "native", "host"),
    [
        (ONE_PROGRAM, 4.0, 4.0),
        (ONE_LOOP, 4.0, 4.0),
        (Schedule.of("cooperative"), 2.0, 2.0),
        (Schedule.of("threaded"), 2.0, 4.0),
        (FREE, 2.0, 2.0),
        (TWO_PROCESSES, 2.0, 2.0),
    ],
    ids=lambda value: value.label if isinstance(value, Schedule) else None,
)
def test_four_native_seconds_on_two_cpus(schedule, native, host, shared):
    """4 tasks of 1 s of CPU on 2 CPUs. One program or one loop does them one after
    another: 4 × 1 s = 4 s, native or host (C code in a coroutine holds the loop);
    cooperative on both hosts, 2 s. Threads under the GIL run one task's Python at a
    time, 4 s, but C code without the GIL on both CPUs: 4 jobs at 2/4 of a CPU each
    end together at 1 / (1/2) = 2 s, each 1 s of it waiting for a CPU. Free threads
    and 2 processes: 2 s either way. The same inside a `with` nobody waits for,
    played by the task engine (the fast players under cooperative and synchronous)."""
    for kind, expected in (("native", native), ("host", host)):
        trace = trace_of(four_tasks(kind, shared), schedule)
        assert trace.makespan == pytest.approx(expected, abs=1e-9), kind
    if schedule.kind == "threaded" and schedule.threaded.gil:
        trace = trace_of(four_tasks("native", shared), schedule)
        timed = trace.workload.kind == NATIVE
        assert trace.stalled[timed].tolist() == pytest.approx([1.0] * 4)
        assert trace.switches == 0  # nobody ever took the GIL


def test_the_threads_cpu_share_is_in_the_tables():
    """Threaded, 4 × 1 s native on 2 CPUs: each task ran 1 s and waited 1 s for a CPU;
    the CPUs were busy 4 s of 2 × 2 s: utilization 1. The article's estimate: no Python
    for the GIL, 4 s of CPU work on 2 CPUs, 2 s; with host steps, the GIL's 4 s."""
    scenario = four_tasks("native").model_copy(update={"schedules": (Schedule.of("threaded"),)})
    result = sim.run(scenario)
    games = result.games[result.games["schedule"] == "threaded"]
    assert games["native_s"].tolist() == pytest.approx([1.0] * 4)
    assert games["wait_for_host_s"].tolist() == pytest.approx([1.0] * 4)
    row = result.summary.set_index("schedule").loc["threaded"]
    assert row["host_work_s"] == 4.0 and row["host_utilization"] == pytest.approx(1.0)
    assert closed_forms.article_estimate(scenario, "threaded") == 2.0
    assert closed_forms.article_estimate(four_tasks("host"), "threaded") == 4.0


def test_the_gil_holders_cpu_counts_against_native_steps():
    """a: [host 1, native 2], b: [wait 1, host 1]. a runs Python 0–1, then C code; b runs
    Python 1–2, holding the GIL. On 2 CPUs a's C code has the other CPU to itself: a ends
    at 1 + 2 = 3 s, b at 2 s. On 1 CPU b's Python takes the only CPU 1–2, a's C code
    pauses: a ends at 4 s, the 4 s of CPU work of both back to back, 1 s of it waiting."""
    rounds = ([{"host": 1}, {"native": 2}], [{"wait": 1}, {"host": 1}])
    two = trace_of(games(*rounds, hosts=2), "threaded")
    assert two.game_ends().tolist() == pytest.approx([3.0, 2.0])
    assert two.stalled.tolist() == pytest.approx([0.0] * 4)
    one = trace_of(games(*rounds, hosts=1), "threaded")
    assert one.game_ends().tolist() == pytest.approx([4.0, 2.0])
    assert one.start[1] == pytest.approx(1.0) and one.stalled[1] == pytest.approx(1.0)


def test_native_steps_share_the_cpus_the_python_thread_leaves():
    """Two native steps of 1 s and a host step of 1 s, all at 0, on 2 CPUs. The Python
    thread holds the GIL 0–1 and a CPU: the natives share the other, half a CPU each, and
    have done 0.5 s at 1 s; then a CPU each, 0.5 s more: they end at 1.5 s. Without the
    GIL three CPU jobs share 2 CPUs: 3 s of work at 2 CPUs, all end at 1.5 s too."""
    scenario = games([{"native": 1}], [{"native": 1}], [{"host": 1}], hosts=2)
    assert trace_of(scenario, "threaded").game_ends().tolist() == pytest.approx([1.5, 1.5, 1.0])
    assert trace_of(scenario, FREE).game_ends().tolist() == pytest.approx([1.5, 1.5, 1.5])


def test_a_native_step_holds_the_loop_in_the_engine_and_in_asyncio():
    """a: [native 2], b: [wait 1, host 1]. C code in a coroutine holds the loop 0–2, so
    b's host step waits from 1 to 2 and ends at 3, in the engine and on asyncio's loop;
    synchronous 2 + 2 = 4."""
    scenario = games([{"native": 2}], [{"wait": 1}, {"host": 1}])
    for schedule, ends in (("cooperative", [2.0, 3.0]), ("synchronous", [2.0, 4.0])):
        workload = Workload.of(scenario)
        engine = play(workload, Schedule.of(schedule))
        loop = replay(workload, Schedule.of(schedule))
        assert engine.game_ends().tolist() == ends == loop.game_ends().tolist()
    assert trace_of(scenario, "cooperative").host[0] == 0  # the step held host 1


# --- the tables, pictures and the format --------------------------------------------------


def test_native_seconds_are_cpu_work_in_the_tables():
    """2 games of host 1, native 2, wait 1, block 0.5 on 2 hosts. CPU work 2 × 3 = 6 s;
    blocking calls hold hosts 2 × 0.5 = 1 s under synchronous and cooperative. Each game
    has native_s 2, after block_s, and its time adds up."""
    steps = [{"host": 1}, {"native": 2}, {"wait": 1}, {"block": 0.5}]
    scenario = Scenario(host={"count": 2}, players=[{"name": "p", "count": 2, "steps": steps}])
    result = sim.run(scenario)
    summary = result.summary.set_index("schedule")
    assert set(summary["host_work_s"]) == {6.0}
    assert summary["host_blocked_s"].to_dict() == {
        "synchronous": 1.0,
        "cooperative": 1.0,
        "threaded": 0.0,
        "parallel": 0.0,
    }
    games = result.games
    at = GAME_COLUMNS.index("block_s") + 1
    assert list(games.columns) == [*GAME_COLUMNS[:at], "native_s", *GAME_COLUMNS[at:]]
    assert games["native_s"].tolist() == pytest.approx([2.0] * 8)
    total = games[["host_s", "wait_s", "block_s", "native_s", "wait_for_host_s"]].sum(axis=1)
    assert np.allclose(total, games["end_s"])
    assert "native" in set(result.steps["kind"])
    plain = sim.run(Scenario(players=[{"name": "p", "steps": [{"host": 1}]}]))
    assert list(plain.games.columns) == list(GAME_COLUMNS)


def test_native_steps_are_drawn_and_traced_under_their_name():
    """One bar per native step in the timeline, in a colour of its own; Chrome's trace
    names the step `native` on the player's track and on the host's it held."""
    result = sim.run(games([{"native": 1}, {"wait": 1}], [{"host": 1}]))
    counts = plots.bar_counts(plots.timeline(result.traces))
    assert all(panel["native"] == 1 for panel in counts.values())
    colours = {plots.style.colour(kind) for kind in STEP_KINDS}
    assert len(colours) == len(STEP_KINDS)
    trace = json.loads("".join(chrome_trace.chunks(result.traces)))
    native = [e for e in trace["traceEvents"] if e.get("cat") == "native" and e["ph"] == "B"]
    pids = {t.schedule.kind: pid for pid, t in enumerate(result.traces, start=1)}
    held = [e for e in native if e["pid"] == pids["cooperative"]]
    assert len(held) == 2  # the player's track and host 1's


def test_the_format_knows_native_steps():
    """`{native: D}` with any duration, appended to the kinds (codes of the others kept);
    the schema offers it; a step of two kinds names it among the choices."""
    assert STEP_KINDS[:7] == ("host", "wait", "block", "with", "gather", "put", "get")
    assert STEP_KINDS.index("native") == 7 and "native" in TIMED_KINDS
    scenario = sim.from_yaml(
        "unit: ms\nplayers:\n  - steps: [{native: 250}, {native: {dist: constant, value: 1s}}]\n"
    )
    assert [step.duration for step in scenario.players[0].round] == [0.25, 1.0]
    assert not scenario.shares and scenario.kinds == {"native"}
    step = scenario_schema()["$defs"]["Step"]
    assert "native" in step["properties"]
    with pytest.raises(ScenarioError, match="host, wait, block, native, with"):
        sim.from_yaml("players:\n  - steps: [{native: 1, host: 1}]\n")


# --- properties -----------------------------------------------------------------------------

OUTSIDE_THREADS = st.sampled_from(
    [
        Schedule.of("synchronous"),
        ONE_PROGRAM,
        Schedule.of("cooperative"),
        ONE_LOOP,
        Schedule.of("parallel"),
        Schedule.of("parallel", processes=3),
        Schedule.of("parallel", processes=5, start_cost=0.5),
        FREE,
        Schedule.of("threaded", threads=2, gil=False),
    ]
)
TIMES = ("ready", "start", "end", "host", "stalled")


def same_times(one, other) -> None:
    for name in TIMES:
        ours, theirs = getattr(one, name), getattr(other, name)
        assert (ours is None) == (theirs is None), name
        if ours is not None:
            assert ours.tolist() == theirs.tolist(), name
    assert one.workers().tolist() == other.workers().tolist()
    assert (one.switches, one.switch_time) == (other.switches, other.switch_time)


@settings(max_examples=150, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=3, max_count=3, kinds=ALL_KINDS),
    schedule=OUTSIDE_THREADS,
    seed=SEEDS,
)
def test_outside_threads_under_the_gil_a_native_step_is_a_host_step(scenario, schedule, seed):
    """Synchronous, cooperative, parallel and free threads: renaming every native step a
    host step changes no time, bit for bit."""
    native = trace_of(scenario, schedule, seed)
    host = trace_of(with_steps_renamed(scenario, "native", "host"), schedule, seed)
    same_times(native, host)


@settings(max_examples=100, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=3, max_count=4, kinds=("native", "wait")),
    threads=st.sampled_from([None, 1, 2]),
    seed=SEEDS,
)
def test_without_python_the_gil_changes_nothing(scenario, threads, seed):
    """Native, wait and block steps only: nobody ever takes the GIL, so threads under it
    play exactly as free threads, bit for bit."""
    scenario = with_steps_renamed(scenario, "wait", "block") if seed % 2 else scenario
    under = trace_of(scenario, Schedule.of("threaded", threads=threads), seed)
    free = trace_of(scenario, Schedule.of("threaded", threads=threads, gil=False), seed)
    same_times(under, free)


def cpus_in_use(trace, cpus: int) -> float:
    """∫ min(cpus, [a host step under way] + native steps under way) dt: the CPUs used
    when the GIL's holder runs Python on one (a host step waiting for the GIL is under
    way: the GIL is busy then) and native steps share what is left."""
    kind = trace.workload.kind
    python = kind == HOST
    native = kind == NATIVE
    lo_p, hi_p = trace.ready[python], trace.end[python]
    lo_n, hi_n = trace.start[native], trace.end[native]
    moments = np.unique(np.concatenate([lo_p, hi_p, lo_n, hi_n]))
    total = 0.0
    for lo, hi in itertools.pairwise(moments.tolist()):
        gil = bool(np.any((lo_p <= lo) & (hi_p >= hi)))
        running = int(np.count_nonzero((lo_n <= lo) & (hi_n >= hi)))
        total += min(cpus, gil + running) * (hi - lo)
    return total


@settings(max_examples=80, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=3, max_count=3, kinds=ALL_KINDS),
    interval=st.sampled_from([0.25, 0.5, 1.0]),
    cost=st.sampled_from([0.0, 0.125]),
    seed=st.integers(0, 2**16),
)
def test_under_the_gil_the_cpus_are_never_idle_nor_overbooked(scenario, interval, cost, seed):
    """Python on the GIL's one CPU, C code on the rest: while anyone wants a CPU one is
    in use, and never more than there are. So the CPUs in use over time add up to the
    CPU work plus the GIL's switches: less would be a CPU idle while a step waited, more
    a CPU booked twice."""
    host = scenario.host.model_copy(update={"switch_cost": cost})
    scenario = scenario.model_copy(update={"host": host})
    schedule = Schedule.of("threaded", switch_interval=interval)
    trace = trace_of(scenario, schedule, seed)
    expected = trace.workload.host_work() + trace.switch_time
    assert cpus_in_use(trace, scenario.host.count) == pytest.approx(expected, abs=1e-6)
    assert (trace.stalled >= 0).all() and (trace.start >= trace.ready).all()


@settings(max_examples=80, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=1, max_count=4, kinds=("host", "native")),
    seed=st.integers(0, 2**16),
)
def test_on_one_cpu_python_and_c_code_take_their_sum(scenario, seed):
    """One CPU, CPU work only: whoever runs, the CPU is busy until all is done, so every
    schedule takes the CPU work of all games, the GIL's threads included."""
    work = Workload.of(scenario).host_work()
    for schedule in ("threaded", ONE_LOOP, ONE_PROGRAM, "parallel", FREE):
        makespan = trace_of(scenario, schedule, seed).makespan
        assert makespan == pytest.approx(work, rel=1e-9, abs=1e-6), schedule


@settings(max_examples=60, deadline=None)
@given(
    scenario=scenarios(integer_durations, max_hosts=3, max_count=3, kinds=ALL_KINDS),
    seed=SEEDS,
)
def test_threads_makespan_is_at_least_the_gils_and_the_cpus_work(scenario, seed):
    """The GIL runs one thread's Python at a time, the CPUs do k seconds a second: the
    makespan is at least the host steps' time and the CPU work over k."""
    trace = trace_of(scenario, "threaded", seed)
    workload = trace.workload
    bound = max(workload.python_work(), workload.host_work() / workload.hosts)
    assert trace.makespan >= bound - 1e-6
    assert np.all(trace.end - trace.start >= workload.duration - 1e-9)
    assert (trace.stalled[~np.isin(workload.kind, CPU)] == 0).all()


def test_the_task_engine_plays_native_steps_as_the_threads_engine():
    """Games of host and native steps on 2 CPUs, their steps inside a `with` nobody waits
    for: the task engine starts and ends every step when the plain engines do (rows of
    the `with` aside; a game's first step is then ready when its `with` is granted)."""
    steps = [{"host": 0.5}, {"native": 1}, {"wait": 0.25}, {"host": 0.25}, {"native": 0.5}]
    plain = Scenario(host={"count": 2}, players=[{"name": "p", "count": 3, "steps": steps}])
    shared = Scenario(
        host={"count": 2},
        resources={"pool": 3},
        players=[{"name": "p", "count": 3, "steps": [{"with": "pool", "steps": steps}]}],
    )
    for schedule in (Schedule.of("threaded"), FREE, TWO_PROCESSES, Schedule.of("cooperative")):
        own = trace_of(plain, schedule, 7)
        tasks = runners.play_tasks(Workload.of(shared), schedule, np.random.default_rng(7))
        timed = np.isin(tasks.workload.kind, [STEP_KINDS.index(k) for k in TIMED_KINDS])
        for name in ("start", "end"):
            assert getattr(tasks, name)[timed] == pytest.approx(getattr(own, name)), name


# --- played for real ------------------------------------------------------------------------


def test_a_real_native_step_spends_its_cpu_time_in_c():
    """`do_step("native", 20 ms)` works until the thread has used 20 ms of its own CPU."""
    began = time.thread_time()
    do_step("native", 0.02)
    assert time.thread_time() - began >= 0.02


@pytest.mark.wallclock
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs")
def test_real_native_steps_let_python_run_beside_them_but_hold_a_loop():
    """While a thread crunches 0.2 s of C code, this thread runs Python: it gets a good
    share of a CPU (it would get next to none if the C code held the GIL). On one asyncio
    loop two native steps of 50 ms cannot overlap: at least 100 ms."""
    from sim.verify.players import cooperative

    crunch(0.01)  # the rate, measured once
    worker = threading.Thread(target=crunch, args=(0.2,))
    began = time.thread_time()
    worker.start()
    while worker.is_alive():  # Python bytecode, which needs the GIL
        continue
    assert time.thread_time() - began > 0.05
    assert cooperative([[("native", 0.05)], [("native", 0.05)]]).makespan >= 0.1
