"""Prediction, not replay: record a program at one size, change the scenario, run the program.

For each example that waits on other tasks (a semaphore, a queue, an executor, a
gather): record it once at its base size; play the recorded scenario's two
cooperative schedules (asyncio's order, the tie rule's) as it is (replay), with
twice the work (a gather's count or the producer's moves ×2) and with twice a
limit (a resource's units or the consumers ×2); run the real program at each of
those sizes `--repeat` times (median); print the real and predicted wall times
and the error of each.

    python bench/record_predictions.py [--repeat 3] [--seeds 5] [--only NAME]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sim
from sim.record.program import load_raw
from sim.record.scenario_file import scenario_text

ROOT = Path(__file__).resolve().parent.parent
TIME = re.compile(r"in ([0-9.]+) s")


def gather_count(count: int) -> Callable[[sim.Scenario], str]:
    """The path of the top-level gather of `count` children."""

    def find(scenario: sim.Scenario) -> str:
        for group in scenario.players:
            for i, step in enumerate(group.round):
                if step.kind == "gather" and step.gather.count == count:
                    return f"players.{group.name}.steps.{i}.gather.count"
        raise LookupError(f"no gather of {count} in {scenario.name}")

    return find


def moves() -> Callable[[sim.Scenario], str]:
    """The path of the producer's moves: the group of more than one round."""

    def find(scenario: sim.Scenario) -> str:
        (group,) = (g for g in scenario.players if g.moves > 1)
        return f"players.{group.name}.moves"

    return find


def serving(queue: str) -> Callable[[sim.Scenario], str]:
    """The path of the count of the group that serves `queue`."""

    def find(scenario: sim.Scenario) -> str:
        (group,) = (g for g in scenario.players if g.serves == queue)
        return f"players.{group.name}.count"

    return find


def fixed(path: str) -> Callable[[sim.Scenario], str]:
    return lambda _scenario: path


@dataclass(frozen=True)
class Example:
    name: str
    work: tuple[str, int]  # the program's size argument and its base value
    limit: tuple[str, int]  # the program's limit argument and its base value
    work_path: Callable[[sim.Scenario], str]  # where the size is in the scenario
    limit_path: Callable[[sim.Scenario], str]

    def args(self, work: int, limit: int) -> list[str]:
        return [self.work[0], str(work), self.limit[0], str(limit)]


EXAMPLES = (
    Example(
        "crawler_limited",
        ("--pages", 200),
        ("--limit", 10),
        gather_count(200),
        fixed("resources.connections"),
    ),
    Example(
        "pipeline",
        ("--jobs", 200),
        ("--workers", 5),
        moves(),
        serving("jobs"),
    ),
    Example(
        "executor_pool",
        ("--files", 80),
        ("--workers", 4),
        gather_count(80),
        fixed("executors.pool"),
    ),
    Example(
        "chained",
        ("--requests", 100),
        ("--limit", 5),
        gather_count(100),
        fixed("resources.db"),
    ),
)


def real(example: Example, args: list[str], repeat: int) -> float:
    """Median of the time the program prints for itself."""
    script = ROOT / "examples" / f"{example.name}.py"
    times = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, str(script), *args], capture_output=True, text=True, check=True
        )
        times.append(float(TIME.search(done.stdout)[1]))
    return statistics.median(times)


def record(example: Example, args: list[str], folder: Path):
    raw = folder / f"{example.name}.json"
    script = ROOT / "examples" / f"{example.name}.py"
    command = [sys.executable, "-m", "sim.record", "--raw", str(raw), str(script), *args]
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return load_raw(raw)


def played(scenario: sim.Scenario, seeds: int) -> list[float]:
    """Each cooperative schedule's makespan (asyncio's order, the program's own, then the
    tie rule's), the mean of `seeds` seeded runs."""
    loops = sorted(
        (s for s in scenario.schedules if s.kind == "cooperative"),
        key=lambda s: s.params.order != "asyncio",
    )
    runs = [sim.run(scenario, loops, seed=seed).summary for seed in range(seeds)]
    return [
        statistics.fmean(float(r.makespan_s.iloc[place]) for r in runs)
        for place in range(len(loops))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="real runs per size (median)")
    parser.add_argument("--seeds", type=int, default=5, help="seeded plays per scenario (mean)")
    parser.add_argument("--only", action="append", help="only this example (repeatable)")
    options = parser.parse_args()
    print(
        f"{'example':16} {'case':22} {'real s':>7} {'asyncio s':>10} {'error':>7} "
        f"{'tie rule s':>10} {'error':>7}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for example in EXAMPLES:
            if options.only and example.name not in options.only:
                continue
            work, limit = example.work[1], example.limit[1]
            raw = record(example, example.args(work, limit), Path(folder))
            text, transcript = scenario_text(raw, example.name)
            scenario = sim.from_yaml(text)
            cases = [
                (f"replay {example.work[0][2:]}={work}", {}, (work, limit)),
                (
                    f"work ×2 ({example.work[0][2:]}={2 * work})",
                    {example.work_path(scenario): 2 * work},
                    (2 * work, limit),
                ),
                (
                    f"limit ×2 ({example.limit[0][2:]}={2 * limit})",
                    {example.limit_path(scenario): 2 * limit},
                    (work, 2 * limit),
                ),
            ]
            for label, values, (w, lim) in cases:
                predicted = played(sim.with_values(scenario, values), options.seeds)
                measured = real(example, example.args(w, lim), options.repeat)
                cells = " ".join(f"{p:10.3f} {(p - measured) / measured:+7.1%}" for p in predicted)
                print(f"{example.name:16} {label:22} {measured:7.3f} {cells}", flush=True)
            print(f"{'':16} (recorded run: {transcript.makespan_s:.3f} s)", flush=True)


if __name__ == "__main__":
    main()
