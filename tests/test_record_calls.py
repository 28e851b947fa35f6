"""`sim record` on programs that are not asyncio: the structure it records, exactly.

Small programs written here run under `python -m sim.record --raw` (a child
process, as `sim record` runs them); the tests check what the recorder made of
them: which calls are games, each game's step kinds, the waits whose length
the program fixed (`time.sleep`), the pools and their sizes, the schedules
written and their order, and what bad input gives. No test holds a figure
against the wall clock: CPU steps are only checked to exist and be positive.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.record.call_transcript import transcribe_calls
from sim.record.calls import RawCalls
from sim.record.program import RawRecording, load_raw
from sim.record.scenario_file import scenario_text
from sim.scenario.loader import from_yaml
from tests.conftest import ROOT

WORK = """
    import time
    def work(n):
        total = 0
        for i in range(n):
            total += i * i
        return total
"""


def program(tmp_path: Path, body: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(WORK) + textwrap.dedent(body))
    return path


def recorded(tmp_path: Path, script: Path, *tasks: str) -> RawRecording:
    raw = tmp_path / "raw.json"
    options = [part for task in tasks for part in ("--task", task)]
    done = subprocess.run(
        [sys.executable, "-m", "sim.record", "--raw", str(raw), *options, str(script)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return load_raw(raw)


def calls_of(raw: RawRecording) -> RawCalls:
    assert raw.calls is not None and not raw.tasks
    return raw.calls


def leaves(steps: list) -> list[tuple[str, float]]:
    """The timed steps, those inside `with` blocks included, in order."""
    out = []
    for step in steps:
        out += leaves(step[2]) if step[0] == "with" else [(step[0], step[1])]
    return out


def kinds(game) -> list[str]:
    return [kind for kind, _ in leaves(game.steps)]


def test_a_loop_of_calls_is_a_game_per_call_the_unit_chosen_and_sleeps_exact(tmp_path):
    script = program(
        tmp_path,
        """
        def helper():
            work(2000)
        def fetch(i):
            helper()
            time.sleep(0.02)
            work(3000)
        def main():
            for i in range(5):
                fetch(i)
        main()
        """,
    )
    calls = calls_of(recorded(tmp_path, script))
    assert calls.task is not None and calls.task.name == "fetch" and not calls.task.given
    fetches = [g for g in calls.games if g.function == "fetch"]
    assert len(fetches) == 5 and all(g.role == "task" for g in fetches)
    for game in fetches:
        assert kinds(game) == ["host", "wait", "host"]
        assert game.steps[1][1] == 0.02  # the sleep's own length, not what the clock saw
        assert game.steps[0][1] > 0 and game.steps[2][1] > 0
    assert [g.role for g in calls.games].count("main") == 1
    # the games follow each other, one thread
    starts = [g.start for g in fetches]
    assert starts == sorted(starts) and {g.thread for g in calls.games} == {0}


def test_the_named_task_is_the_unit(tmp_path):
    script = program(
        tmp_path,
        """
        def part(i):
            work(1000)
            time.sleep(0.005)
        def fetch(i):
            part(i)
            part(i)
        for i in range(3):
            fetch(i)
        """,
    )
    calls = calls_of(recorded(tmp_path, script, "part"))
    parts = [g for g in calls.games if g.role == "task"]
    assert calls.task is not None and calls.task.given
    assert len(parts) == 6 and {g.function for g in parts} == {"part"}
    # the return after the sleep is a (short) host step of its own
    assert all(kinds(g) == ["host", "wait", "host"] and g.steps[1][1] == 0.005 for g in parts)


def test_a_pools_work_items_are_games_and_its_size_the_programs_own_schedule(tmp_path):
    script = program(
        tmp_path,
        """
        from concurrent.futures import ThreadPoolExecutor
        import threading
        lock = threading.Lock()
        def fetch(i):
            work(1000)
            time.sleep(0.01)
            with lock:
                work(100)
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(fetch, range(6)))
        """,
    )
    raw = recorded(tmp_path, script)
    calls = calls_of(raw)
    items = [g for g in calls.games if g.role == "item"]
    assert len(items) == 6 and {g.function for g in items} == {"fetch"}
    assert calls.pools == {0: 3}
    assert len({g.thread for g in items}) > 1  # the pool's threads ran them
    for game in items:
        assert [k for k in kinds(game) if k != "host"] == ["wait"]
        assert [s for k, s in leaves(game.steps) if k == "wait"] == [0.01]
        assert [step[0] for step in game.steps if step[0] == "with"] == ["with"]  # the lock
    text, _ = scenario_text(raw, "pool")
    scenario = from_yaml(text)
    assert scenario.schedules[0].label == "threaded(threads=3)"  # the program's own first
    assert {s.kind for s in scenario.schedules} == {
        "threaded", "synchronous", "cooperative", "parallel"
    }  # fmt: skip
    main = [g for g in calls.games if g.role == "main"]
    # waiting for the pool's results (a future, the pool's shutdown) is no step
    assert len(main) == 1 and kinds(main[0]) == ["host"]


def test_c_code_that_releases_the_gil_is_native(tmp_path):
    script = program(
        tmp_path,
        """
        import zlib
        data = bytes(range(256)) * 40_000
        def pack(i):
            work(500)
            zlib.compress(data, 9)
        for i in range(3):
            pack(i)
        """,
    )
    raw = recorded(tmp_path, script)
    packs = [g for g in calls_of(raw).games if g.function == "pack"]
    assert len(packs) == 3
    assert all("native" in kinds(g) for g in packs)
    text, _ = scenario_text(raw, "pack")
    assert "- native:" in text


def test_threads_are_games_and_a_lock_wait_is_no_step(tmp_path):
    script = program(
        tmp_path,
        """
        import threading
        lock = threading.Lock()
        def run():
            with lock:
                time.sleep(0.02)
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """,
    )
    calls = calls_of(recorded(tmp_path, script))
    runs = [g for g in calls.games if g.role == "thread"]
    assert len(runs) == 3
    # each slept its 20 ms; the 20 or 40 ms some waited for the lock are not written
    waits = [round(sum(s for k, s in leaves(g.steps) if k == "wait"), 6) for g in runs]
    assert waits == [0.02] * 3
    own = transcribe_calls(recorded(tmp_path, script))
    assert own.schedules[0] == "{threaded: {}}"


def test_the_scenario_lists_the_programs_schedule_first_and_the_table_answers(tmp_path):
    script = program(
        tmp_path,
        """
        def fetch(i):
            work(1000)
            time.sleep(0.01)
        for i in range(4):
            fetch(i)
        """,
    )
    out = tmp_path / "fetch.yaml"
    result = CliRunner().invoke(
        app, ["record", "-o", str(out), "--", sys.executable, str(script)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scenario = from_yaml(out.read_text())
    labels = [s.label for s in scenario.schedules]
    assert labels[0] == "synchronous(hosts=1)" and "cooperative(hosts=1)" in labels
    assert "your program (synchronous)" in result.stdout
    assert "unit of work: each call of fetch" in result.stdout
    assert f"wrote {out}" in result.stdout


def test_a_task_never_called_lists_what_was(tmp_path):
    script = program(tmp_path, "for i in range(3):\n    work(10)\n")
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(
        app, ["record", "--task", "nosuch", "-o", str(out), "--", sys.executable, str(script)]
    )
    assert result.exit_code == 2
    assert "--task nosuch: never called" in result.stderr and "work (3)" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("task", "message"),
    [("nosuchmodule:fetch", "no module named 'nosuchmodule'"), ("json:nothing", "has no")],
)
def test_a_task_naming_nothing_importable(tmp_path, task, message):
    script = program(tmp_path, "import json\nwork(10)\n")
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(
        app, ["record", "--task", task, "-o", str(out), "--", sys.executable, str(script)]
    )
    assert result.exit_code == 2 and message in result.stderr
    assert not out.exists()


def test_a_program_that_fails_is_written_as_far_as_it_ran_marked_partial(tmp_path, capfd):
    script = program(
        tmp_path,
        """
        def fetch(i):
            time.sleep(0.005)
            if i == 3:
                raise RuntimeError("broken page")
        for i in range(5):
            fetch(i)
        """,
    )
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(app, ["record", "-o", str(out), "--", sys.executable, str(script)])
    assert result.exit_code == 1 and "marked partial" in result.stderr
    shown = capfd.readouterr().err  # the program's own stderr, passed through
    assert "RuntimeError: broken page" in shown
    assert "sim/record" not in shown  # the program's traceback, not the recorder's
    text = out.read_text()
    assert text.startswith("# Partial: the program exited with status 1")
    scenario = from_yaml(text)
    assert "partial" in scenario.description
    assert sum(g.count for g in scenario.players if g.name == "fetch") == 4


def test_a_program_that_starts_processes_is_recorded_in_its_own(tmp_path):
    script = program(
        tmp_path,
        """
        import multiprocessing
        def square(x):
            return x * x
        def fetch(i):
            time.sleep(0.005)
        if __name__ == "__main__":
            with multiprocessing.get_context("fork").Pool(2) as pool:
                pool.map(square, range(4))
            for i in range(3):
                fetch(i)
        """,
    )
    calls = calls_of(recorded(tmp_path, script))
    assert any("other process(es): only its own process was recorded" in n for n in calls.notes)
    assert len([g for g in calls.games if g.function == "fetch"]) == 3


def test_the_programs_locks_and_semaphores_are_resources_and_still_limit_it(tmp_path):
    """Held blocks become `with` blocks on resources of the program's capacities, named
    after its variables, and the wrapped semaphore still lets only 2 in at a time."""
    seen = tmp_path / "most.txt"
    script = program(
        tmp_path,
        f"""
        import threading
        from concurrent.futures import ThreadPoolExecutor
        db = threading.Semaphore(2)
        cache_lock = threading.Lock()
        inside, most = 0, 0
        def fetch(i):
            global inside, most
            work(500)
            with db:
                with cache_lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.01)
                with cache_lock:
                    inside -= 1
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(fetch, range(8)))
        open({str(seen)!r}, "w").write(str(most))
        """,
    )
    raw = recorded(tmp_path, script)
    assert seen.read_text() == "2"
    calls = calls_of(raw)
    assert sorted(calls.objects.values()) == [("lock", "cache_lock", 1), ("semaphore", "db", 2)]
    text, transcript = scenario_text(raw, "locks")
    assert transcript.resources == {"db": 2, "cache_lock": 1}
    scenario = from_yaml(text)
    (fetch,) = [g for g in scenario.players if g.name.startswith("fetch")][:1]
    outer = [s for s in fetch.steps if s.kind == "with"]
    assert outer[0].with_.resource == "db"
    assert [s.with_.resource for s in outer[0].inner if s.kind == "with"] == ["cache_lock"] * 2
    assert [s.kind for s in outer[0].inner if s.kind != "host"] == ["with", "wait", "with"]


def test_a_queue_between_threads_is_a_queue_its_consumers_serve(tmp_path):
    """Items put are `put` steps of a producer of one round per item; each consumer
    thread serves the queue, a round per item taken; the program still gets every item."""
    seen = tmp_path / "taken.txt"
    script = program(
        tmp_path,
        f"""
        import queue, threading
        jobs = queue.Queue(maxsize=3)
        taken = []
        def producer():
            for i in range(12):
                work(500)
                jobs.put(i)
            for _ in range(2):  # one "no more" for each consumer
                work(500)
                jobs.put(None)
        def consumer():
            while True:
                item = jobs.get()
                if item is None:
                    return
                time.sleep(0.004)
                taken.append(item)
        threads = [threading.Thread(target=producer), threading.Thread(target=consumer),
                   threading.Thread(target=consumer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        open({str(seen)!r}, "w").write(str(sorted(taken)))
        """,
    )
    raw = recorded(tmp_path, script)
    assert seen.read_text() == str(list(range(12)))
    assert ("queue", "jobs", 3) in calls_of(raw).objects.values()
    text, transcript = scenario_text(raw, "queues")
    assert transcript.queues == {"jobs": 3}
    scenario = from_yaml(text)
    producer = next(g for g in scenario.players if g.name == "producer")
    assert producer.moves == 14 and [s.kind for s in producer.steps] == ["host", "put"]
    consumers = [g for g in scenario.players if g.serves == "jobs"]
    assert sum(g.count for g in consumers) == 2
    assert all("wait" in [s.kind for s in g.steps] for g in consumers)
