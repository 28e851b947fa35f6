"""The recording loop on small real programs: what it cuts into steps, waits and flags.

Bounds here follow from what asyncio guarantees (a timer never fires early,
`time.sleep(d)` lasts at least d), never from how fast this machine is.
"""

from __future__ import annotations

import asyncio
import textwrap
import types

import pytest

from sim.record.loop import STEP_FIELDS, RecordingPolicy
from sim.record.program import load_raw, record_program, save_raw
from sim.record.transcript import transcribe


def program(tmp_path, body: str) -> str:
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


GATHER = """
    import asyncio, sys

    async def worker(n):
        await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        return n

    async def main():
        return await asyncio.gather(*(worker(n) for n in range(3)))

    print(asyncio.run(main()), sys.argv[1:])
"""


def test_every_task_is_recorded_with_its_steps_and_asyncio_internals_are_not(tmp_path, capsys):
    """main: a step creating the workers, then one when the gather wakes it (joined);
    each worker: 3 steps (start, after each sleep). asyncio.run's shutdown tasks are left out."""
    raw, status = record_program(program(tmp_path, GATHER), ["--flag"])
    assert status == 0 and "[0, 1, 2] ['--flag']" in capsys.readouterr().out
    assert [t.function for t in raw.tasks] == ["main", "worker", "worker", "worker"]
    main, *workers = raw.tasks
    assert [step[4] for step in main.steps] == [False, True]
    assert all(len(w.steps) == 3 and not any(s[4] for s in w.steps) for w in workers)
    assert isinstance(asyncio.get_event_loop_policy(), asyncio.DefaultEventLoopPolicy)
    assert type(asyncio.get_event_loop_policy()).__name__ != "RecordingPolicy"


def test_a_sleep_is_a_wait_of_its_delay(tmp_path, capsys):
    """`asyncio.sleep(0.05)` ends its step microseconds after setting its timer (under 1 %
    of the delay unless the machine stops the program for half a millisecond just then):
    the wait is the delay asked, 0.05 s, not 0.05 s less the rest of the step. The three
    workers, gathered by main, are a gather block of main's round."""
    raw, _ = record_program(program(tmp_path, GATHER.replace("0.01", "0.05")), [])
    (main,) = transcribe(raw, structured=True).groups
    assert [p.kind for p in main.positions] == ["host", "gather", "host"]
    gather = main.positions[1]
    assert gather.count == 3
    assert [p.kind for p in gather.steps] == ["host", "wait", "host", "wait", "host"]
    for wait in (gather.steps[1], gather.steps[3]):
        assert wait.values == pytest.approx([0.05] * 3, abs=1e-9)


WORK_AFTER_A_TIMER = """
    import asyncio, time

    async def main():
        loop = asyncio.get_running_loop()
        woken = loop.create_future()
        loop.call_later(0.05, woken.set_result, None)
        end = time.perf_counter() + 0.02
        while time.perf_counter() < end:  # 20 ms of CPU after setting the timer
            pass
        await woken

    asyncio.run(main())
"""


def test_work_after_setting_a_timer_shortens_the_wait(tmp_path):
    """The timer is due 50 ms after it was set and the step goes on 20 ms (40 % of the
    delay) after that: the wait runs from the step's end to the timer, 0 < wait ≤ 30 ms,
    so host and wait add up to the 50 ms the program took, not 70 ms."""
    raw, _ = record_program(program(tmp_path, WORK_AFTER_A_TIMER), [])
    (group,) = transcribe(raw, structured=True).groups
    assert [p.kind for p in group.positions] == ["host", "wait", "host"]
    (host,), (wait,) = group.positions[0].values, group.positions[1].values
    assert host >= 0.02 and 0 < wait <= 0.03 + 1e-9


BLOCKING = """
    import asyncio, time

    async def polite():
        await asyncio.sleep(0.01)

    async def rude():
        time.sleep(0.1)
        await asyncio.sleep(0)

    async def main():
        await asyncio.gather(polite(), rude())

    asyncio.run(main())
"""


def test_time_the_loop_was_busy_elsewhere_is_not_the_tasks_wait(tmp_path):
    """polite's timer is due 0.01 s after its first step; rude then holds the loop ≥ 0.1 s.
    polite's wait stays ≤ 0.01 s; it waited for the loop ≥ 0.1 − 0.01 s (start − ready)."""
    raw, _ = record_program(program(tmp_path, BLOCKING), [])
    polite = next(t for t in raw.tasks if t.function == "polite")
    (first, second) = polite.steps
    assert 0 < second[0] - first[2] <= 0.01 + 1e-9
    assert second[1] - second[0] >= 0.09


def test_a_blocking_call_is_flagged_with_the_await_after_it(tmp_path):
    """rude's first step sleeps 0.1 s in time.sleep: over the 0.05 s threshold, off the CPU,
    having given the CPU up; it then waits at line 9 (`await asyncio.sleep(0)`)."""
    path = program(tmp_path, BLOCKING)
    raw, _ = record_program(path, [])
    (flag,) = transcribe(raw).flags
    assert flag.group == "rude" and flag.blocking and flag.mean_s >= 0.1
    assert flag.where == f"{path}:9 (rude)"


def test_the_threshold_is_the_callers(tmp_path):
    """With a 1 s threshold the 0.1 s blocking call is not flagged."""
    raw, _ = record_program(program(tmp_path, BLOCKING), [], threshold=1.0)
    assert transcribe(raw).flags == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [("raise SystemExit(3)", 3), ("raise ValueError('boom')", 1), ("import sys; sys.exit()", 0)],
)
def test_the_programs_exit_status_is_kept(tmp_path, body, expected, capsys):
    """No event loop ran: what there is, is recorded as calls (sim.record.calls)."""
    raw, status = record_program(program(tmp_path, body), [])
    assert status == expected
    assert raw is not None and raw.tasks == () and raw.calls is not None


def test_the_raw_recording_round_trips_through_json(tmp_path):
    raw, _ = record_program(program(tmp_path, GATHER), [])
    save_raw(raw, tmp_path / "raw.json")
    assert load_raw(tmp_path / "raw.json") == raw


def test_only_a_tasks_own_steps_count_and_a_second_pending_one_waits_its_turn():
    """`call_soon(task.get_name)` is no step of the task; two steps queued at once (which
    CPython's Task never does) are both recorded, in the order they were queued."""
    sink = []
    loop = RecordingPolicy(sink).new_event_loop()
    ran = []

    def __step(task):  # named like the Python Task's own step method
        ran.append(len(ran))

    async def idle():
        await asyncio.sleep(0)

    task = loop.create_task(idle())
    loop.call_soon(task.get_name)
    loop.call_soon(types.MethodType(__step, task))
    loop.call_soon(types.MethodType(__step, task))
    loop.run_until_complete(task)
    loop.close()
    (life,) = sink[0].lives
    assert ran == [0, 1]
    assert len(life.steps) // STEP_FIELDS == 4  # its start, the two extra, the end after sleep(0)
