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

Beside each wall time, the median CPU seconds (user and system) of the same
span: of the whole command, its children's included, or until the table (read from
/proc in clock ticks, 0.01 s; not shown elsewhere). On a shared machine they say
more than the wall clock, which waits for the other processes too.

Last, how many of sim's modules have no current bytecode. Where
PYTHONDONTWRITEBYTECODE is set Python never caches them, and every start
compiles them all again (about 70 ms here); `make bench-instant`, like
`make simulate`, compiles them first.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import resource
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


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def whole(command: list[str]) -> tuple[float, float]:
    """Seconds from start to exit, and the command's CPU seconds."""
    cpu, began = _cpu(), time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - began, _cpu() - cpu


def to_table(command: list[str]) -> tuple[float, float]:
    """Seconds from start until the table's bottom border is on the pipe, and the
    command's CPU seconds until then (NaN where /proc does not say)."""
    began = time.perf_counter()
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as child:
        assert child.stdout is not None
        seen, cpu = None, math.nan
        for line in child.stdout:
            if seen is None and line.startswith("└"):
                seen = time.perf_counter() - began
                cpu = _cpu_of(child.pid)
        if child.wait() != 0 or seen is None:
            raise SystemExit(f"{' '.join(command)} failed or printed no table")
    return seen, cpu


def _cpu_of(pid: int) -> float:
    """CPU seconds process `pid` has used so far (Linux), else NaN."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def uncompiled() -> tuple[int, int]:
    """How many of sim's modules have no bytecode as new as their source, of how many."""
    sources = sorted((ROOT / "sim").rglob("*.py"))
    stale = 0
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.exists() or cached.stat().st_mtime < source.stat().st_mtime:
            stale += 1
    return stale, len(sources)


def median(
    measure: Callable[[list[str]], tuple[float, float]], command: list[str], repeat: int
) -> tuple[float, float]:
    """The median wall time and the median CPU time of `repeat` runs after a warm-up."""
    measure(command)  # warm-up
    found = [measure(command) for _ in range(repeat)]
    return statistics.median(w for w, _ in found), statistics.median(c for _, c in found)


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
    print(f"{'figure':45} {'target':>8} {'measured':>9}       {'CPU':>7}")
    for name, target, (seconds, cpu) in figures:
        verdict = "pass" if seconds <= target else "FAIL"
        print(f"{name:45} {f'≤ {target} s':>8} {seconds:>7.3f} s {verdict} {cpu:>7.3f} s")
    after = os.getloadavg()
    print(f"medians of {repeat} warm runs; load average {load[0]:.2f} before, {after[0]:.2f} after")
    stale, modules = uncompiled()
    writes = "not set" if not os.environ.get("PYTHONDONTWRITEBYTECODE") else "set"
    print(
        f"sim's modules without current bytecode: {stale} of {modules}"
        f" (PYTHONDONTWRITEBYTECODE {writes})"
    )


if __name__ == "__main__":
    main()
