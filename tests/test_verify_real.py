"""`sim verify --real`: the mechanism of the wall-clock check, on a tiny scenario.

A smoke test, not a measurement: real runs can only be slower than the work
they do (CPU time is burnt to the full, sleeps never return early), so the
lower bounds are tight; the upper bounds are generous and leave out the time
a run queued for a CPU behind other work, since the machine may be busy. The
figures themselves are measured by `bench/verify.py`. The tests that hold a real
run's time against a figure are marked `wallclock` (`make test-wallclock`).
"""

from __future__ import annotations

import math
import sys
import time

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.engine.workload import Workload
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from sim.verify.virtual import games_of
from sim.verify.wallclock import Model, check, counterpart, models_of
from sim.verify.work import burn

#: 4 games of one round, host 0.02 s then wait 1 s; played ÷ 10: 2 ms of CPU, 100 ms asleep.
TINY = {
    "name": "tiny",
    "players": [{"name": "p", "count": 4, "host_move": 0.02, "player_move": 1}],
    "schedules": ["synchronous", "cooperative"],
}
GENEROUS = 1.5


@pytest.fixture(scope="module")
def rows():
    scenario = Scenario(**TINY)
    return {row.model.kind: row for row in check(Workload.of(scenario), models_of(scenario), 10, 1)}


@pytest.mark.wallclock
def test_each_model_is_played_and_scaled_back(rows):
    """Synchronous 4 × (0.02 + 1) = 4.08 s; cooperative 4 × 0.02 + 1 = 1.08 s (the host's
    moves, then the last game's wait). Threaded: the GIL serialises the same 0.08 s of
    CPU while the waits overlap, so at least 1.02 s (one game) and about 1.08 s. Parallel
    on one process (host.count 1) is synchronous: 4.08 s."""
    assert list(rows) == ["synchronous", "cooperative", "threaded", "parallel"]
    expected = {"synchronous": 4.08, "cooperative": 1.08, "threaded": 1.08, "parallel": 4.08}
    floor = {**expected, "threaded": 1.02}
    for kind, row in rows.items():
        assert floor[kind] * 0.999 <= row.measured, (kind, row)
        assert row.measured - _waited(row) <= expected[kind] * GENEROUS, (kind, row)
        assert len(row.runs) == 1 and len(row.runs[0].game_ends) == 4
        if sys.platform.startswith("linux"):  # the scheduler's statistics say how long
            assert 0 <= row.cpu_wait < row.measured * 4  # each thread or worker queued


def _waited(row) -> float:
    """Time (× scale) the run queued for a CPU behind other work: a busy machine's share."""
    return 0.0 if math.isnan(row.cpu_wait) else row.cpu_wait


@pytest.mark.wallclock
def test_the_engine_figure_stands_beside_the_schedules_it_has(rows):
    """4.08 s and 1.08 s from the engine; the error is (real − simulated) / simulated."""
    assert rows["synchronous"].simulated == pytest.approx(4.08)
    assert rows["cooperative"].simulated == pytest.approx(1.08)
    for row in (rows["synchronous"], rows["cooperative"]):
        assert row.error == pytest.approx((row.measured - row.simulated) / row.simulated)
        assert row.error > -0.001
        assert (row.measured - _waited(row) - row.simulated) / row.simulated < GENEROUS - 1


@pytest.mark.wallclock
def test_synchronous_games_end_one_after_another(rows):
    """Game i ends at (i + 1) × 1.02 s: each waits for the one before it."""
    ends = [end * 10 for end in rows["synchronous"].runs[0].game_ends]
    for i, end in enumerate(ends):
        assert end >= (i + 1) * 1.02 * 0.999
    assert ends == sorted(ends)


def test_durations_are_divided_by_the_scale_and_kinds_kept_by_name():
    workload = Workload.of(Scenario(**TINY))
    games = games_of(workload, 10)
    assert len(games) == 4
    assert games[0] == [("host", pytest.approx(0.002)), ("wait", pytest.approx(0.1))]


def test_models_come_from_the_scenario_then_defaults():
    """The file's schedules keep their labels; the missing models follow with defaults;
    parallel is sized by host.count (3 here)."""
    scenario = Scenario(host={"count": 3}, players=[{"name": "p", "host_move": 1}])
    models = models_of(scenario)
    assert [m.kind for m in models] == ["synchronous", "cooperative", "threaded", "parallel"]
    assert models[3].arguments(scenario) == {"processes": 3}
    assert models[2].arguments(scenario) == {"threads": None}
    assert models[0].arguments(scenario) == {"hosts": 3}
    assert [m.label for m in models_of(scenario, ["parallel", "cooperative"])] == [
        "parallel",
        "cooperative",
    ]
    with pytest.raises(ValueError, match="unknown execution model 'fibres'"):
        models_of(scenario, ["fibres"])


def test_the_counterpart_keeps_the_schedule_the_engine_has():
    models = {m.kind: m for m in models_of(Scenario(**TINY))}
    assert counterpart(models["cooperative"], 100) == Schedule.of("cooperative")


def test_burn_uses_at_least_its_duration_of_the_thread_s_own_cpu_time():
    began = time.thread_time()
    burn(0.01)
    assert time.thread_time() - began >= 0.01


def test_cli_real_prints_the_table_and_fails_past_the_tolerance(tmp_path):
    """Only cooperative, one run: 1.08 s simulated. A tolerance of 0 cannot be met (a real
    run always takes some overhead), so the command says which model and exits 1."""
    file = tmp_path / "tiny.yaml"
    file.write_text(
        "players: [{name: p, count: 4, host_move: 0.02, player_move: 1}]\n"
        "schedules: [cooperative]\n"
    )
    arguments = ["verify", str(file), "--real", "--scale", "10", "--repeat", "1"]
    result = CliRunner().invoke(app, [*arguments, "--schedule", "cooperative"])
    assert result.exit_code == 0, result.output
    assert "durations ÷ 10" in result.stdout and "1.08 s" in result.stdout
    assert "load average" in result.stdout
    failed = CliRunner().invoke(app, [*arguments, "--schedule", "cooperative", "--tolerance", "0"])
    assert failed.exit_code == 1
    assert "cooperative: real" in failed.stderr and "off the simulated 1.08 s" in failed.stderr


@pytest.mark.wallclock
def test_a_block_step_holds_the_loop_but_not_a_thread():
    """Two games of one blocking call of 50 ms (`block`, a `time.sleep`). On one loop the
    second waits for the first: at least 2 × 50 ms. In threads they overlap: 50 ms and
    some, well under the 100 ms of playing them one after another."""
    from sim.verify.players import cooperative, threaded

    games = [[("block", 0.05)], [("block", 0.05)]]
    assert cooperative(games).makespan >= 0.1
    assert 0.05 <= threaded(games).makespan < 0.1


def test_notes_say_how_the_figures_were_taken_and_what_the_machine_lacks():
    """Scale 100, switch interval 5 ms → simulated with 500 ms; 4 096 hosts is more CPUs
    than this machine has; threaded has no engine figure in this row."""
    import os

    from sim.verify.findings import real_notes
    from sim.verify.players import Run
    from sim.verify.wallclock import Model, RealRow

    scenario = Scenario(host={"count": 4096}, players=[{"name": "p", "host_move": 1}])
    rows = [RealRow(Model("threaded", "threaded"), 100, (Run((0.5,)), Run((0.7,))), None)]
    notes = real_notes(scenario, rows, 0.005, (1.5, 1.0, 0.5))
    text = "\n".join(notes)
    assert "the median of 2 run(s), each makespan × 100" in text
    assert "5 ms in the scaled run" in text and "simulated with 500 ms" in text
    assert f"load average 1.50, 1.00, 0.50 on {os.cpu_count()} CPUs" in text
    assert f"4096 hosts but this machine {os.cpu_count()} CPUs" in text
    assert "threaded: the engine has no such schedule yet" in text
    assert rows[0].measured == pytest.approx(60.0)  # median of 50 and 70


@pytest.mark.wallclock
@pytest.mark.parametrize("player", ["synchronous", "cooperative", "parallel"])
def test_two_hosts_play_two_steps_at_a_time(player):
    """Four 0.2 s blocking calls on two hosts (a pool of two processes): two waves of
    two. So at least 0.4 s, well under the 0.8 s of one host doing all four, and the
    second wave ends a whole call after the first (slack for a busy machine)."""
    from sim.verify.players import PLAYERS

    size = {"parallel": "processes"}.get(player, "hosts")
    run = PLAYERS[player]([[("block", 0.2)]] * 4, **{size: 2})
    ends = sorted(run.game_ends)
    assert 0.4 <= run.makespan < 0.7
    assert ends[2] >= 0.4 and ends[1] < ends[2] - 0.1


def test_the_real_run_is_simulated_on_the_cpus_it_had():
    """cpu_bound (8 tasks × 1 s, host.count 4) played for real on 2 CPUs: the 4 processes
    share 2 CPUs, so the engine gets 2 hosts and gives 8 × 1 s / 2 = 4 s (start cost 0 in
    a real run), not 8 / 4 = 2 s; a schedule's own `hosts` is capped too."""
    from sim.engine import play
    from sim.scenario.catalog import find
    from sim.scenario.loader import load_file
    from sim.verify.wallclock import on_this_machine

    scenario = load_file(find("cpu_bound"))
    here = on_this_machine(Workload.of(scenario), cpus=2)
    assert here.scenario.host.count == 2
    assert on_this_machine(Workload.of(scenario), cpus=8).scenario.host.count == 4
    models = {m.label: m for m in models_of(scenario)}
    parallel = counterpart(models["parallel(processes=4, start_cost=50ms)"], 10, cpus=2)
    assert play(here, parallel, None).makespan == pytest.approx(4.0)
    wide = Model("cooperative", "cooperative(hosts=3)", {"hosts": 3})
    assert counterpart(wide, 1, cpus=2) == Schedule.of("cooperative", hosts=2)


@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(),
    reason="a free-threaded Python has no GIL for threaded(gil=false) to share: "
    "there the counterpart keeps gil=false",
)
def test_threads_without_the_gil_are_simulated_with_it_on_a_python_that_has_one():
    """cpu_bound's threaded(gil=false) run really shares CPython's GIL here, so its
    counterpart is the threaded schedule with the GIL (the same switch interval)."""
    scenario = Scenario(**{**TINY, "schedules": [{"threaded": {"gil": False}}]})
    model = models_of(scenario, ["threaded(gil=false)"])[0]
    assert counterpart(model, 100).params.gil is True
