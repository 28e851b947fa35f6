"""Benchmarks: start-up, the polgar run end to end, the engine at scale, the pictures.

Plain script (`make bench`): prints one table of figure, measured time and
events per second. Timing belongs here, never in the tests.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from sim.engine import play
from sim.scenario import Scenario
from sim.schedules import Schedule
from sim.workload import Workload

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]


def wall(command: list[str], repeat: int = 5) -> float:
    """Median wall time of a whole command, Python start-up included."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def engine(players: int, kind: str) -> tuple[float, int]:
    """Seconds to play polgar-shaped games (30 rounds, 5 s / 55 s, one host)."""
    scenario = Scenario(
        players=[{"name": "p", "count": players, "moves": 30, "host_move": 5, "player_move": 55}]
    )
    workload = Workload.of(scenario)
    began = time.perf_counter()
    play(workload, Schedule.of(kind))
    return time.perf_counter() - began, len(workload.kind)


def main() -> None:
    rows = [
        ("sim --help", wall([*SIM, "--help"])),
        ("sim run polgar (end to end)", wall([*SIM, "run", "polgar", "--out", "/tmp/sim-bench"])),
    ]
    print(f"{'figure':44} {'seconds':>9} {'µs/step':>9}")
    for name, seconds in rows:
        print(f"{name:44} {seconds:9.3f}")
    for kind in ("synchronous", "cooperative"):
        for players in (1_000, 10_000):
            seconds, steps = engine(players, kind)
            label = f"engine {kind}, {players:,} players × 30 rounds"
            print(f"{label:44} {seconds:9.3f} {seconds / steps * 1e6:9.2f}")
    print()
    subprocess.run([sys.executable, str(Path(__file__).with_name("pictures.py"))], check=True)


if __name__ == "__main__":
    main()
