"""The wall-clock check on the article's scenarios: real runs beside the engine.

Plain script (`make bench-verify`, about two minutes): plays each scenario for
real in every execution model, durations divided by a scale, and prints one
markdown table of median real makespan × scale, the spread of the runs, the
engine's figure and the relative error, with the time the runs waited for a
CPU and the load average around each scenario (other work on the machine
lengthens real runs). Scenarios not
shipped yet are skipped with a note. Also times `sim verify` (virtual time).

    python bench/verify.py [--repeat 3] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from sim.engine import play
from sim.engine.workload import Workload
from sim.scenario.loader import load_file
from sim.scenario.model import Scenario
from sim.verify.compare import compare
from sim.verify.findings import figure
from sim.verify.virtual import replay
from sim.verify.wallclock import RealRow, check, models_of

ROOT = Path(__file__).resolve().parent.parent

#: (scenario, rounds or None for the file's own, scale, models or None for all)
PLAN = [
    ("polgar", 3, 1000, None),
    ("polgar", 30, 1000, ["cooperative", "threaded"]),
    ("countasync", None, 10, None),
    ("cpu_bound", None, 10, None),
    ("io_bound", None, 20, None),
]


def with_rounds(scenario: Scenario, rounds: int | None) -> Scenario:
    """The scenario with every group playing `rounds` rounds (fewer keeps it short)."""
    if rounds is None:
        return scenario
    data = scenario.model_dump(exclude_defaults=True)
    data["players"] = [{**group, "moves": rounds} for group in data["players"]]
    data["name"] = f"{scenario.name} ({rounds} rounds)"
    return Scenario.model_validate(data)


def unloaded(row: RealRow, scenario: Scenario) -> str:
    """Median makespan less the time it waited for a CPU, × scale: one-thread runs only.

    With one thread every wait for a CPU lies on the critical path, so this is
    close to what an idle machine gives; with several it is not, and is left out.
    """
    one_thread = row.model.kind in ("synchronous", "cooperative")
    if not one_thread or row.model.arguments(scenario).get("hosts", 1) != 1:
        return ""
    pairs = sorted((run.makespan - run.cpu_wait) * row.scale for run in row.runs)
    return f"{figure(statistics.median(pairs))} s"


def load() -> str:
    """The 1-minute load average: above the CPU count, runs compete for CPUs."""
    return f"{os.getloadavg()[0]:.2f}"


def real_table(repeat: int) -> list[str]:
    lines = [
        "| scenario | scale | model | real × scale | runs | simulated | error "
        "| CPU wait | real − wait | load (1 min) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, rounds, scale, names in PLAN:
        path = ROOT / "scenarios" / f"{name}.yaml"
        if not path.exists():
            lines.append(f"| {name} | | (not shipped yet: skipped) | | | | | | | |")
            continue
        scenario = with_rounds(load_file(path), rounds)
        workload = Workload.of(scenario)
        before = load()
        rows = check(workload, models_of(scenario, names or ()), scale, repeat)
        after = load()
        for row in rows:
            spans = row.makespans
            error = "" if row.error is None else f"{row.error:+.1%}"
            simulated = "—" if row.simulated is None else f"{figure(row.simulated)} s"
            lines.append(
                f"| {scenario.name} | {scale} | {row.model.label} | {figure(row.measured)} s "
                f"| {figure(min(spans))}–{figure(max(spans))} s | {simulated} | {error} "
                f"| {figure(round(row.cpu_wait, 3))} s | {unloaded(row, scenario)} "
                f"| {before} → {after} |"
            )
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def virtual_table(repeat: int) -> list[str]:
    """Seconds to replay polgar on asyncio's fast-forwarded loop, beside the engine's."""
    lines = ["| figure | seconds |", "|---|---:|"]
    scenario = load_file(ROOT / "scenarios" / "polgar.yaml")
    workload = Workload.of(scenario)
    for schedule in scenario.schedules:
        for name, job in (
            ("engine", lambda s=schedule: play(workload, s)),
            ("asyncio replay", lambda s=schedule: replay(workload, s)),
        ):
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                job()
                times.append(time.perf_counter() - began)
            lines.append(f"| polgar {schedule.label}, {name} | {statistics.median(times):.3f} |")
        assert compare(play(workload, schedule), replay(workload, schedule)).agrees
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="real runs per model (median)")
    parser.add_argument("--out", type=Path, help="also write the tables to this markdown file")
    args = parser.parse_args()
    began = time.perf_counter()
    lines = [
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"switch interval {sys.getswitchinterval() * 1e3:g} ms, median of {args.repeat} runs",
        "",
        *real_table(args.repeat),
        "",
        *virtual_table(5),
        "",
        f"bench took {time.perf_counter() - began:.0f} s",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
