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

Each run also says how long its play took (from the first run handed out to
the last result back); the rest of its wall time is the serial part, what the
command does alone: start-up, reading and validating the points, starting the
workers, merging the results, printing and writing the files. Its CPU seconds
(the command's own process, outside the play) are shown too: other processes on
the machine stretch the wall time of the serial part, much less its CPU time.

`--big` is the same study large enough that the serial part is small next to
the play (about 30 s with `--jobs 1`): 4 × the moves (120 a game) and 180
replications a point, 8 640 runs.

`--jobs N` times that way alone (`--jobs 2`: the serial part of the two-process way,
without the 30 s of `--jobs 1` each time); `--tree DIR` (repeatable) runs every way
also on the source tree DIR (a `git worktree` of another revision), in turn with this
one, so that a before and an after see the same moments of the machine.

    python bench/whatif.py [--repeat 3] [--quick | --big] [--no-dask] [--no-plots]
                           [--jobs N] [--tree DIR ...]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: `sim` as a user runs it, also saying on stderr how long each play took: every executor's
#: `map` timed from the first item handed out to the last result back.
TIMED_SIM = """
import os, sys, time
from sim.experiment import executors

def timed(play):
    def map(self, *args, **kwargs):
        began, cpu = time.perf_counter(), time.process_time()
        try:
            return play(self, *args, **kwargs)
        finally:
            print(f"play-seconds {time.perf_counter() - began:.4f}", file=sys.stderr)
            print(f"play-cpu {time.process_time() - cpu:.4f}", file=sys.stderr)
    return map

def leave(exit):  # the last report is the process's CPU time in all
    def _exit(status):
        if os.getpid() == parent:  # not a forked worker
            print(f"cpu-seconds {time.process_time():.4f}", file=sys.stderr, flush=True)
        exit(status)
    return _exit

parent = os.getpid()
os._exit = leave(os._exit)
sys.exit = leave(sys.exit)
for kind in (executors.InProcess, executors.ProcessPool, executors.DaskCluster):
    kind.map = timed(kind.map)
from sim.cli import main
sys.argv = ["sim", *sys.argv[1:]]
main()
"""
WAYS = {
    "--jobs 1": ["--jobs", "1"],
    "--jobs 2": ["--jobs", "2"],
    "--dask local --jobs 2": ["--dask", "local", "--jobs", "2"],
}
SIZES = {
    "quick": (["--vary", "players.amateur.count=1..12", "-r", "5"], "12 points × 5"),
    "usual": ([], "48 points × 30"),
    "big": (
        ["--set", "moves=120", "-r", "180", "--max-events", "1e9"],
        "48 points × 180, 120 moves a game,",
    ),
}


def timed(arguments: list[str], out: Path, tree: Path = ROOT) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds (the command and every process it waited for), the
    seconds of the play itself, and the CPU seconds of the command's process outside it;
    `sim` as the source tree `tree` has it."""
    command = [sys.executable, "-c", TIMED_SIM, "sweep", "polgar-whatif", "--quiet"]
    path = os.pathsep.join([str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out), *arguments],
        cwd=tree,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"sim sweep {' '.join(arguments)} failed:\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    played = sum(float(s) for s in re.findall(r"^play-seconds (\S+)$", done.stderr, re.M))
    playing = sum(float(s) for s in re.findall(r"^play-cpu (\S+)$", done.stderr, re.M))
    alone = max(float(s) for s in re.findall(r"^cpu-seconds (\S+)$", done.stderr, re.M))
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, used, played, alone - playing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each way (default 3)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1..12 amateurs, 5 replications")
    size.add_argument("--big", action="store_true", help="about 30 s with --jobs 1")
    parser.add_argument("--no-dask", action="store_true", help="only --jobs 1 and --jobs 2")
    parser.add_argument("--no-plots", action="store_true", help="no sweep.png")
    parser.add_argument("--jobs", type=int, help="time `--jobs N` alone")
    parser.add_argument(
        "--tree", type=Path, action="append", default=[], help="another source tree, in turn"
    )
    options = parser.parse_args()
    ways = {way: how for way, how in WAYS.items() if not (options.no_dask and "--dask" in how)}
    if options.jobs is not None:
        ways = {f"--jobs {options.jobs}": ["--jobs", str(options.jobs)]}
    trees = {"": ROOT, **{f" @ {tree}": tree.resolve() for tree in options.tree}}
    extra, runs = SIZES["quick" if options.quick else "big" if options.big else "usual"]
    extra = [*extra, *(["--no-plots"] if options.no_plots else [])]
    names = ["sweep.csv", "sweep_replications.csv", *([] if options.no_plots else ["sweep.png"])]
    shown_ways = [way + label for label in trees for way in ways]
    times: dict[str, list[float]] = {way: [] for way in shown_ways}
    cpu: dict[str, list[float]] = {way: [] for way in shown_ways}
    serial: dict[str, list[float]] = {way: [] for way in shown_ways}
    serial_cpu: dict[str, list[float]] = {way: [] for way in shown_ways}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="sim-whatif-") as folder:
        outs = {way: Path(folder) / str(i) for i, way in enumerate(shown_ways)}
        for _ in range(options.repeat):
            for way, arguments in ways.items():
                for label, tree in trees.items():
                    shown = way + label
                    wall, used, played, alone = timed([*arguments, *extra], outs[shown], tree)
                    times[shown].append(wall)
                    cpu[shown].append(used)
                    serial[shown].append(wall - played)
                    serial_cpu[shown].append(alone)
                    loads.append(os.getloadavg()[0])
        same = {label: _same([outs[way + label] for way in ways], names) for label in trees}
        across = _same(list(outs.values()), names)
    median = statistics.median
    cores = os.cpu_count()
    print(f"what-if sweep: polgar-whatif, {runs} replications × 2 schedules, on {cores} cores")
    width = max(24, *map(len, shown_ways))
    print(
        f"{'way':{width}} {'median s':>9} {'best s':>9} {'CPU s':>7} {'serial s':>9} "
        f"{'its CPU s':>9}  runs (wall s; serial s, its CPU s)"
    )
    for way, found in times.items():
        shown = " ".join(
            f"{t:.1f} ({s:.3f}, {c:.3f})"
            for t, s, c in zip(found, serial[way], serial_cpu[way], strict=True)
        )
        alone, alone_cpu = median(serial[way]), median(serial_cpu[way])
        used = median(cpu[way])
        print(
            f"{way:{width}} {median(found):9.2f} {min(found):9.2f} {used:7.1f} {alone:9.3f} "
            f"{alone_cpu:9.3f}  {shown}"
        )
    for label in trees:
        _ratios(times, serial, serial_cpu, label)
    if "--dask local --jobs 2" in times:
        dask, two = times["--dask local --jobs 2"], times["--jobs 2"]
        print(
            f"Dask LocalCluster (2 workers) against --jobs 2: median "
            f"{median(dask) / median(two):.2f}× the time,"
            f" best {min(dask) / min(two):.2f}×"
        )
    print(f"load average (1 min) during the runs: {min(loads):.1f} to {max(loads):.1f}")
    for label, alike in same.items():
        print(f"identical files on every executor{label}: {'yes' if alike else 'NO'}")
    if len(trees) > 1:
        print(f"identical files on every tree: {'yes' if across else 'no'}")
    if not all(same.values()):
        sys.exit(1)


def _same(outs: list[Path], names: list[str]) -> bool:
    """Every folder of `outs` holds the bytes of the first."""
    return all(
        filecmp.cmp(outs[0] / name, out / name, shallow=False) for out in outs for name in names
    )


def _ratios(
    times: dict[str, list[float]],
    serial: dict[str, list[float]],
    serial_cpu: dict[str, list[float]],
    label: str,
) -> None:
    """The speed-up of `--jobs 2` over `--jobs 1` on one tree, and its serial part."""
    median = statistics.median
    one, two = times.get("--jobs 1" + label), times.get("--jobs 2" + label)
    if two is not None:
        print(
            f"serial part (wall − play) with --jobs 2{label}: "
            f"median {median(serial['--jobs 2' + label]):.3f} s"
            f" ({median(serial_cpu['--jobs 2' + label]):.3f} s of CPU)"
        )
    if one is None or two is None:
        return
    pairs = sorted(a / b for a, b in zip(one, two, strict=True))
    print(f"--jobs 1{label}: {median(one):.2f} s, --jobs 2: {median(two):.2f} s (medians)")
    print(
        f"speed-up --jobs 2 over --jobs 1: median {median(one) / median(two):.2f}×,"
        f" best {min(one) / min(two):.2f}×; run by run {' '.join(f'{r:.2f}' for r in pairs)}"
    )
    plays = [t - s for t, s in zip(two, serial["--jobs 2" + label], strict=True)]
    alone = [t - s for t, s in zip(one, serial["--jobs 1" + label], strict=True)]
    print(f"the play alone {median(alone):.2f} s → {median(plays):.2f} s,"
          f" {median(alone) / median(plays):.2f}×")  # fmt: skip


if __name__ == "__main__":
    main()
