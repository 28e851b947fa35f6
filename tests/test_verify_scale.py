"""`sim verify --real` with a scale that cannot work: refused before the runs, or warned of.

A scale too small makes the real runs last years: the estimate (the engine's
makespans ÷ scale) is over `--max-time`, and nothing is played. A scale too
large makes the steps shorter than a real run can time: the command warns,
and with `--tolerance` fails. None of these tests compares with the wall clock:
the real runs they allow last microseconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.engine.workload import Workload
from sim.experiment.runs import workload_of
from sim.scenario.loader import from_yaml, load
from sim.verify import players, wallclock
from sim.verify.wallclock import MAX_REAL_S, Model, models_of, real_seconds, short_steps
from tests.conftest import SCENARIOS


@pytest.fixture
def nothing_real(monkeypatch):
    """Any real run fails the test: a refusal must come before the first."""

    def played(*args, **kwargs):
        raise AssertionError("a real run was started")

    monkeypatch.setattr(wallclock, "check", played)


def test_a_scale_that_makes_the_runs_last_years_is_refused_before_any(nothing_real):
    """Before: `--scale 1e-9` began runs that would last millions of years, silently."""
    result = CliRunner().invoke(app, ["verify", "polgar", "--real", "--scale", "1e-9"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("--scale 1e-09: the real runs would take about ")
    assert "years (4 model(s) × 3 run(s)" in line and "over the limit of 10 min" in line
    assert "give --scale 470 or more" in line and "--max-time" in line


def test_the_default_limit_is_ten_minutes_and_max_time_moves_it(nothing_real):
    """countasync ÷ 10: 3 + 1 + 1 + 3 s of makespans, three times: about 2.4 s of runs."""
    assert MAX_REAL_S == 600
    command = ["verify", "countasync", "--real", "--scale", "10", "--max-time", "2s"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert "would take about 2.4 s" in result.stderr and "over the limit of 2 s" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "--max-time: expected a duration"),
        ("0", "--max-time: expected a duration > 0"),
    ],
)
def test_a_bad_max_time_is_bad_input(value, message):
    result = CliRunner().invoke(app, ["verify", "polgar", "--real", "--max-time", value])
    assert result.exit_code == 2 and result.stderr.startswith(message)


def test_max_time_is_only_for_real_runs():
    result = CliRunner().invoke(app, ["verify", "polgar", "--max-time", "1h"])
    assert result.exit_code == 2 and "--max-time: only with --real" in result.stderr


def test_the_estimate_is_the_engine_s_makespans_divided_by_the_scale_times_the_runs():
    scenario = load(SCENARIOS / "polgar.yaml")
    workload = Workload.of(scenario)
    by_kind = {model.kind: model for model in models_of(scenario)}
    chosen = [by_kind["synchronous"], by_kind["cooperative"]]
    assert real_seconds(workload, chosen, 100, 3) == pytest.approx((43_200 + 3_655) / 100 * 3)


def test_the_threaded_estimate_stays_cheap_at_any_scale():
    """At ÷ 1e-9 a real switch interval of 5 ms is 5 ps of the scenario: the engine would
    refuse that many switches. The estimate takes the interval of ÷ 100 instead."""
    scenario = load(SCENARIOS / "polgar.yaml")
    threaded = Model("threaded", "threaded")
    seconds = real_seconds(Workload.of(scenario), [threaded], 1e-9, 1)
    assert 3_600e9 < seconds < 4_500e9


def test_a_model_the_engine_finds_deadlocked_adds_nothing():
    """A real run of a deadlocking model is not played: it costs no time."""
    text = (
        "resources: {a: 1, b: 1}\n"
        "players:\n"
        "  - {name: x, steps: [{with: a, steps: [{wait: 1}, {with: b, steps: [{host: 1}]}]}]}\n"
        "  - {name: y, steps: [{with: b, steps: [{wait: 1}, {with: a, steps: [{host: 1}]}]}]}\n"
        "schedules: [cooperative]\n"
    )
    workload = Workload.of(from_yaml(text))
    assert real_seconds(workload, [Model("cooperative", "cooperative")], 1, 3) == 0


def test_short_steps_are_counted_by_kind_and_zero_steps_left_out():
    """countasync: 3 waits of 1 s (and host steps of 0). ÷ 100: 10 ms, timed faithfully;
    ÷ 100 000: 10 µs, under the 2 ms a sleep needs; 1 s / 2 ms = ÷ 500 at most."""
    workload = workload_of(load(SCENARIOS / "countasync.yaml"))
    assert short_steps(workload, 100).short == 0 and not short_steps(workload, 100).too_many
    short = short_steps(workload, 1e5)
    assert (short.short, short.timed, short.too_many) == (3, 3, True)
    assert short.shortest == pytest.approx(1e-5) and short.largest_scale == pytest.approx(500)


def test_a_host_step_is_timed_faithfully_far_shorter_than_a_sleep():
    """1 ms of CPU work ÷ 5 is 200 µs, over the 100 µs CPU work needs; 1 ms of sleep
    ÷ 5 is under the 2 ms a sleep needs."""
    cpu = workload_of(from_yaml("players: [{name: p, steps: [{host: 1ms}]}]"))
    sleep = workload_of(from_yaml("players: [{name: p, steps: [{wait: 1ms}]}]"))
    assert short_steps(cpu, 5).short == 0 and short_steps(sleep, 5).short == 1


def test_a_consumer_s_rounds_are_counted_too():
    text = (
        "queues: {jobs: {maxsize: 2}}\n"
        "players:\n"
        "  - {name: producer, moves: 4, steps: [{host: 1}, {put: jobs}]}\n"
        "  - {name: consumer, serves: jobs, steps: [{wait: 1}]}\n"
    )
    short = short_steps(workload_of(from_yaml(text)), 1e4)  # 1 s ÷ 10⁴ = 100 µs
    assert (short.short, short.timed) == (4, 8)  # the consumer's 4 waits; the hosts are fine


def test_steps_too_short_to_time_are_warned_of_and_fail_a_tolerance():
    """Before: `--scale 1e5` reported errors of +1 000 % and more with exit 0. Played for
    real, but only one model once, of three 10 µs waits."""
    command = ["verify", "countasync", "--real", "--scale", "1e5", "--schedule", "cooperative"]
    command += ["--repeat", "1"]
    warned = CliRunner().invoke(app, command)
    assert warned.exit_code == 0, warned.output
    first = warned.stderr.splitlines()[0]
    assert first.startswith("warning: 3 of 3 steps are shorter, divided by --scale 100000,")
    assert "(100 µs of CPU work, 2 ms of sleep; the shortest is 10 µs)" in first
    assert first.endswith("--scale 500 or less times most steps faithfully")
    failed = CliRunner().invoke(app, [*command, "--tolerance", "1e9"])  # any error is within
    assert failed.exit_code == 1
    assert "--tolerance 1e+09: not met: 3 of 3 steps were shorter" in failed.stderr


class Stop(BaseException):
    """What Ctrl-C raises in `sim`: a BaseException that asyncio sets on the task."""


def test_an_interrupt_ends_a_cooperative_real_run_at_once(monkeypatch):
    """Eight games ready to run, a host step each. The first is interrupted: before,
    asyncio ran the seven others' steps (whole seconds at a small scale) before the
    run ended; now none of them."""
    begun: list[float] = []

    def step(kind: str, seconds: float) -> None:
        begun.append(seconds)
        if len(begun) == 1:
            signal.raise_signal(signal.SIGUSR1)  # Ctrl-C, in the middle of the first step

    def interrupt(signum, frame):
        raise Stop

    monkeypatch.setattr(players, "do_step", step)
    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        with pytest.raises(Stop):
            players.cooperative([[("host", 1.0)] for _ in range(8)])
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(begun) == 1  # the interrupted step; no other began


@pytest.mark.wallclock
def test_an_interrupt_ends_a_real_run_on_several_hosts_at_once(tmp_path):
    """Two hosts: the host steps run in a pool of processes. Before, Ctrl-C waited for
    the steps the workers were on (4 s each here: 6 s); now the workers are killed."""
    scenario = tmp_path / "long.yaml"
    scenario.write_text(
        "name: long\nhost: {count: 2}\n"
        "players: [{name: p, count: 4, moves: 1, steps: [{host: 4s}]}]\n"
        "schedules: [cooperative]\n"
    )
    command = [sys.executable, "-m", "sim", "verify", str(scenario), "--real", "--scale", "1",
               "--repeat", "1", "--schedule", "cooperative"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)  # fmt: skip
    try:
        time.sleep(2.5)  # the pool is up and its workers are in their first steps
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        waited = time.monotonic() - sent
    finally:
        process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert waited < 2.0
