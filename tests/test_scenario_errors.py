"""Bad scenarios: one line per problem (file, line, field path, what was expected), status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

GOOD_GROUP = "players:\n  - name: a\n    count: 2\n    host_move: 1\n    player_move: 2\n"

CASES = {
    # name: (file text, the line, the path, words the message must hold)
    "wrong field": (
        "players:\n  - name: a\n    host_mvoe: 5\n",
        3,
        "players[0].host_mvoe",
        ["unknown field", "did you mean 'host_move'"],
    ),
    "wrong type": (
        "players:\n  - name: a\n    count: lots\n    host_move: 1\n",
        3,
        "players[0].count",
        ['expected a whole number, got "lots"'],
    ),
    "fractional count": (
        "players:\n  - name: a\n    moves: 2.5\n    host_move: 1\n",
        3,
        "players[0].moves",
        ["expected a whole number, got 2.5"],
    ),
    "bad duration": (
        "players:\n  - name: a\n    host_move: fast\n",
        3,
        "players[0].host_move",
        ['expected a duration like 5, "5s" or "250ms", got "fast"'],
    ),
    "bad unit in a duration": (
        "players:\n  - name: a\n    host_move: 5 fortnights\n",
        3,
        "players[0].host_move",
        ["unknown unit 'fortnights'"],
    ),
    "bad scenario unit": (
        "unit: fortnight\n" + GOOD_GROUP,
        1,
        "unit",
        ["expected one of", "'min'", 'got "fortnight"'],
    ),
    "zero count": (
        "players:\n  - name: a\n    count: 0\n    host_move: 1\n",
        3,
        "players[0].count",
        ["expected a number ≥ 1, got 0"],
    ),
    "negative count": (
        "host:\n  count: -2\n" + GOOD_GROUP,
        2,
        "host.count",
        ["expected a number ≥ 1, got -2"],
    ),
    "negative duration": (
        "players:\n  - name: a\n    steps:\n      - host: 1\n      - wait: -3s\n",
        5,
        "players[0].steps[1].wait",
        ['expected a duration ≥ 0, got "-3s"'],
    ),
    "empty players": ("players: []\n", 1, "players", ["at least 1"]),
    "no players": ("name: x\n", 1, "players", ["missing"]),
    "unknown schedule": (
        GOOD_GROUP + "schedules:\n  - synchronous\n  - coperative\n",
        8,
        "schedules[1]",
        ["unknown schedule 'coperative'", "did you mean 'cooperative'"],
    ),
    "unknown step kind": (
        "players:\n  - name: a\n    steps: [{hots: 1}]\n",
        3,
        "players[0].steps[0].hots",
        ["unknown step kind 'hots'", "host, wait"],
    ),
    "round twice": (
        "players:\n  - name: a\n    host_move: 1\n    steps: [{host: 1}]\n",
        2,
        "players[0]",
        ["either host_move/player_move or steps"],
    ),
    "duplicate key": (
        "players:\n  - name: a\n    host_move: 1\n    host_move: 2\n",
        4,
        "players[0].host_move",
        ["appears twice"],
    ),
    "duplicate group": (
        "players:\n  - {name: a, host_move: 1}\n  - {name: a, host_move: 2}\n",
        3,
        "players[1].name",
        ["player group name 'a' appears twice"],
    ),
    "yaml syntax": ("players:\n  - name: a\n   host_move: [1\n", 3, "", ["not valid YAML"]),
    "python tag": ("players: !!python/object:os.system {}\n", 1, "", ["not valid YAML", "tag"]),
    "not a mapping": ("- a\n- b\n", 1, "", ["expected a mapping", "got a list"]),
    "empty file": ("", 1, "", ["got an empty file"]),
    "negative sd": (
        "players:\n  - name: a\n    host_move: 1\n"
        "    player_move: {dist: lognormal, mean: 55s, sd: -20s}\n",
        4,
        "players[0].player_move.sd",
        ['expected a duration ≥ 0, got "-20s"'],
    ),
    "empty empirical list": (
        "players:\n  - name: a\n    host_move:\n      dist: empirical\n      values: []\n",
        5,
        "players[0].host_move.values",
        ["expected at least 1 item(s), got none"],
    ),
    "unknown distribution": (
        "players:\n  - name: a\n    player_move: {dist: lognormla, mean: 5}\n",
        3,
        "players[0].player_move",
        ["unknown distribution 'lognormla'", "did you mean 'lognormal'", "exponential"],
    ),
    "distribution without dist": (
        "players:\n  - name: a\n    player_move: {mean: 5, sd: 1}\n",
        3,
        "players[0].player_move",
        ["`dist:` is missing", "lognormal"],
    ),
    "unknown distribution parameter": (
        "players:\n  - name: a\n    player_move: {dist: exponential, mean: 5, sd: 1}\n",
        3,
        "players[0].player_move.sd",
        ["unknown exponential parameter 'sd'", "expected one of: dist, mean"],
    ),
    "zero exponential mean": (
        "players:\n  - name: a\n    steps:\n      - wait: {dist: exponential, mean: 0}\n",
        4,
        "players[0].steps[0].wait.mean",
        ["expected a duration > 0, got 0 s"],
    ),
    "uniform upside down": (
        "unit: ms\nplayers:\n  - name: a\n    player_move: {dist: uniform, low: 500, high: 1}\n",
        4,
        "players[0].player_move",
        ["uniform needs low ≤ high, got low 0.5 s, high 0.001 s"],
    ),
    "gamma half given": (
        "players:\n  - name: a\n    player_move: {dist: gamma, mean: 5}\n",
        3,
        "players[0].player_move",
        ["gamma needs either shape and scale, or mean and sd"],
    ),
    "negative seed": ("seed: -1\n" + GOOD_GROUP, 1, "seed", ["expected a number ≥ 0, got -1"]),
    "zero replications": (
        "replications: 0\n" + GOOD_GROUP,
        1,
        "replications",
        ["expected a number ≥ 1, got 0"],
    ),
    "bad sweep range": (
        GOOD_GROUP + "sweep:\n  players.a.count: 1..3:0\n",
        7,
        "sweep.players.a.count",
        ["a range needs a step > 0, got 0 in '1..3:0'"],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_bad_scenario_gets_one_clear_line_and_status_2(case, tmp_path):
    text, line, path, words = CASES[case]
    file = tmp_path / "x.yaml"
    file.write_text(text)
    for command in (["validate", str(file)], ["run", str(file), "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        first = result.stderr.splitlines()[0]
        prefix = f"{file}:{line}: {path}: " if path else f"{file}:{line}: "
        assert first.startswith(prefix), first
        for word in words:
            assert word in first, first
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_every_problem_in_a_file_is_reported(tmp_path):
    """Three independent mistakes: three lines, in file order."""
    file = tmp_path / "x.yaml"
    file.write_text("unit: parsec\nplayers:\n  - name: a\n    count: 0\n    host_move: soon\n")
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2
    assert [line.split(": ")[1] for line in result.stderr.splitlines()] == [
        "unit",
        "players[0].count",
        "players[0].host_move",
    ]


def test_a_missing_scenario_lists_the_available_ones():
    result = CliRunner().invoke(app, ["run", "no-such-scenario"])
    assert result.exit_code == 2
    assert "no scenario file or name 'no-such-scenario'" in result.stderr
    assert "polgar" in result.stderr and "countasync" in result.stderr


def test_bad_input_never_shows_a_traceback_from_the_real_command(tmp_path: Path):
    """Through `python -m sim`, as a user runs it, not just the in-process runner."""
    file = tmp_path / "bad.yaml"
    file.write_bytes(b"players:\n  - name: \xff\xfe\n")
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(file)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(file) in done.stderr
