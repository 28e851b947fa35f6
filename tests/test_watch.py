"""`sim watch`, driven through edits of its file as a user makes them.

A real `sim watch` process watches a scenario; the test saves the file as an
editor would, and reads what it prints: the first table, each schedule's
makespan against the version before after a save (polgar's closed forms:
24 amateurs 43 200 s and 3 655 s, 48 amateurs 86 400 s and 7 255 s), the
one-line error of a save that breaks the file (and the watch going on), and
exit 130 on Ctrl-C with the results folder of the last complete run.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

from tests.conftest import ROOT

POLGAR = (ROOT / "scenarios" / "polgar.yaml").read_text()
WAIT_S = 60.0  # for a line: generous, a loaded machine is slow to start Python


class Watching:
    """A `sim watch` process and the lines it prints, read as they come."""

    def __init__(self, scenario: Path, out: Path) -> None:
        command = [sys.executable, "-m", "sim", "watch", str(scenario), "--no-plots",
                   "--out", str(out)]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, wanted: str) -> list[str]:
        """The lines printed up to and with the first one containing `wanted`."""
        seen, ends = [], time.monotonic() + WAIT_S
        while time.monotonic() < ends:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(line)
            if wanted in line:
                return seen
        raise AssertionError(f"no line with {wanted!r} in {WAIT_S} s; got {seen}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=WAIT_S)


def test_a_save_plays_again_and_shows_each_makespan_against_the_last(tmp_path):
    scenario, out = tmp_path / "polgar.yaml", tmp_path / "out"
    scenario.write_text(POLGAR)
    watching = Watching(scenario, out)
    try:
        first = watching.until("watching")
        assert any("closed form: synchronous 43 200 s, cooperative 3 655 s" in line
                   for line in first)  # fmt: skip
        time.sleep(0.5)  # the watch is set before the save
        scenario.write_text(POLGAR.replace("count: 24", "count: 48"))
        after = watching.until("cooperative: 3 655 s")
        assert "synchronous: 43 200 s → 86 400 s (+100.0 %)" in after
        assert after[-1] == "cooperative: 3 655 s → 7 255 s (+98.5 %)"
        watching.until("watching")
        # a save that breaks the file: the usual one line, and the watch goes on
        scenario.write_text(POLGAR.replace("count: 24", "count: ["))
        broken = watching.until("watching")
        errors = [line for line in broken if line.startswith(f"{scenario}:")]
        assert len(errors) == 1 and "not valid YAML" in errors[0]
        assert not any("→" in line for line in broken)  # nothing was played
        scenario.write_text(POLGAR)
        back = watching.until("cooperative: 7 255 s")
        assert back[-1] == "cooperative: 7 255 s → 3 655 s (-49.6 %)"
        watching.until("watching")
    finally:
        status = watching.stop()
    assert status == 130
    summary = pd.read_csv(out / "summary.csv")  # the last complete run's
    assert dict(zip(summary["schedule"], summary["makespan_s"], strict=True)) == {
        "synchronous": 43200.0,
        "cooperative": 3655.0,
    }


def test_a_watch_whose_stdout_is_gone_ends_after_its_run(tmp_path):
    """Stdout a pipe nobody reads: the first run's files are written, then the watch ends
    with 141 instead of watching (and writing) for ever unseen."""
    scenario = tmp_path / "polgar.yaml"
    scenario.write_text(POLGAR)
    out = tmp_path / "out"
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sim", "watch", str(scenario), "--no-plots", "--out", str(out)],
            cwd=ROOT, stdout=write, stderr=subprocess.PIPE, text=True, timeout=WAIT_S,
        )  # fmt: skip
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")
    assert (out / "run.json").is_file()
