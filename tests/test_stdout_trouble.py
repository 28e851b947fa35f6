"""A closed or full stdout loses no results.

The table is printed before the files are written, so a print that fails must
not stop the command: `sim run polgar | head -1` leaves a complete folder and
ends quietly with 141 (128 + SIGPIPE, what a shell reports for any program a
closed pipe stops); stdout on a full disk leaves it too, with one line on
stderr and 74. The pipe here is closed before `sim` starts, so every write to
it fails: no race with a reader that would exit sooner or later.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import console
from sim.cli.console import EXIT_BROKEN_PIPE, EXIT_CANNOT_PRINT, exit_status
from tests.helpers import run_files


def _sim(stdout, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


def _closed_pipe_sim(*args: object) -> subprocess.CompletedProcess:
    """`sim ARGS` with stdout a pipe that nobody reads any more."""
    read, write = os.pipe()
    os.close(read)
    try:
        return _sim(write, *args)
    finally:
        os.close(write)


def _whole(folder: Path, record: str = "run.json") -> list[str]:
    """The files `record` lists, each checked against its hash."""
    info = json.loads((folder / record).read_text())
    for name, entry in info["files"].items():
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    return sorted(info["files"])


def test_a_closed_pipe_ends_quietly_with_141_and_the_results_written(small_scenario, tmp_path):
    """Was: exit 1, nothing on stderr, no results (the table is printed first)."""
    out = tmp_path / "out"
    done = _closed_pipe_sim("run", small_scenario, "--out", out, "--no-plots")
    assert done.returncode == EXIT_BROKEN_PIPE == 141
    assert done.stderr == ""  # no traceback, no "Exception ignored" at exit
    assert _whole(out) == sorted(set(run_files()) - {"run.json"})


def test_a_sweep_into_a_closed_pipe_writes_its_files_too(small_scenario, tmp_path):
    out = tmp_path / "out"
    vary = ("--vary", "players.p.count=1,2")
    done = _closed_pipe_sim("sweep", small_scenario, *vary, "--out", out, "--no-plots")
    assert (done.returncode, done.stderr) == (EXIT_BROKEN_PIPE, "")
    assert _whole(out, "sweep.json") == ["sweep.csv"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_stdout_says_so_in_one_line_exits_74_and_writes_the_results(
    small_scenario, tmp_path
):
    """Was: exit 70, an internal error, no results."""
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        done = _sim(full, "run", small_scenario, "--out", out, "--no-plots")
    assert done.returncode == EXIT_CANNOT_PRINT == 74
    said = done.stderr.splitlines()
    assert len(said) == 1 and "No space left on device" in said[0], done.stderr
    assert "summary.csv" in _whole(out)


class _Refusing(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_printing_to_a_refusing_stdout_goes_on_and_the_status_says_so(monkeypatch):
    stream = console._Stream("stdout")
    monkeypatch.setattr(sys, "stdout", _Refusing())
    assert stream.write("table\n") == len("table\n")  # no exception: the command goes on
    stream.flush()
    assert isinstance(stream.error, BrokenPipeError)
    monkeypatch.setattr(console, "_stdout", stream)
    assert exit_status(0) == EXIT_BROKEN_PIPE
    assert exit_status(2) == 2  # the command's own failure outranks the pipe's
    monkeypatch.setattr(console, "_stdout", console._Stream("stdout"))
    assert exit_status(0) == 0


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["schema"]])
def test_the_cli_librarys_own_text_into_a_closed_pipe_ends_quietly_with_141(args):
    """Help is printed by the CLI library, not the consoles: it is guarded all the same
    (was: exit 1)."""
    done = _closed_pipe_sim(*args)
    assert (done.returncode, done.stderr) == (EXIT_BROKEN_PIPE, "")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_help_into_a_full_stdout_exits_74_in_one_line():
    """Was: exit 70, "internal error: OSError"."""
    with open("/dev/full", "w") as full:
        done = _sim(full, "--help")
    assert done.returncode == EXIT_CANNOT_PRINT
    said = done.stderr.splitlines()
    assert len(said) == 1 and "No space left on device" in said[0], done.stderr
