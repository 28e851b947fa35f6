"""From a raw recording to groups, steps and a scenario file: exact arithmetic on made-up runs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine import play
from sim.engine.workload import HOST, Workload
from sim.record.program import RawRecording, RawTask
from sim.record.render import render
from sim.record.transcript import HAS_BLOCK, transcribe
from sim.scenario.schedules import Schedule


def task(function: str, steps: list[tuple], born: float | None = None, **kw) -> RawTask:
    """Steps as (ready, start, end) with cpu = wall and no switches, unless given in full."""
    full = tuple(s if len(s) == 6 else (*s, s[2] - s[1], False, 0) for s in steps)
    first = full[0][0] if born is None else born
    return RawTask("t", function, "/app/prog.py", 1, first, full, kw.get("long_steps", {}))


def recording(*tasks: RawTask, threshold: float = 0.05) -> RawRecording:
    return RawRecording("prog.py", 1.0, 1.0, threshold, tasks)


def test_a_task_life_becomes_host_and_wait_steps():
    """Steps ran 0–1, 3–4 (ready at 3), 6–7 (ready at 5, so 1 s waiting for the loop):
    host 1, wait 3 − 1 = 2, host 1, wait 5 − 4 = 1, host 1; the wait for host is dropped."""
    t = task("fetch", [(0, 0, 1), (3, 3, 4), (5, 6, 7)])
    (group,) = transcribe(recording(t)).groups
    assert [(p.kind, p.values) for p in group.positions] == [
        ("host", (1,)),
        ("wait", (2,)),
        ("host", (1,)),
        ("wait", (1,)),
        ("host", (1,)),
    ]


def test_tasks_of_one_function_and_shape_form_one_group_in_birth_order():
    """Two `fetch` tasks share a group whose positions hold both tasks' durations;
    a `fetch` with one step more is a group of its own, `fetch#2`; `main` came first."""
    main = task("main", [(0, 0, 0.5)])
    a = task("fetch", [(0.1, 0.5, 1.5), (3.5, 3.5, 4)])  # host 1, wait 2, host 0.5
    b = task("fetch", [(0.2, 1.5, 3.5), (4.5, 4.5, 4.75)])  # host 2, wait 1, host 0.25
    c = task("fetch", [(0.3, 4.75, 5), (6, 6, 7), (8, 8, 9)])
    groups = transcribe(recording(b, c, main, a)).groups
    assert [(g.name, g.count) for g in groups] == [("main", 1), ("fetch", 2), ("fetch#2", 1)]
    fetch = groups[1]
    assert [p.values for p in fetch.positions] == [(1, 2), (2, 1), (0.5, 0.25)]


def test_a_wait_on_another_task_is_left_out():
    """main: step 0–1, then woken by a child's end (joined) at 5: two host steps, no wait."""
    main = task("main", [(0, 0, 1), (0, 5, 5.5, 0.5, True, 0)])
    transcript = transcribe(recording(main))
    (group,) = transcript.groups
    assert [(p.kind, p.values) for p in group.positions] == [("host", (1,)), ("host", (0.5,))]
    assert "after waiting on another task" in group.positions[1].note
    assert any("left out" in note for note in transcript.notes)


def test_a_task_created_later_starts_with_a_wait_until_then():
    """The first task's first step ends at 1; a task born at 4 begins with wait 4."""
    main = task("main", [(0, 0, 1)])
    late = task("late", [(4, 4, 5)])
    groups = transcribe(recording(main, late)).groups
    assert [(p.kind, p.values) for p in groups[1].positions] == [("wait", (4,)), ("host", (1,))]


def test_a_long_step_off_the_cpu_that_gave_the_cpu_up_is_a_blocking_call():
    """0.2 s wall, 0.001 s CPU, one voluntary switch: blocking; split 0.001 host + 0.199 block
    when the format has `block`, else one host step of 0.2, flagged either way. The task that
    blocked is a group apart from the one that did not."""
    blocked = task("fetch", [(0, 0, 0.2, 0.001, False, 1)], long_steps={0: "prog.py:9 (fetch)"})
    fine = task("fetch", [(0, 0.2, 0.21, 0.01, False, 0)])
    transcript = transcribe(recording(blocked, fine))
    (flag,) = transcript.flags
    assert flag.blocking and (flag.group, flag.tasks, flag.count) == ("fetch", 1, 1)
    assert flag.where == "prog.py:9 (fetch)"
    assert "likely blocking call" in flag.sentence()
    first, second = transcript.groups
    assert (first.name, second.name) == ("fetch", "fetch#2")
    assert [(p.kind, p.values) for p in second.positions] == [("host", pytest.approx((0.01,)))]
    if HAS_BLOCK:
        assert [(p.kind, p.values) for p in first.positions] == [
            ("host", pytest.approx((0.001,))),
            ("block", pytest.approx((0.199,))),
        ]
    else:
        assert [(p.kind, p.values) for p in first.positions] == [("host", pytest.approx((0.2,)))]


def test_a_long_step_without_a_voluntary_switch_was_preempted_not_blocked():
    """0.2 s wall, 0.001 s CPU, no voluntary switch: another process had the CPU."""
    t = task("fetch", [(0, 0, 0.2, 0.001, False, 0)])
    (flag,) = transcribe(recording(t)).flags
    assert not flag.blocking and "preempted" in flag.sentence()


def test_a_long_cpu_step_is_flagged_as_such():
    t = task("parse", [(0, 0, 0.2, 0.19, False, 0)])
    (flag,) = transcribe(recording(t)).flags
    assert not flag.blocking and flag.sentence().startswith("long CPU step")


def test_the_file_validates_and_holds_the_durations_in_ms():
    """Deterministic: each position's mean, (1 + 2)/2 s = 1500 ms and (2 + 1)/2 s = 1500 ms;
    otherwise an empirical distribution of both values, sorted."""
    a = task("fetch", [(0, 0, 1), (3, 3, 4)])
    b = task("fetch", [(0, 1, 3), (4, 4, 4.25)])
    transcript = transcribe(recording(a, b))
    scenario = sim.from_yaml(render(transcript, "app", deterministic=True))
    (group,) = scenario.players
    assert [(s.kind, s.duration) for s in group.round] == [
        ("host", 1.5),
        ("wait", 1.5),
        ("host", 0.625),
    ]
    assert group.count == 2 and scenario.unit == "ms" and scenario.host.name == "event loop"
    text = render(transcript, "app")
    assert "- host: {dist: empirical, values: [1000, 2000]}" in text


def test_long_lists_are_thinned_to_quantiles_keeping_the_extremes():
    """1 000 tasks of hosts 1..1000 ms, 11 kept: the i-th is the value at index
    round(i · 999 / 10) (half to even: 499.5 → 500), so 1, 101, …, 401, 501, 600, …, 1000."""
    tasks = [task("f", [(0, 0, (i + 1) / 1000)]) for i in range(1000)]
    text = render(transcribe(recording(*tasks)), "many", max_values=11)
    assert "values: [1, 101, 201, 301, 401, 501, 600, 700, 800, 900, 1000]" in text


def recording_of(trace) -> RawRecording:
    """A cooperative engine run written down as the recorder would have seen it."""
    workload = trace.workload
    tasks = []
    for game in range(workload.games):
        lo, hi = workload.first_step[game], workload.first_step[game + 1]
        steps, ready = [], 0.0
        for row in range(lo, hi):
            if workload.kind[row] == HOST:
                start, end = trace.start[row], trace.end[row]
                steps.append((ready, start, end, end - start, False, 0))
            ready = trace.end[row]
        tasks.append(task(f"game{game}", steps, born=0.0))
    return recording(*tasks, threshold=1e9)


def alternating(host: st.SearchStrategy, wait: st.SearchStrategy) -> st.SearchStrategy:
    """A round host, wait, host, …, host: a coroutine starts and ends holding the loop."""
    return st.lists(st.tuples(host, wait), min_size=0, max_size=3).flatmap(
        lambda pairs: host.map(
            lambda last: (
                [s for h, w in pairs for s in ({"host": h}, {"wait": w})] + [{"host": last}]
            )
        )
    )


@settings(max_examples=25, deadline=None)
@given(rounds=st.lists(alternating(st.integers(0, 4), st.integers(1, 5)), min_size=1, max_size=5))
def test_recording_a_cooperative_run_replays_it_exactly(rounds):
    """Record what the cooperative engine did, as the loop would see it; the written
    scenario (one group per game, deterministic) replays to the same end of every game."""
    scenario = sim.Scenario(players=[{"name": f"g{i}", "steps": r} for i, r in enumerate(rounds)])
    trace = play(Workload.of(scenario), Schedule.of("cooperative"))
    text = render(transcribe(recording_of(trace)), "replay", deterministic=True)
    replayed = sim.run(sim.from_yaml(text), ["cooperative"]).trace("cooperative")
    assert replayed.game_ends().tolist() == pytest.approx(trace.game_ends().tolist(), abs=1e-9)


def test_exact_makes_every_task_a_group_with_its_own_durations():
    """Two `fetch` tasks (host 1 then 2; host 2 then 1): `exact` keeps them apart, in birth
    order, each with its own steps; without it they share one group of both values."""
    a = task("fetch", [(0, 0, 1), (2, 2, 4)])
    b = task("fetch", [(0.5, 1, 3), (4, 4, 5)])
    exact = transcribe(recording(a, b), exact=True).groups
    assert [(g.name, g.count) for g in exact] == [("fetch", 1), ("fetch#2", 1)]
    assert [p.values for p in exact[0].positions] == [(1,), (1,), (2,)]
    assert [p.values for p in exact[1].positions] == [(2,), (1,), (1,)]
    assert [g.count for g in transcribe(recording(a, b)).groups] == [2]
