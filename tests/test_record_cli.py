"""`sim record` and `python -m sim.record` on the shipped examples, scaled down.

The acceptance: the recorded scenario's cooperative makespan is within 10 % of
the recorded run's own time (both from one run, so machine load cancels), and
the blocking crawler's `time.sleep` is flagged. The acceptance holds a real run's
time against a figure, so it is marked `wallclock` (`make test-wallclock`).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.record.program import load_raw
from sim.record.scenario_file import scenario_text
from sim.record.transcript import HAS_BLOCK
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
#: 60 pages (6 of them rate-limited: numbers 3, 13, …, 53), network times × 0.1: the loop is
#: busy most of the run, as in the full-size examples, and the run takes a fraction of a second.
SMALL = ["--pages", "60", "--latency", "0.1"]
#: Seeds averaged when durations are drawn: the scenario reproduces the run in expectation.
SEEDS = range(8)


def recorded(tmp_path, script: str):
    """The raw recording of one example, as `sim record` takes it from the child."""
    raw = tmp_path / f"{script}.json"
    command = [
        sys.executable,
        "-m",
        "sim.record",
        "--raw",
        str(raw),
        str(EXAMPLES / f"{script}.py"),
    ]
    subprocess.run([*command, *SMALL], cwd=ROOT, check=True, capture_output=True)
    return load_raw(raw)


@pytest.fixture(scope="module")
def raws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    return {script: recorded(folder, script) for script in ("crawler", "blocking_crawler")}


def cooperative(text: str, seeds) -> float:
    scenario = sim.from_yaml(text)
    runs = [sim.run(scenario, ["cooperative"], seed=seed) for seed in seeds]
    return statistics.fmean(float(r.summary.makespan_s[0]) for r in runs)


@pytest.mark.wallclock
@pytest.mark.parametrize("script", ["crawler", "blocking_crawler"])
@pytest.mark.parametrize("mode", ["means", "empirical", "exact"])
def test_the_scenario_reproduces_the_recorded_run_within_10_percent(raws, script, mode):
    """The recorded run's time (first task to last step) against the scenario's cooperative
    makespan: with means or a group per task (exact), one run; with empirical
    distributions, the mean of 8 seeds."""
    options = {"deterministic": mode == "means", "exact": mode == "exact"}
    text, transcript = scenario_text(raws[script], script, **options)
    seeds = SEEDS if mode == "empirical" else range(1)
    assert cooperative(text, seeds) == pytest.approx(transcript.makespan_s, rel=0.10)
    assert ("dist: empirical" in text) is (mode == "empirical")
    groups = sim.from_yaml(text).players
    assert (len(groups) == len(raws[script].tasks)) is (mode == "exact")


def test_crawler_groups_by_coroutine_and_shape(raws):
    """crawl (the root) ×1; crawl_page ×54; the 6 rate-limited pages wait once more: ×6.
    Its crawl_page steps: start, connect, response (then parse), store, return."""
    text, transcript = scenario_text(raws["crawler"], "crawler")
    scenario = sim.from_yaml(text)
    assert [(g.name, g.count) for g in scenario.players] == [
        ("crawl", 1),
        ("crawl_page", 54),
        ("crawl_page#2", 6),
    ]
    kinds = [step.kind for step in scenario.players[1].round]
    assert kinds == ["host", "wait", "host", "wait", "host", "wait", "host"]
    assert not any(flag.blocking for flag in transcript.flags)


def test_sim_record_flags_the_blocking_call_in_the_file_and_the_output(tmp_path):
    """6 of the 60 pages sleep 0.1 s in time.sleep, before line 29's await of the response;
    those 6 are a group apart (crawl_page#2), as in crawler.py where they wait once more."""
    out = tmp_path / "blocking.yaml"
    command = [sys.executable, str(EXAMPLES / "blocking_crawler.py"), *SMALL]
    result = CliRunner().invoke(app, ["record", "-o", str(out), "--", *command])
    assert result.exit_code == 0, result.output
    text, output = out.read_text(), result.stdout
    expected = "likely blocking call: crawl_page#2 step 3, 6 of 6 task(s)"
    assert expected in output and expected in text
    assert "examples/blocking_crawler.py:29 (fetch)" in output
    assert "cooperative makespan of the scenario" in output
    assert "cooperative(order=asyncio) makespan of the scenario" in output
    assert f"wrote {out}" in output
    scenario = sim.from_yaml(text)
    assert [(g.name, g.count) for g in scenario.players] == [
        ("crawl", 1),
        ("crawl_page", 54),
        ("crawl_page#2", 6),
    ]
    kinds = [step.kind for step in scenario.players[2].round]
    middle = ["host", "block"] if HAS_BLOCK else ["host"]
    assert kinds == ["host", "wait", *middle, "wait", "host", "wait", "host"]


def test_python_m_sim_record_writes_the_scenario_too(tmp_path):
    out = tmp_path / "c.yaml"
    script = EXAMPLES / "crawler.py"
    command = [sys.executable, "-m", "sim.record", "-o", str(out), "--deterministic"]
    done = subprocess.run(
        [*command, str(script), "--pages", "10"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "crawled 10 pages" in done.stdout and f"wrote {out}" in done.stderr
    assert sim.from_yaml(out.read_text()).players[1].name == "crawl_page"


@pytest.mark.parametrize(
    ("command", "status", "message"),
    [
        (["ls", "-l"], 2, "expected a Python program"),
        ([sys.executable, "-c", "print(1)"], 2, "cannot be recorded"),
        (["--threshold", "soon", "--", "python", "x.py"], 2, "--threshold"),
    ],
)
def test_what_cannot_be_recorded_is_bad_input(tmp_path, command, status, message):
    options = [] if command[0] == "--threshold" else ["--"]
    result = CliRunner().invoke(app, ["record", "-o", str(tmp_path / "x.yaml"), *options, *command])
    assert result.exit_code == status and message in result.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_a_failing_program_that_ran_nothing_to_write_writes_nothing(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import asyncio\nasyncio.run(asyncio.sleep(0))\nraise SystemExit(4)\n")
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(app, ["record", "-o", str(out), "--", sys.executable, str(script)])
    assert result.exit_code == 4 and "exited with status 4" in result.stderr
    assert not out.exists()


SERVER = """
import asyncio, os, signal

async def serve():
    while True:
        await asyncio.sleep(0.01)

async def main():
    asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGINT)
    await asyncio.gather(serve(), serve())

asyncio.run(main())
"""


def test_a_program_stopped_by_ctrl_c_is_recorded_up_to_then(tmp_path):
    """A server runs until Ctrl-C (here it sends SIGINT to itself after 0.2 s): asyncio.run
    cancels it and closes the loop, and the two `serve` tasks main gathered are a gather
    block of main's round."""
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    out = tmp_path / "server.yaml"
    command = ["record", "-o", str(out), "--", sys.executable, str(script)]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "interrupted; writing what it ran until then" in result.stderr
    (main,) = sim.from_yaml(out.read_text()).players
    assert main.name == "main" and main.count == 1
    (gather,) = [step for step in main.round if step.kind == "gather"]
    assert gather.gather.count == 2


def test_a_script_alone_is_run_on_this_sims_python(tmp_path):
    """`sim record app.py args` is `sim record -- python app.py args`."""
    script = tmp_path / "two.py"
    script.write_text(
        "import asyncio, sys\n"
        "async def nap():\n"
        "    await asyncio.sleep(0.01)\n"
        "async def main(n):\n"
        "    await asyncio.gather(*(nap() for _ in range(n)))\n"
        "asyncio.run(main(int(sys.argv[1])))\n"
    )
    out = tmp_path / "two.yaml"
    result = CliRunner().invoke(app, ["record", "-o", str(out), str(script), "3"])
    assert result.exit_code == 0, result.output
    scenario = sim.from_yaml(out.read_text())
    assert scenario.description == f"recorded from {script} 3"
    assert scenario.players[0].steps[1].gather.count == 3  # main's gather of its 3 naps


def test_a_script_alone_that_is_not_there_is_bad_input(tmp_path):
    result = CliRunner().invoke(app, ["record", "-o", str(tmp_path / "x.yaml"), "gone.py"])
    assert result.exit_code == 2 and "no such file: gone.py" in result.stderr
