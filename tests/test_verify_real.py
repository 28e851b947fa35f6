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

import sim
from sim.cli import app
from sim.engine.workload import Workload
from sim.experiment.runs import workload_of
from sim.scenario.errors import ScenarioError
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from sim.verify.virtual import games_of
from sim.verify.wallclock import (
    Model,
    auto_scale,
    check,
    counterpart,
    models_of,
    real_seconds,
    short_steps,
)
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


def test_a_model_may_be_a_schedule_the_file_does_not_list():
    """Written as `--schedule` takes it; its parameters go to the real run and the engine."""
    scenario = Scenario(host={"count": 3}, players=[{"name": "p", "host_move": 1}])
    (model,) = models_of(scenario, ["threaded(threads=2)"])
    assert (model.kind, model.label) == ("threaded", "threaded(threads=2)")
    assert model.arguments(scenario) == {"threads": 2}
    (model,) = models_of(scenario, ["{cooperative: {order: asyncio}}"])
    assert model.label == "cooperative(order=asyncio)"
    assert counterpart(model, 1.0) == Schedule.of("cooperative", order="asyncio")
    with pytest.raises(ScenarioError, match=r"expected at most host\.count"):
        models_of(scenario, ["cooperative(hosts=4)"])


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


def test_without_a_scale_the_runs_are_sized_to_about_twenty_seconds():
    """countasync's makespans are 3, 1, 1 and 3 s (synchronous, cooperative, threaded,
    parallel): 8 s a repeat, 24 s for 3, so ÷ 1.2 (24 / 20). polgar's are 12 h each for
    synchronous and parallel: ÷ 15 000 brings them to about 20 s, steps of 0.33 ms of
    CPU and 3.7 ms of sleep, both timed faithfully. A scenario that takes less than
    20 s as it is plays at its own durations, never lengthened."""

    def sized(scenario, repeat=3):
        workload, models = workload_of(scenario), models_of(scenario)
        return auto_scale(workload, models, repeat), workload, models

    assert sized(sim.load("countasync"))[0] == 1.2
    scale, workload, models = sized(sim.load("polgar"))
    assert scale == 15_000 and real_seconds(workload, models, scale, 3) <= 20
    assert not short_steps(workload, scale).short
    assert sized(Scenario(**TINY), repeat=1)[0] == 1.0


def test_the_scale_chosen_is_said(tmp_path):
    file = tmp_path / "tiny.yaml"
    file.write_text("players: [{name: p, count: 2, player_move: 0.01}]\n")
    arguments = ["verify", str(file), "--real", "--repeat", "1", "--schedule", "cooperative"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "--scale 1: the smallest that keeps the real runs to about 20 s" in result.stderr
    assert "durations ÷ 1" in result.stdout


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


# --- games that share resources, queues and fan-out ---------------------------------------

#: One connection held 50 ms by each of two games; a producer of 2 jobs (1 ms of CPU each)
#: and a consumer waiting 20 ms per job; a fan-out of 3 waits of 50 ms.
SHARING = """\
resources: {connection: 1}
queues: {jobs: {maxsize: 2}}
players:
  - {name: user, count: 2, steps: [{with: connection, steps: [{wait: 50ms}]}]}
  - {name: producer, moves: 2, steps: [{host: 1ms}, {put: jobs}]}
  - {name: consumer, serves: jobs, steps: [{wait: 20ms}]}
  - {name: fan, steps: [{gather: {count: 3, steps: [{wait: 50ms}]}}]}
"""


def shared_program(text: str = SHARING, scale: float = 1.0, patience: float = 10.0):
    from sim.scenario.loader import from_yaml
    from sim.verify.wallclock import program_of

    return program_of(Workload.of(from_yaml(text)), scale, patience)


def test_a_shared_scenario_becomes_plain_operations_and_durations():
    """Rows of a round by leaf, durations ÷ scale; the consumer's from its group's table;
    producers and consumers counted per queue; hand-out order puts the consumer last."""
    program = shared_program(scale=10)
    assert program.names == ("connection", "jobs") and program.resources == 1
    assert program.ops[0] == (
        ("acquire", 0, 0, 1),
        ("timed", 1, "wait"),
        ("release", 0, 0, 1),
    )
    assert program.ops[2][0] == ("get", 0, 1)
    assert program.ops[3] == (("gather", 0, 3, 1, (("timed", 0, "wait"),)),)
    assert program.rounds[0] == ((0.0, pytest.approx(0.005)),)
    assert program.rounds[2] == ((pytest.approx(0.0001), 0.0),) * 2
    assert program.rounds[3] is None and program.served[2] == ((0.0, pytest.approx(0.002)),) * 2
    assert (program.producers[1], program.consumers[1]) == (1, 1)
    assert program.order == (0, 1, 2, 4, 3)


@pytest.mark.parametrize("model", ["synchronous", "cooperative", "threaded", "parallel"])
def test_every_model_plays_a_shared_scenario_to_its_end(model):
    """Each game ends, the consumer after the producer's last job: the queue closed."""
    from sim.verify.players import SHARED_PLAYERS

    run = SHARED_PLAYERS[model](shared_program())
    assert len(run.game_ends) == 5
    assert run.game_ends[3] >= run.game_ends[2]  # consumer after producer


@pytest.mark.wallclock
@pytest.mark.parametrize(
    ("model", "floor", "ceiling"),
    [
        # one after another: 2 × 50 ms, 2 × 1 ms, 2 × 20 ms, 3 × 50 ms
        ("synchronous", 0.292, 0.45),
        # the connection serialises the users (100 ms); the rest overlaps
        ("cooperative", 0.1, 0.16),
        ("threaded", 0.1, 0.16),
        # one process: as synchronous
        ("parallel", 0.292, 0.45),
    ],
)
def test_shared_primitives_hold_games_back_for_real(model, floor, ceiling):
    from sim.verify.players import SHARED_PLAYERS

    run = SHARED_PLAYERS[model](shared_program())
    assert floor * 0.999 <= run.makespan < ceiling, run
    if model in ("cooperative", "threaded"):
        users = sorted(run.game_ends[:2])
        assert users[1] >= 0.1 and users[1] - users[0] >= 0.045  # one at a time
        assert run.game_ends[4] < 0.09  # the three children waited side by side


@pytest.mark.wallclock
def test_a_game_lets_the_others_in_only_where_it_suspends():
    """A producer makes 4 jobs of 10 ms into an unbounded queue; `put` never suspends
    there, so the consumer (10 ms of I/O a job) takes its first job only at 40 ms and
    ends at 80 ms, as asyncio's order plays it; a player that yielded after every host
    step would end it at 50 ms, as the tie rule does."""
    from sim.verify.players import SHARED_PLAYERS

    text = """\
queues: {jobs: {}}
players:
  - {name: producer, moves: 4, steps: [{host: 10ms}, {put: jobs}]}
  - {name: consumer, serves: jobs, steps: [{wait: 10ms}]}
"""
    run = SHARED_PLAYERS["cooperative"](shared_program(text))
    assert 0.078 <= run.game_ends[1] < 0.12, run


@pytest.mark.wallclock
def test_a_multi_unit_request_is_not_passed_for_real():
    """db has 2 units: a holds one 0–60 ms; b asks for 2 at 20 ms, c for 1 at 40 ms. c may
    not pass b although a unit is free: b 60–80 ms, c 80–100 ms, with threads as on asyncio."""
    from sim.verify.players import SHARED_PLAYERS

    text = """\
resources: {db: 2}
players:
  - {name: a, steps: [{with: db, steps: [{wait: 60ms}]}]}
  - {name: b, steps: [{wait: 20ms}, {with: {resource: db, units: 2}, steps: [{wait: 20ms}]}]}
  - {name: c, steps: [{wait: 40ms}, {with: db, steps: [{wait: 20ms}]}]}
"""
    for model in ("cooperative", "threaded"):
        ends = SHARED_PLAYERS[model](shared_program(text)).game_ends
        assert ends[1] >= 0.08 and ends[2] >= 0.1 and ends[2] - ends[1] >= 0.018, (model, ends)


def test_a_pool_of_threads_runs_children_behind_the_games_it_has_not_taken():
    """threads: 1 and a game that gathers: its child is queued behind the other game,
    which the one thread plays first; nothing waits for ever."""
    from sim.verify.players import threaded_shared

    text = """\
players:
  - {name: g, steps: [{gather: {count: 1, steps: [{wait: 1ms}]}}]}
"""
    assert len(threaded_shared(shared_program(text), threads=2).game_ends) == 1


def test_a_real_run_that_waits_for_ever_is_stopped():
    """A put into a full queue nobody takes from: the wait gives up after its patience."""
    from sim.verify.players import synchronous_shared
    from sim.verify.work import Stuck

    text = """\
queues: {jobs: {maxsize: 1}}
players:
  - {name: producer, moves: 2, steps: [{put: jobs}]}
  - {name: consumer, serves: jobs, steps: [{wait: 1ms}]}
"""
    with pytest.raises(Stuck, match=r"waited 0\.05 s for jobs"):
        synchronous_shared(shared_program(text, patience=0.05))


def test_a_model_under_which_the_engine_deadlocks_is_not_played(tmp_path):
    """The producer fills the queue before the one host can run a consumer: synchronous and
    parallel (one process) deadlock in the engine, so they are not played, and it says so."""
    file = tmp_path / "stuck.yaml"
    file.write_text(
        "queues: {jobs: {maxsize: 1}}\n"
        "players:\n"
        "  - {name: producer, moves: 3, steps: [{host: 1ms}, {put: jobs}]}\n"
        "  - {name: consumer, serves: jobs, steps: [{wait: 1ms}]}\n"
    )
    arguments = ["verify", str(file), "--real", "--scale", "1", "--repeat", "1"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "not played" in result.stdout
    assert "synchronous: not played: the engine deadlocks at 0.002 s" in result.stdout
    assert "cooperative: run 1/1" in result.stderr and "threaded: run 1/1" in result.stderr


@pytest.mark.wallclock
def test_a_job_on_an_executor_runs_on_its_worker_threads():
    """Eight jobs of 50 ms of sleep on an executor of 4 workers, then nothing: the real
    loop hands them to a `ThreadPoolExecutor(4)`, two rounds of four, at least 100 ms and
    well under the 400 ms of one worker or of the loop itself."""
    from sim.scenario.loader import from_yaml
    from sim.verify.players import cooperative_shared
    from sim.verify.wallclock import program_of

    scenario = from_yaml(
        "executors: {pool: 4}\n"
        "players: [{name: f, count: 8, steps: [{with: pool, steps: [{wait: 0.05}]}]}]\n"
    )
    run = cooperative_shared(program_of(Workload.of(scenario)))
    assert 0.1 <= run.makespan < 0.2
