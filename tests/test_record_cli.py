"""`sim record` and `python -m sim.record` on the shipped examples, scaled down.

The acceptance: the recorded scenario's cooperative makespan is within 10 % of
the recorded run's own time (both from one run, so machine load cancels), and
the blocking crawler's `time.sleep` is flagged.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.record.transcript import HAS_BLOCK
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
#: 40 pages (4 of them rate-limited: numbers 3, 13, 23, 33), network times × 0.2.
SMALL = ["--pages", "40", "--latency", "0.2"]


def record(tmp_path, script: str, *options: str):
    out = tmp_path / f"{script}.yaml"
    command = [sys.executable, str(EXAMPLES / f"{script}.py"), *SMALL]
    result = CliRunner().invoke(app, ["record", "-o", str(out), *options, "--", *command])
    assert result.exit_code == 0, result.output
    return out.read_text(), result.stdout


def recorded_makespan(text: str) -> float:
    return float(re.search(r"([0-9.]+) s from the first task to the last step", text)[1])


def cooperative(text: str) -> float:
    return float(sim.run(sim.Scenario.from_yaml(text), ["cooperative"]).summary.makespan_s[0])


@pytest.fixture(scope="module")
def crawler(tmp_path_factory):
    return record(tmp_path_factory.mktemp("crawler"), "crawler", "--deterministic")


@pytest.fixture(scope="module")
def blocking(tmp_path_factory):
    return record(tmp_path_factory.mktemp("blocking"), "blocking_crawler", "--deterministic")


def test_crawler_groups_by_coroutine_and_shape(crawler):
    """crawl (the root) ×1; crawl_page ×36; the 4 rate-limited pages wait once more: ×4."""
    scenario = sim.Scenario.from_yaml(crawler[0])
    assert [(g.name, g.count) for g in scenario.players] == [
        ("crawl", 1),
        ("crawl_page", 36),
        ("crawl_page#2", 4),
    ]
    kinds = [step.kind for step in scenario.players[1].round]
    assert kinds == ["host", "wait", "host", "wait", "host", "wait", "host"]
    assert "likely blocking" not in crawler[0]


@pytest.mark.parametrize("which", ["crawler", "blocking"])
def test_the_scenario_reproduces_the_recorded_run_within_10_percent(which, request):
    text, _ = request.getfixturevalue(which)
    measured = recorded_makespan(text)
    assert cooperative(text) == pytest.approx(measured, rel=0.10)


def test_the_blocking_call_is_flagged_in_the_file_and_the_output(blocking):
    """4 of the 40 pages sleep 0.1 s in time.sleep, before line 29's await of the response;
    those 4 are a group apart (crawl_page#2), as in crawler.py where they wait once more."""
    text, output = blocking
    expected = "likely blocking call: crawl_page#2 step 3, 4 of 4 task(s)"
    assert expected in output and expected in text
    assert "examples/blocking_crawler.py:29 (fetch)" in output
    scenario = sim.Scenario.from_yaml(text)
    assert [(g.name, g.count) for g in scenario.players] == [
        ("crawl", 1),
        ("crawl_page", 36),
        ("crawl_page#2", 4),
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
    assert sim.Scenario.from_yaml(out.read_text()).players[1].name == "crawl_page"


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


def test_a_failing_program_writes_nothing(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import asyncio\nasyncio.run(asyncio.sleep(0))\nraise SystemExit(4)\n")
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(app, ["record", "-o", str(out), "--", sys.executable, str(script)])
    assert result.exit_code == 1 and "exited with status 4" in result.stderr
    assert not out.exists()
