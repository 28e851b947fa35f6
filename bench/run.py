"""The benchmark suite (`make bench`): start-up, scale, growth, and the yardsticks.

Prints one table, figure / target / measured / ratio / pass, then the
machine and its load. Every timing is a median of fresh processes (see
`worker.py`); timing belongs here, never in the tests. The targets:

- `sim --help` ≤ 0.3 s; `make simulate SCENARIO=polgar` ≤ 1 s (venv made);
- 100 000 players × 30 rounds cooperative, summary and games tables
  included, ≤ 15 s and ≤ 1 GB peak RSS, ≥ 3.5× faster than the naive SimPy
  model (`naive.py`) and within 2.5× of a pure heapq loop (`heapq_loop.py`);
- the same players with their host steps inside a resource and an item each through
  a queue (the task engine, `sim.engine.programs`) ≤ 2× the plain run;
- synchronous at 100 000 players ≤ 5 s;
- time and memory linear in steps: fitted exponents over 1 k … 100 k ≤ 1.1;
- the closed form < 10 ms at any size;
- the pictures of a 10 000-player run (timeline.png, the report page) < 5 s each.

`--quick` stops at 10 000 players (a minute); the full run takes a few.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import hostile  # bench/hostile.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
SIM = [str(Path(PYTHON).with_name("sim"))]
MB = 1024 * 1024


@dataclass
class Figure:
    name: str
    target: float
    measured: float
    unit: str  # "s", "MB", "×", "ms", "" (a bare number)
    at_most: bool = True  # the target is an upper bound (else a lower one)

    @property
    def ratio(self) -> float:
        return self.measured / self.target

    @property
    def passed(self) -> bool:
        return self.measured <= self.target if self.at_most else self.measured >= self.target

    def row(self) -> str:
        sign = "≤" if self.at_most else "≥"
        verdict = "pass" if self.passed else "FAIL"
        target = f"{sign} {_number(self.target)} {self.unit}".rstrip()
        measured = f"{_number(self.measured)} {self.unit}".rstrip()
        return f"{self.name:50} {target:>11} {measured:>11} {self.ratio:>6.2f} {verdict:>5}"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def wall(command: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of a whole command, start-up included.

    CPU time is what the command would take alone on an idle core: other
    work on the machine lengthens the wall time far more than it.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def worker(model: str, schedule: str, players: int, repeat: int) -> dict:
    """Median wall and CPU seconds of `repeat` fresh processes; the highest peak RSS."""
    runs = []
    for _ in range(repeat):
        command = [PYTHON, str(HERE / "worker.py"), model, schedule, str(players)]
        done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout))
    return {
        "wall": statistics.median(run["wall"] for run in runs),
        "cpu": statistics.median(run["cpu"] for run in runs),
        "rss": max(run["rss"] for run in runs),
        "makespan": runs[0]["makespan"],
        "steps": runs[0]["steps"],
    }


def exponent(sizes: list[int], values: list[float]) -> float:
    """Least-squares slope of log(value) on log(size): 1 is linear."""
    xs = [math.log(size) for size in sizes]
    ys = [math.log(value) for value in values]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def closed_form_ms() -> float:
    """Milliseconds for both closed forms of ten million players (validation excluded)."""
    from sim.results import closed_forms
    from sim.scenario.model import Scenario

    group = {"name": "p", "count": 10_000_000, "moves": 30, "host_move": 5, "player_move": 55}
    scenario = Scenario(players=[group])
    times = []
    for _ in range(21):
        began = time.perf_counter()
        for kind in ("synchronous", "cooperative"):
            closed_forms.closed_form(scenario, kind)
            closed_forms.article_estimate(scenario, kind)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e3


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    import simpy

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB; Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10 000 players")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    repeat = args.repeat
    load_before = os.getloadavg()
    figures: list[Figure] = []
    notes: list[str] = []

    def show(figure: Figure) -> None:
        figures.append(figure)
        print(figure.row(), flush=True)

    def note(name: str, run: dict) -> None:
        notes.append(
            f"{name}: {run['wall']:.3f} s wall, {run['cpu']:.3f} s CPU, "
            f"{run['wall'] / run['steps'] * 1e6:.2f} µs/step, peak {run['rss'] / MB:.0f} MB"
        )

    print(f"{'figure':50} {'target':>11} {'measured':>11} {'ratio':>6} {'':>5}")
    seconds, cpu = wall([*SIM, "--help"], 2 * repeat + 1)
    show(Figure("sim --help", 0.3, seconds, "s"))
    notes.append(f"sim --help: {seconds:.3f} s wall, {cpu:.3f} s CPU")
    with tempfile.TemporaryDirectory() as out:
        make = ["make", "-s", "simulate", "SCENARIO=polgar", f"ARGS=--out {out}"]
        seconds, cpu = wall(make, 2 * repeat + 1)
    show(Figure("make simulate SCENARIO=polgar (end to end)", 1.0, seconds, "s"))
    notes.append(f"make simulate SCENARIO=polgar: {seconds:.3f} s wall, {cpu:.3f} s CPU")

    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    big = sizes[-1]
    engine = {n: worker("engine", "cooperative", n, repeat) for n in sizes}
    for n, run in engine.items():
        note(f"engine cooperative {n:>7,} players", run)
    span = f"{sizes[0] // 1000} k…{big // 1000} k"
    show(Figure(f"growth: time exponent, cooperative {span}", 1.1, _fit(sizes, engine, "wall"), ""))
    notes.append(f"growth exponent on CPU time (less disturbed by load): {_fit(sizes, engine):.3f}")

    full = worker("sim", "cooperative", big, repeat)  # a round is 2 steps, 4 model events
    note(f"sim cooperative + tables {big:,}", full)
    label = f"{big // 1000} k players × 30 rounds cooperative + tables"
    show(Figure(label, 15.0 if big == 100_000 else 1.5, full["wall"], "s"))
    show(Figure("  its peak RSS", 1024, full["rss"] / MB, "MB"))
    base = worker("engine", "cooperative", 1, 1)["rss"]
    grown = [engine[n]["rss"] - base for n in sizes[-2:]]
    show(Figure("growth: memory exponent (above start-up)", 1.1, exponent(sizes[-2:], grown), ""))

    naive = worker("naive", "cooperative", big, 1)
    heap = worker("heapq", "cooperative", big, repeat)
    note(f"naive SimPy cooperative {big:,}", naive)
    note(f"heapq loop cooperative {big:,}", heap)
    for other in (naive, heap):
        assert other["makespan"] == full["makespan"], (other, full)
    faster = naive["wall"] / full["wall"]
    show(Figure("  faster than the naive SimPy model by", 3.5, faster, "×", at_most=False))
    show(Figure("  slower than a pure heapq loop by", 2.5, full["wall"] / heap["wall"], "×"))

    shared = worker("shared", "cooperative", big, 1)  # a minute or two at 100 k
    note(f"sim cooperative + tables {big:,}, a resource and a queue", shared)
    ratio = shared["wall"] / full["wall"]
    show(Figure("  the same with a resource and a queue, slower by", 2.0, ratio, "×"))

    sync = worker("sim", "synchronous", big, repeat)
    naive_sync = worker("naive", "synchronous", big, 1)
    assert naive_sync["makespan"] == sync["makespan"]
    note(f"sim synchronous + tables {big:,}", sync)
    note(f"naive SimPy synchronous {big:,}", naive_sync)
    show(Figure(f"{big // 1000} k players synchronous + tables", 5.0, sync["wall"], "s"))
    show(Figure("closed forms, 10 000 000 players", 10.0, closed_form_ms(), "ms"))
    drawn = json.loads(
        subprocess.run(
            [PYTHON, str(HERE / "pictures.py"), "--json"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    show(Figure("timeline.png, 10 k players (matplotlib import incl.)", 5.0, drawn["cold"], "s"))
    show(Figure("report.html page, 10 k players", 5.0, drawn["page"], "s"))
    if not args.quick:
        show(Figure("peak RSS, sim run 100 k players, both schedules", 1024, cli_rss(), "MB"))

    load_after = os.getloadavg()
    print()
    for line in notes:
        print(line)
    print(f"machine: {machine()}")
    print(
        "load average (1, 5, 15 min): "
        f"before {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' '.join(f'{x:.2f}' for x in load_after)}"
    )
    failed = [figure.name.strip() for figure in figures if not figure.passed]
    print("all targets met" if not failed else f"missed: {'; '.join(failed)}")
    print()
    hostile.main()  # how fast hostile scenario files are refused


def _fit(sizes: list[int], runs: dict[int, dict], key: str = "cpu") -> float:
    return exponent(sizes, [runs[n][key] for n in sizes])


def cli_rss() -> float:
    """Peak RSS in MB of `sim run` on polgar with 100 000 players: both traces held."""
    scenario = (ROOT / "scenarios" / "polgar.yaml").read_text()
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "polgar100k.yaml"
        big.write_text(scenario.replace("count: 24", "count: 100000"))
        command = [PYTHON, "-c", _CLI_RSS, str(big), str(Path(folder) / "out")]
        done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1]) / MB


_CLI_RSS = """
import resource, sys
from sim.cli import app
try:
    app(["run", sys.argv[1], "--out", sys.argv[2]])
except SystemExit:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


if __name__ == "__main__":
    main()
    print()
    for script in ("record_overhead.py", "record_fidelity.py"):
        subprocess.run([sys.executable, str(ROOT / "bench" / script)], check=True)
        print()
