"""Prediction, not replay: the examples recorded at one size, played at another, run for real.

Each example waits on other tasks (a semaphore, a queue, an executor, gathers);
scaled down here so a run takes a fraction of a second. The recorded
scenario must reproduce the recorded run (the same run: machine load
cancels), and with twice the limit it must predict the real program run
with twice the limit (median of three runs), each played in asyncio's order,
the recorded program's own schedule. Both hold a real run's time against a
figure, so they are marked `wallclock` (`make test-wallclock`).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys

import pytest

import sim
from sim.record.program import load_raw
from sim.record.scenario_file import scenario_text
from tests.conftest import ROOT

TIME = re.compile(r"in ([0-9.]+) s")
#: example: (its arguments at the recorded size, the limit's argument and value, the path of
#: the limit in the recorded scenario)
EXAMPLES = {
    "crawler_limited": (
        ["--pages", "60", "--network", "20", "--parse", "1"],
        ("--limit", 6),
        "resources.connections",
    ),
    "pipeline": (["--jobs", "60"], ("--workers", 3), "players.consumer.count"),
    "executor_pool": (["--files", "24"], ("--workers", 3), "executors.pool"),
    "chained": (["--requests", "30"], ("--limit", 3), "resources.db"),
}
SEEDS = range(5)
ASYNCIO_ORDER = sim.Schedule.of("cooperative", order="asyncio")


def real(script: str, args: list[str]) -> float:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{script}.py"), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(TIME.search(done.stdout)[1])


def played(scenario: sim.Scenario) -> float:
    runs = [sim.run(scenario, [ASYNCIO_ORDER], seed=seed) for seed in SEEDS]
    return statistics.fmean(float(r.summary.makespan_s.iloc[0]) for r in runs)


@pytest.mark.wallclock
@pytest.mark.parametrize("script", list(EXAMPLES))
def test_the_recorded_scenario_predicts_the_program_with_twice_the_limit(tmp_path, script):
    args, (flag, limit), path = EXAMPLES[script]
    raw_file = tmp_path / "raw.json"
    command = [sys.executable, "-m", "sim.record", "--raw", str(raw_file)]
    program = [str(ROOT / "examples" / f"{script}.py"), *args, flag, str(limit)]
    subprocess.run([*command, *program], cwd=ROOT, check=True, capture_output=True)
    text, transcript = scenario_text(load_raw(raw_file), script)
    scenario = sim.from_yaml(text)
    tolerance = 0.10
    assert played(scenario) == pytest.approx(transcript.makespan_s, rel=tolerance)
    doubled = sim.with_values(scenario, {path: 2 * limit})
    measured = statistics.median(real(script, [*args, flag, str(2 * limit)]) for _ in range(3))
    assert played(doubled) == pytest.approx(measured, rel=tolerance)
