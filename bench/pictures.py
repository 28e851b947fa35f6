"""Benchmark: the pictures, trace and page of big runs (target: 10 000 players < 5 s).

Plays polgar-shaped games (30 rounds, 5 s / 55 s, one host) under synchronous
and cooperative once, then times only what this part adds: drawing and
encoding timeline.png, the close-up, the whole report page, and trace.json.
The cold figure runs in a fresh interpreter, matplotlib's import included,
as `sim run` pays it. Run alone (`python bench/pictures.py`) or from run.py.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sim import chrome_trace, html_report, plots
from sim.runner import Result, run
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 5.0

_COLD = """
import time
from sim.runner import run
from sim.scenario import Scenario
players = [{"name": "p", "count": %d, "moves": 30, "host_move": 5, "player_move": 55}]
result = run(Scenario(players=players))
began = time.perf_counter()
from sim import plots
plots.to_png(plots.timeline(result.traces))
print(time.perf_counter() - began)
"""


def played(players: int) -> Result:
    group = {"name": "p", "count": players, "moves": 30, "host_move": 5, "player_move": 55}
    return run(Scenario(name=f"polgar-{players}", players=[group]))


def median(work: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def timeline_png(result: Result) -> bytes:
    return plots.to_png(plots.timeline(result.traces))


def close_up_png(result: Result) -> bytes:
    return plots.to_png(plots.timeline(result.traces, until=plots.close_up_span(result.traces)))


def page(result: Result, timeline: bytes) -> str:
    return html_report.report_page(result, ("polgar.yaml", "players: …"), timeline, None, [])


def trace_json(result: Result) -> int:
    return sum(len(chunk) for chunk in chrome_trace.chunks(result.traces))


def main() -> None:
    big = played(10_000)
    cold = subprocess.run(
        [sys.executable, "-c", _COLD % 10_000], cwd=ROOT, check=True, capture_output=True, text=True
    )
    rows = [
        ("timeline.png, 10 000 players, cold", float(cold.stdout)),
        ("timeline.png, 10 000 players", median(lambda: timeline_png(big))),
        ("close-up png, 10 000 players", median(lambda: close_up_png(big))),
        ("report.html page, 10 000 players", median(lambda: page(big, timeline_png(big)), 3)),
    ]
    thousand = played(1_000)
    size = trace_json(thousand)
    rows.append(("trace.json text, 1 000 players", median(lambda: trace_json(thousand), 3)))
    print(f"{'pictures (2 schedules × 30 rounds)':44} {'seconds':>9} {'target':>8}")
    for name, seconds in rows:
        target = f"< {TARGET_S:g} s" if "10 000" in name else ""
        print(f"{name:44} {seconds:9.3f} {target:>8}")
    print(f"trace.json for 1 000 players: {size / 1e6:.1f} MB ({size / 120_000:.0f} bytes a step)")


if __name__ == "__main__":
    main()
