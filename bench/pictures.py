"""Benchmark: the pictures, trace and page of big runs (target: 10 000 players < 5 s).

Plays polgar-shaped games (30 rounds, 5 s / 55 s, one host) under synchronous
and cooperative once, then times only what this part adds: drawing and
encoding timeline.png, the close-up, the whole report page, and trace.json.
The cold figure runs in a fresh interpreter, matplotlib's import included,
as `sim run` pays it, median of three. Run alone (`python bench/pictures.py`),
or from run.py, which takes its figures as JSON (`--json`).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sim.experiment.runs import run
from sim.output import chrome_trace, plots, report_page
from sim.output.report_page import Page
from sim.results.result import Result
from sim.scenario.model import Scenario

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 5.0

_COLD = """
import time
from sim.experiment.runs import run
from sim.scenario.model import Scenario
players = [{"name": "p", "count": %d, "moves": 30, "host_move": 5, "player_move": 55}]
result = run(Scenario(players=players))
began = time.perf_counter()
from sim.output import plots
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
    return report_page.report_page(result, Page("polgar.yaml", "players: …"), timeline, [])


def trace_json(result: Result) -> int:
    return sum(len(chunk) for chunk in chrome_trace.chunks(result.traces))


def cold(players: int, repeat: int = 3) -> float:
    """Median seconds to draw timeline.png in fresh interpreters, matplotlib's import included."""
    times = []
    for _ in range(repeat):
        command = [sys.executable, "-c", _COLD % players]
        done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
        times.append(float(done.stdout))
    return statistics.median(times)


def main() -> None:
    big = played(10_000)
    figures = {
        "cold": cold(10_000),
        "warm": median(lambda: timeline_png(big)),
        "close_up": median(lambda: close_up_png(big)),
        "page": median(lambda: page(big, timeline_png(big)), 3),
    }
    if "--json" in sys.argv:
        print(json.dumps(figures))
        return
    thousand = played(1_000)
    size = trace_json(thousand)
    rows = [
        ("timeline.png, 10 000 players, cold", figures["cold"]),
        ("timeline.png, 10 000 players", figures["warm"]),
        ("close-up png, 10 000 players", figures["close_up"]),
        ("report.html page (both pictures), 10 000", figures["page"]),
        ("trace.json text, 1 000 players", median(lambda: trace_json(thousand), 3)),
    ]
    print(f"{'pictures (2 schedules × 30 rounds)':44} {'seconds':>9} {'target':>8}")
    for name, seconds in rows:
        target = f"< {TARGET_S:g} s" if "10 000" in name else ""
        print(f"{name:44} {seconds:9.3f} {target:>8}")
    print(f"trace.json for 1 000 players: {size / 1e6:.1f} MB ({size / 120_000:.0f} bytes a step)")


if __name__ == "__main__":
    main()
