"""Programs that are not asyncio, recorded and predicted: each schedule against its real rewrite.

For each synchronous or threaded example (a loop of blocking fetches, a thread
pool of them, threads sharing a locked cache, CPU-bound pure Python, hashing in
C that releases the GIL): record it once with `sim record --task NAME` at its
default size, play the written scenario under each of its schedules (the
program's own first; the mean of `--seeds` seeded plays), run the real program
and the real rewrite of each schedule `--repeat` times (median of the time each
prints for itself) and print, per schedule, the real and predicted wall times
and the error. The rewrites: synchronous → the sequential program, cooperative →
the asyncio rewrite, threaded {threads: N} → the thread pool of N, parallel
{processes: N} → the process pool of N; a schedule with none shows only its
prediction. Targets: the program's own schedule within 5 % of the program run
as it is, the rewrites within 10 %. The recorded run itself is shown too, not
judged: the recorder slows the program's Python (a profiling hook turns CPython's
specialized bytecodes off) and writes host steps without that.

    python bench/record_any.py [--repeat 3] [--seeds 5] [--only NAME] [--keep DIR]

If recording fails (an example the recorder cannot run), the example's
expected schedules are run for real and shown without a prediction.
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

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
#: the line each example prints last: "... in 3.512 s"
TIME = re.compile(r" in ([0-9.]+) s$", re.MULTILINE)
OWN_TARGET, REWRITE_TARGET = 0.05, 0.10

#: a real program: its script under examples/ and its arguments
Command = tuple[str, tuple[str, ...]]
#: the real rewrite of a schedule kind given its threads or processes, or None for none
Rewrite = Callable[[int | None], Command | None]


def fixed(script: str, *args: str) -> Rewrite:
    return lambda _workers: (script, args)


def sized(script: str, option: str, *args: str) -> Rewrite:
    """The rewrite with `option N`; none when N is not known."""
    return lambda workers: None if workers is None else (script, (*args, option, str(workers)))


FETCHERS: dict[str, Rewrite] = {
    "synchronous": fixed("sync_fetcher"),
    "cooperative": fixed("async_fetcher"),
    "threaded": sized("threaded_fetcher", "--workers"),
    "parallel": sized("process_fetcher", "--processes"),
}


@dataclass(frozen=True)
class Example:
    name: str  # examples/<name>.py, recorded with its arguments `args`
    task: str  # the unit of work: `--task`
    rewrites: dict[str, Rewrite]  # by schedule kind
    expected: tuple[tuple[str, int | None], ...]  # schedules shown when recording fails
    args: tuple[str, ...] = ()


EXAMPLES = (
    Example(
        "sync_fetcher",
        "fetch_page",
        FETCHERS,
        (("synchronous", None), ("cooperative", None), ("threaded", 8), ("parallel", 4)),
    ),
    Example(
        "threaded_fetcher",
        "fetch_page",
        FETCHERS,
        (("threaded", 8), ("synchronous", None), ("cooperative", None), ("parallel", 4)),
    ),
    Example(
        "threaded_cache",
        "handle",
        {
            "synchronous": fixed("threaded_cache", "--sequential"),
            "threaded": sized("threaded_cache", "--workers"),
        },
        (("threaded", 8), ("synchronous", None), ("threaded", 16)),
    ),
    Example(
        "cpu_loop",
        "score_item",
        {
            "synchronous": fixed("cpu_loop"),
            "threaded": sized("cpu_loop", "--threads"),
            "parallel": sized("cpu_loop", "--processes"),
        },
        (("synchronous", None), ("threaded", 4), ("parallel", 2)),
    ),
    Example(
        "hashing",
        "digest_item",
        {"synchronous": fixed("hashing"), "threaded": sized("hashing", "--workers")},
        (("synchronous", None), ("threaded", 2), ("threaded", 4)),
    ),
)


@dataclass(frozen=True)
class Row:
    kind: str
    workers: int | None  # threads or processes, where the schedule has them
    label: str
    predicted: float | None
    gil: bool = True


def own_time(stdout: str) -> float:
    """The time the example printed for itself (its line comes before the recorder's)."""
    found = TIME.search(stdout)
    if found is None:
        raise ValueError(f"no time in the program's output: {stdout[-200:]!r}")
    return float(found[1])


class Real:
    """Real runs: each command `repeat` times, and only once however many rows show it."""

    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.medians: dict[Command, float] = {}

    def __call__(self, command: Command) -> float:
        if command not in self.medians:
            script, args = command
            path = EXAMPLES_DIR / f"{script}.py"
            times = []
            for _ in range(self.repeat):
                done = subprocess.run(
                    [sys.executable, str(path), *args],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                times.append(own_time(done.stdout))
            self.medians[command] = statistics.median(times)
        return self.medians[command]


def record(example: Example, out: Path) -> float:
    """Record the example into `out`; the recorded run's own time."""
    script = EXAMPLES_DIR / f"{example.name}.py"
    command = [sys.executable, "-m", "sim", "record", "--force", "--task", example.task]
    command += ["-o", str(out)]
    command += ["--", sys.executable, str(script), *example.args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise RuntimeError(f"sim record exited with {done.returncode}: {last}")
    return own_time(done.stdout)


def predicted(scenario: sim.Scenario, seeds: int) -> list[Row]:
    """Each schedule of the scenario, in its order, with its mean makespan over seeds."""
    makespans: dict[str, list[float]] = {}
    workers: dict[str, int] = {}
    for seed in range(seeds):
        summary = sim.run(scenario, seed=seed).summary
        for row in summary.itertuples():
            makespans.setdefault(row.schedule, []).append(float(row.makespan_s))
            workers[row.schedule] = int(row.workers)
    rows = []
    for schedule in scenario.schedules:
        if schedule.label not in makespans:  # left out: it deadlocked
            continue
        n = workers[schedule.label] if schedule.kind in ("threaded", "parallel") else None
        gil = schedule.threaded.gil if schedule.threaded is not None else True
        mean = statistics.fmean(makespans[schedule.label])
        rows.append(Row(schedule.kind, n, schedule.label, mean, gil))
    return rows


def expected(example: Example) -> list[Row]:
    """The schedules the recorder is to write, without predictions."""
    rows = []
    for kind, n in example.expected:
        params = {} if n is None else {"threads" if kind == "threaded" else "processes": n}
        rows.append(Row(kind, n, sim.Schedule.of(kind, **params).label, None))
    return rows


def shown(command: Command) -> str:
    script, args = command
    return " ".join((f"{script}.py", *args))


def line(
    example: str,
    label: str,
    rewrite: str,
    real: float | None,
    guess: float | None,
    target: float | None,
) -> str:
    """One row; with no target (the recorded run) the error is shown, and judged not."""
    cells = [f"{example:16} {label:26} {rewrite:38}"]
    cells.append(f"{real:7.3f}" if real is not None else f"{'—':>7}")
    cells.append(f"{guess:11.3f}" if guess is not None else f"{'—':>11}")
    if real is None or guess is None:
        cells.append(f"{'':>8} {'':>6} {'':4}")
    else:
        error = (guess - real) / real
        judged = target is not None
        met = ("pass" if abs(error) <= target else "FAIL") if judged else ""
        cells.append(f"{error:+8.1%} {f'±{target:.0%}' if judged else '':>6} {met:4}")
    return " ".join(cells)


def bench(example: Example, folder: Path, real: Real, seeds: int) -> None:
    out = folder / f"{example.name}.yaml"
    try:
        recorded = record(example, out)
        rows = predicted(sim.load(out), seeds)
    except (RuntimeError, ValueError, sim.ScenarioError) as error:
        print(f"{example.name:16} not recorded: {error}", flush=True)
        recorded, rows = None, expected(example)
    for index, row in enumerate(rows):
        if index == 0 and recorded is not None:  # the recorded run, slowed by the recorder
            own = line(example.name, row.label, "(recorded run)", recorded, row.predicted, None)
            print(own, flush=True)
        rewrite = example.rewrites.get(row.kind)
        command = rewrite(row.workers) if rewrite is not None and row.gil else None
        measured = real(command) if command is not None else None
        text = shown(command) if command is not None else "—"
        target = OWN_TARGET if index == 0 else REWRITE_TARGET
        print(line(example.name, row.label, text, measured, row.predicted, target), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="real runs per program (median)")
    parser.add_argument("--seeds", type=int, default=5, help="seeded plays per scenario (mean)")
    parser.add_argument("--only", action="append", help="only this example (repeatable)")
    parser.add_argument("--keep", type=Path, help="write the recorded scenarios here")
    options = parser.parse_args()
    chosen = [e for e in EXAMPLES if not options.only or e.name in options.only]
    real = Real(options.repeat)
    print(
        f"{'example':16} {'schedule':26} {'real rewrite':38} {'real s':>7} {'predicted s':>11} "
        f"{'error':>8} {'target':>6} {'met':4}"
    )
    with tempfile.TemporaryDirectory(prefix="record-any-") as scratch:
        folder = options.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for example in chosen:
            bench(example, folder, real, options.seeds)


if __name__ == "__main__":
    main()
