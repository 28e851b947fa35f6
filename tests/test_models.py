"""The article's lesson in figures: every scenario under every model, from arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.workload import BLOCK, WAIT
from sim.experiment.runs import run
from sim.scenario.loader import load_file
from tests.conftest import SCENARIOS, with_steps_renamed
from tests.helpers import sim_run


def makespans(name: str, seed: int = 0) -> dict[str, float]:
    summary = run(load_file(SCENARIOS / f"{name}.yaml"), seed=seed).summary
    return dict(zip(summary["schedule"], summary["makespan_s"], strict=True))


def test_countsync_blocks_the_loop_for_3_s():
    """The article's two count() scripts. With `time.sleep(1)` in each of 3 tasks the
    loop is held 3 × 1 s = 3 s, as slow as one after another; threads release the
    GIL while sleeping, so their three sleeps overlap: 1 s; one process (one CPU)
    plays them one after another: 3 s. With `await asyncio.sleep(1)` (countasync)
    the loop is free during the waits: 1 s."""
    assert makespans("countsync") == {
        "synchronous": 3.0,
        "cooperative": 3.0,
        "threaded": 1.0,
        "parallel": 3.0,
    }
    assert makespans("countasync")["cooperative"] == 1.0


def test_countsync_summary_shows_the_hosts_held_by_blocking_calls():
    """3 block steps of 1 s: the loop (and the synchronous host) are held 3 s by them;
    a thread or a process gives its CPU away while blocked: 0 s."""
    summary = run(load_file(SCENARIOS / "countsync.yaml")).summary.set_index("schedule")
    assert summary["host_blocked_s"].to_dict() == {
        "synchronous": 3.0,
        "cooperative": 3.0,
        "threaded": 0.0,
        "parallel": 0.0,
    }
    games = run(load_file(SCENARIOS / "countsync.yaml")).games
    assert set(games["block_s"]) == {1.0}


def test_cpu_bound_only_processes_or_no_gil_use_the_four_cpus():
    """8 tasks × 1 s of CPU, 4 CPUs. One thread or one loop: 8 × 1 = 8 s. Threads
    under the GIL: one runs at a time and the GIL is never idle: 8 s (no switch
    cost here). No GIL: 4 at a time, 8 / 4 = 2 s. 4 processes: each starts (50 ms
    of CPU, all 4 at once) and plays 2 tasks: 0.05 + 2 × 1 = 2.05 s."""
    figures = makespans("cpu_bound")
    assert figures == pytest.approx(
        {
            "synchronous(hosts=1)": 8.0,
            "cooperative(hosts=1)": 8.0,
            "threaded": 8.0,
            "threaded(gil=false)": 2.0,
            "parallel(processes=4, start_cost=50ms)": 2.05,
        },
        abs=1e-9,
    )


def test_cpu_bound_threads_pay_every_switch():
    """With a switch cost s the GIL is still never idle, so the makespan is the work
    plus every switch it made: 8 + switches × s. With 8 threads wanting it, a
    holder keeps the GIL one interval after a forced switch and at most two after
    a thread finished its task and handed it on, so there are at least
    8 / (2 × 0.005) − 1 = 799 switches, and at most one per interval plus one per
    task: 8 / 0.005 + 8."""
    scenario = load_file(SCENARIOS / "cpu_bound.yaml")
    scenario = scenario.model_copy(
        update={"host": scenario.host.model_copy(update={"switch_cost": 0.0001})}
    )
    trace = run(scenario, ["threaded"]).trace("threaded")
    assert 8 / (2 * 0.005) - 1 <= trace.switches <= 8 / 0.005 + 8
    assert trace.makespan == pytest.approx(8 + trace.switches * 0.0001, abs=1e-9)


def test_io_bound_asyncio_or_threads_win():
    """100 × (10 ms CPU + 1 s wait). One after another: 100 × 1.01 = 101 s. The loop:
    its 100 × 10 ms = 1 s of work runs back to back (100 × 0.01 ≥ 1.01 − 0.01), the
    last download then waits 1 s: 2 s. 100 threads: the GIL too is busy without a
    break until 1 s (no thread is back from its wait before 1.01 s), then the last
    wait: 2 s. 4 processes on 4 CPUs: 25 downloads each: 25 × 1.01 = 25.25 s."""
    assert makespans("io_bound") == pytest.approx(
        {
            "synchronous(hosts=1)": 101.0,
            "cooperative(hosts=1)": 2.0,
            "threaded": 2.0,
            "parallel(processes=4)": 25.25,
        },
        abs=1e-9,
    )


def test_blocking_call_collapses_cooperative_toward_synchronous():
    """One of 24 opponents answers with `time.sleep(56)` in its coroutine: the loop
    is held 30 × 56 = 1 680 s by it, on top of Judit's 24 × 30 × 5 = 3 600 s of
    moves. The loop never idles (every amateur waits 55 s, less than one round of
    the loop) and its last act is the blocker's last blocking call, which ends that
    game; every amateur's last answer came before it. So the makespan is the loop's
    work: 3 600 + 1 680 = 5 280 s, up from 3 655 s without the blocking call.
    Synchronous: 23 games of 30 × 60 s and one of 30 × 61 s = 43 230 s.
    Threads do not care: their block step releases the GIL like a wait, so they
    play exactly as if the blocker awaited its 56 s, and beat the blocked loop."""
    result = run(load_file(SCENARIOS / "blocking_call.yaml"))
    cooperative = result.trace("cooperative")
    workload = cooperative.workload
    held = workload.kind != WAIT
    assert (cooperative.end[held] - cooperative.start[held]).sum() == 5_280.0
    last = np.flatnonzero(held)[np.argmax(cooperative.end[held])]
    assert workload.kind[last] == BLOCK and workload.players[workload.game[last]] == "blocker"
    assert cooperative.makespan == 5_280.0
    assert result.trace("synchronous").makespan == 43_230.0
    threaded = result.trace("threaded")
    awaiting = run(with_steps_renamed(result.scenario, "block", "wait"), ["threaded"])
    assert threaded.end.tolist() == awaiting.trace("threaded").end.tolist()
    assert threaded.makespan < cooperative.makespan


def test_a_seed_gives_byte_identical_files_and_says_where_threads_were_drawn(tmp_path):
    """Threads are one draw of the OS's choices: the same seed gives the same files."""
    from typer.testing import CliRunner

    from sim.cli import app

    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(app, ["run", "io_bound", "--seed", "7", "--out", str(out)])
        assert result.exit_code == 0, result.output
        # run.json is the one file meant to differ: where and when the run happened
        outputs.append({p.name: p.read_bytes() for p in out.iterdir() if p.name != "run.json"})
    assert outputs[0] == outputs[1]
    assert "threaded: the GIL changed hands" in result.stdout and "--seed" in result.stdout


def test_a_threaded_run_too_long_to_play_is_refused_or_left_out(tmp_path, monkeypatch):
    """polgar under the GIL may switch up to 3 600 s / 5 ms + 720 host steps = 720 720
    times. Over the budget, asking for it is bad input (status 2, one line); left to
    the default schedules, it is left out with a note and the others are played."""
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.engine import threaded

    monkeypatch.setattr(threaded, "SWITCH_BUDGET", 720_719)
    listed = tmp_path / "listed.yaml"
    group = "players:\n  - {name: p, count: 24, moves: 30, host_move: 5, player_move: 55}\n"
    listed.write_text(group + "schedules: [cooperative, threaded]\n")
    result = CliRunner().invoke(app, ["run", str(listed), "--out", str(tmp_path / "a")])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{listed}: schedule threaded: up to 720 720 GIL switches")
    assert "switch_interval" in line
    default = tmp_path / "default.yaml"
    default.write_text(group)
    result, summary = sim_run(default, tmp_path / "b")
    assert "threaded left out: up to 720 720 GIL switches" in result.stdout
    assert summary["schedule"].tolist() == ["synchronous", "cooperative", "parallel"]
