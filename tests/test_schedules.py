"""Schedules with parameters: how files spell them, how tables label them, bad ones."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import from_yaml, schedule_from_text
from sim.scenario.schedules import Schedule

GROUP = "players:\n  - {name: a, count: 2, host_move: 1}\n"


def test_a_schedule_is_a_name_or_a_mapping_with_parameters_in_the_files_unit():
    """`unit: ms`: bare 50 is 50 ms = 0.05 s, strings keep their own unit."""
    scenario = from_yaml(
        "unit: ms\nhost: {count: 4, switch_cost: 2}\n" + GROUP + "schedules:\n"
        "  - synchronous\n"
        "  - cooperative: {hosts: 1}\n"
        "  - threaded\n"
        "  - threaded: {threads: 8, switch_interval: 50}\n"
        "  - threaded: {gil: false}\n"
        "  - parallel: {processes: 4, start_cost: 1.5s}\n"
    )
    assert [schedule.label for schedule in scenario.schedules] == [
        "synchronous",
        "cooperative(hosts=1)",
        "threaded",
        "threaded(threads=8, switch_interval=50ms)",
        "threaded(gil=false)",
        "parallel(processes=4, start_cost=1.5s)",
    ]
    assert scenario.schedules[3].threaded.switch_interval == pytest.approx(0.05)
    assert scenario.schedules[5].parallel.start_cost == 1.5
    assert scenario.host.switch_cost == pytest.approx(0.002)


def test_defaults_are_cpythons():
    """One thread per game, the GIL on, `sys.getswitchinterval()` = 5 ms; a process per host."""
    threaded = Schedule.of("threaded").threaded
    assert (threaded.threads, threaded.gil, threaded.switch_interval) == (None, True, 0.005)
    assert Schedule.of("parallel").parallel.processes is None
    assert Schedule.of("parallel").parallel.start_cost == 0.0


def test_without_a_schedules_list_every_model_is_played():
    assert [s.label for s in from_yaml(GROUP).schedules] == [
        "synchronous",
        "cooperative",
        "threaded",
        "parallel",
    ]


BAD = {
    "threads: 0": ("threaded: {threads: 0}", "schedules[0].threaded.threads", "≥ 1, got 0"),
    "misspelt parameter": (
        "threaded: {thread: 8}",
        "schedules[0].threaded.thread",
        "unknown threaded parameter 'thread' (did you mean 'threads'?)",
    ),
    "zero interval": (
        "threaded: {switch_interval: 0}",
        "schedules[0].threaded.switch_interval",
        "expected a duration > 0",
    ),
    "fractional processes": (
        "parallel: {processes: 2.5}",
        "schedules[0].parallel.processes",
        "expected a whole number, got 2.5",
    ),
    "more hosts than the scenario": (
        "synchronous: {hosts: 3}",
        "schedules[0].synchronous.hosts",
        "expected at most host.count (2), got 3",
    ),
    "not a boolean": (
        'threaded: {gil: "maybe"}',
        "schedules[0].threaded.gil",
        'expected true or false, got "maybe"',
    ),
    "unknown schedule": ("mutex", "schedules[0]", "unknown schedule 'mutex'"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_schedule_is_one_line_naming_file_line_and_parameter(case, tmp_path):
    schedule, path, words = BAD[case]
    file = tmp_path / "x.yaml"
    file.write_text("host: {count: 2}\n" + GROUP + f"schedules:\n  - {schedule}\n")
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{file}:5: {path}: ") and words in line, line


def test_one_kind_twice_needs_different_parameters(tmp_path):
    """Two schedules with the same label could not be told apart in the tables."""
    file = tmp_path / "x.yaml"
    file.write_text(GROUP + "schedules:\n  - threaded\n  - threaded: {switch_interval: 5ms}\n")
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2
    assert "schedule 'threaded' appears twice" in result.stderr


def test_the_command_line_picks_schedules_by_label_or_kind(tmp_path):
    """`--schedule` takes a label from the file or any kind with default parameters."""
    file = tmp_path / "x.yaml"
    file.write_text(GROUP + "schedules:\n  - threaded: {threads: 1}\n")
    out = tmp_path / "o"
    picks = ["--schedule", "threaded(threads=1)", "--schedule", "parallel"]
    result = CliRunner().invoke(app, ["run", str(file), *picks, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "threaded(threads=1)" in result.stdout and "parallel" in result.stdout


def _summary(tmp_path, file, *picks: str) -> dict[str, float]:
    """Each schedule's makespan from summary.csv of `sim run file --schedule …`."""
    out = tmp_path / "o"
    arguments = ["run", str(file), "--out", str(out), "--no-plots", "--force"]
    result = CliRunner().invoke(app, [*arguments, *(a for p in picks for a in ("--schedule", p))])
    assert result.exit_code == 0, result.output
    with (out / "summary.csv").open(newline="") as rows:
        return {row["schedule"]: float(row["makespan_s"]) for row in csv.DictReader(rows)}


def test_a_schedule_the_file_does_not_list_can_be_written_out_on_the_command_line(tmp_path):
    """As the tables label it or as a file writes it, bare numbers in the file's unit:
    two games of 1 ms of Python, one thread plays them one after the other (2 ms), two
    processes on two CPUs side by side (1 ms)."""
    file = tmp_path / "x.yaml"
    file.write_text("unit: ms\nhost: {count: 2}\n" + GROUP)
    found = _summary(
        tmp_path, file, "threaded(threads=1, switch_interval=2)", "{parallel: {processes: 2}}"
    )
    assert found == {
        "threaded(threads=1, switch_interval=2ms)": 0.002,
        "parallel(processes=2)": 0.001,
    }


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("threaded(threads=0)", "threaded(threads=0): threaded.threads: expected a number ≥ 1"),
        ("cooperative(hosts=3)", "cooperative.hosts: expected at most host.count (2), got 3"),
        ("{cooperativ: {}}", "unknown schedule 'cooperativ' (did you mean 'cooperative'?)"),
        ("threaded(threads)", "threaded: expected name=value between the parentheses"),
        ("threaded(threads=[)", "--schedule threaded(threads=[):1: not valid YAML"),
    ],
)
def test_a_schedule_written_out_wrong_is_bad_input_naming_it(tmp_path, written, words):
    file = tmp_path / "x.yaml"
    file.write_text("host: {count: 2}\n" + GROUP)
    result = CliRunner().invoke(app, ["run", str(file), "--schedule", written])
    assert result.exit_code == 2
    assert f"--schedule {written}" in result.stderr and words in result.stderr, result.stderr


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule.of("synchronous", hosts=1),
        Schedule.of("cooperative", order="asyncio"),
        Schedule.of("cooperative", hosts=2),
        Schedule.of("threaded", threads=8, gil=False, switch_interval=0.005),
        Schedule.of("threaded", switch_interval=0.25),
        Schedule.of("parallel", processes=4, start_cost=0.05),
    ],
    ids=lambda schedule: schedule.label,
)
def test_every_label_reads_back_as_its_schedule(schedule):
    scenario = from_yaml("host: {count: 4}\n" + GROUP)
    assert schedule_from_text(scenario, schedule.label) == schedule


def test_code_names_schedules_as_the_command_line_does():
    """`sim.run(…, schedules=[…])` takes the same text as `--schedule`; a mistake is a
    ScenarioError naming it, not pydantic's."""
    scenario = from_yaml("unit: ms\nhost: {count: 2}\n" + GROUP)
    written = sim.run(scenario, schedules=["threaded(threads=1, gil=false)", "cooperative"])
    built = sim.run(scenario, schedules=[Schedule.of("threaded", threads=1, gil=False)])
    assert list(written.summary["schedule"]) == ["threaded(threads=1, gil=false)", "cooperative"]
    assert written.summary["makespan_s"].iloc[0] == built.summary["makespan_s"].iloc[0] == 0.002
    with pytest.raises(ScenarioError, match=r"schedule cooperative\(hosts=3\): cooperative.hosts"):
        sim.run(scenario, schedules=["cooperative(hosts=3)"])
