"""How soon `sim` answers (`make bench-instant`): time to the table, and whole commands.

Each figure is the median of `--repeat` fresh processes after one warm-up run
(warm: the files are in the page cache, as when a user runs the same command
again). "Time to the table" is from starting the process until the last line
of the summary table (its bottom border) has arrived on a pipe; the command
then goes on writing its files. Targets:

- `sim run polgar`: the table within 0.3 s; the whole command (every default
  file: the CSVs, timeline.png, trace.json, run.json) ≤ 0.8 s; with
  `--no-plots` ≤ 0.45 s;
- `sim --help` and `sim list` ≤ 0.15 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIM = [sys.executable, "-m", "sim"]


def whole(command: list[str]) -> float:
    """Seconds from start to exit."""
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - began


def to_table(command: list[str]) -> float:
    """Seconds from start until the table's bottom border is on the pipe."""
    began = time.perf_counter()
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as child:
        assert child.stdout is not None
        seen = None
        for line in child.stdout:
            if seen is None and line.startswith("└"):
                seen = time.perf_counter() - began
        if child.wait() != 0 or seen is None:
            raise SystemExit(f"{' '.join(command)} failed or printed no table")
    return seen


def median(measure: Callable[[list[str]], float], command: list[str], repeat: int) -> float:
    measure(command)  # warm-up
    return statistics.median(measure(command) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    repeat = parser.parse_args().repeat
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        run = [*SIM, "run", "polgar", "--out", str(Path(folder) / "polgar")]
        figures = [
            ("sim run polgar: time to the table", 0.3, median(to_table, run, repeat)),
            ("sim run polgar: whole command", 0.8, median(whole, run, repeat)),
            (
                "sim run polgar --no-plots: whole command",
                0.45,
                median(whole, [*run, "--no-plots"], repeat),
            ),
            ("sim --help", 0.15, median(whole, [*SIM, "--help"], repeat)),
            ("sim list", 0.15, median(whole, [*SIM, "list"], repeat)),
        ]
    print(f"{'figure':45} {'target':>8} {'measured':>9}")
    for name, target, seconds in figures:
        verdict = "pass" if seconds <= target else "FAIL"
        print(f"{name:45} {f'≤ {target} s':>8} {seconds:>7.3f} s {verdict}")
    after = os.getloadavg()
    print(f"medians of {repeat} warm runs; load average {load[0]:.2f} before, {after[0]:.2f} after")


if __name__ == "__main__":
    main()
