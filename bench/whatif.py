"""Benchmark: a what-if sweep with replications, in one process, on two, and on Dask.

The study is `scenarios/polgar-whatif.yaml`: Judit against 1..48 amateurs,
random moves, 30 replications of each point under 2 schedules (1 440 runs,
2 880 plays). Each way of running it is timed end to end as a user runs it
(`sim sweep … --jobs 1`, `--jobs 2`, `--dask local --jobs 2`), several times
in turn, so a burst of load on the machine spreads over all of them; the
medians and the best times are reported with the load average around them.
The three ways must write the same bytes; the script checks that too. The
CPU seconds of each run (its own and its workers') say how much work the
parallel ways add: on a busy machine the wall time tells less than they do.

    python bench/whatif.py [--repeat 3] [--quick] [--no-dask]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]
WAYS = {
    "--jobs 1": ["--jobs", "1"],
    "--jobs 2": ["--jobs", "2"],
    "--dask local --jobs 2": ["--dask", "local", "--jobs", "2"],
}


def timed(arguments: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and every process it waited for)."""
    command = [*SIM, "sweep", "polgar-whatif", "--quiet", "--out", str(out), *arguments]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each way (default 3)")
    parser.add_argument("--quick", action="store_true", help="1..12 amateurs, 5 replications")
    parser.add_argument("--no-dask", action="store_true", help="only --jobs 1 and --jobs 2")
    options = parser.parse_args()
    ways = {way: how for way, how in WAYS.items() if not (options.no_dask and "--dask" in how)}
    extra = ["--vary", "players.amateur.count=1..12", "-r", "5"] if options.quick else []
    times: dict[str, list[float]] = {way: [] for way in ways}
    cpu: dict[str, list[float]] = {way: [] for way in ways}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="sim-whatif-") as folder:
        outs = {way: Path(folder) / str(i) for i, way in enumerate(ways)}
        for _ in range(options.repeat):
            for way, arguments in ways.items():
                wall, used = timed([*arguments, *extra], outs[way])
                times[way].append(wall)
                cpu[way].append(used)
                loads.append(os.getloadavg()[0])
        first = outs["--jobs 1"]
        same = all(
            filecmp.cmp(first / name, out / name, shallow=False)
            for out in outs.values()
            for name in ("sweep.csv", "sweep_replications.csv")
        )
    runs = "12 points × 5" if options.quick else "48 points × 30"
    cores = os.cpu_count()
    print(f"what-if sweep: polgar-whatif, {runs} replications × 2 schedules, on {cores} cores")
    print(f"{'way':24} {'median s':>9} {'best s':>9} {'CPU s':>7}  runs (wall s)")
    for way, found in times.items():
        shown = " ".join(f"{t:.1f}" for t in found)
        used = statistics.median(cpu[way])
        print(f"{way:24} {statistics.median(found):9.2f} {min(found):9.2f} {used:7.1f}  {shown}")
    one, two = times["--jobs 1"], times["--jobs 2"]
    median = statistics.median
    pairs = sorted(a / b for a, b in zip(one, two, strict=True))
    print(
        f"speed-up --jobs 2 over --jobs 1: median {median(one) / median(two):.2f}×,"
        f" best {min(one) / min(two):.2f}×; run by run {' '.join(f'{r:.2f}' for r in pairs)}"
    )
    if "--dask local --jobs 2" in times:
        dask = times["--dask local --jobs 2"]
        print(
            f"Dask LocalCluster (2 workers) against --jobs 2: median "
            f"{median(dask) / median(two):.2f}× the time,"
            f" best {min(dask) / min(two):.2f}×"
        )
    print(f"load average (1 min) during the runs: {min(loads):.1f} to {max(loads):.1f}")
    print(f"identical files on every executor: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
