"""What recording a program that is not asyncio costs, per intercepted call.

A plain loop of `--jobs` calls of `job` (the unit of work, `--task job`), each
making `--calls` ÷ `--jobs` small calls of one kind:

- `sleep`: `time.sleep(0)`, a blocking call that leaves the CPU;
- `recv`: a one-byte `send`, then its `recv`, on a socket pair: blocking
  calls that return at once (two calls);
- `select`: `select.select` with a zero timeout;
- `python`: a call of a small Python function (the recorder sees Python calls
  to find the unit of work);
- `bytecode`: a step of a loop of arithmetic that calls nothing: no call to
  intercept, but with a profiling hook set CPython 3.11 runs every
  instruction through its tracing path, so Python work itself is slower.

Each kind runs in a fresh interpreter, plain and under
`python -m sim.record --task job --raw FILE`, alternating, `--repeat` times;
the best run of each counts (the least disturbed by other work). The program
times itself around its loop, so interpreter start-up and writing the
recording are left out. Printed: wall and CPU time plain and recorded, and
their difference per call in µs.

    python bench/record_overhead_any.py [--calls 100000] [--jobs 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import select, socket, sys, time

JOBS, CALLS, KIND = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
left, right = socket.socketpair()


def small(value):
    return value + 1


def job(number):
    total = 0
    if KIND == "sleep":
        for _ in range(CALLS):
            time.sleep(0)
    elif KIND == "recv":  # two calls an iteration
        for _ in range(CALLS // 2):
            left.send(b"x")
            right.recv(1)
    elif KIND == "select":
        for _ in range(CALLS):
            select.select([right], [left], [], 0)
    elif KIND == "python":
        for _ in range(CALLS):
            total = small(total)
    else:
        for _ in range(CALLS):
            total = (total * 31 + 7) & 0xFFFFFFFF
    return total


began, cpu = time.perf_counter(), time.process_time()
for number in range(JOBS):
    job(number)
print(time.perf_counter() - began, time.process_time() - cpu)
"""

#: kind: how many of `--calls` it makes (a sleep costs ~100 times a socket call, a loop
#: step ~1/20 of one)
KINDS = {"sleep": 0.02, "recv": 1.0, "select": 1.0, "python": 1.0, "bytecode": 10.0}


def once(program: Path, args: list[str], recorded: bool, raw: Path) -> tuple[float, float]:
    """The program's own (wall, CPU) seconds."""
    command = [sys.executable, str(program), *args]
    if recorded:
        command = [sys.executable, "-m", "sim.record", "--task", "job", "--raw", str(raw)]
        command += [str(program), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or "no output").splitlines()[-1]
        raise RuntimeError(f"{' '.join(command[1:4])}: exit {done.returncode}: {last}")
    wall, cpu = map(float, done.stdout.strip().splitlines()[-1].split())
    return wall, cpu


def measure(kind: str, jobs: int, calls: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="record-overhead-") as folder:
        program = Path(folder) / "program.py"
        program.write_text(PROGRAM)
        raw = Path(folder) / "raw.json"
        args = [str(jobs), str(calls // jobs), kind]
        plain, recorded = [], []
        for _ in range(repeat):
            plain.append(once(program, args, False, raw))
            recorded.append(once(program, args, True, raw))
    pw, pc = (min(times) for times in zip(*plain, strict=True))  # the least disturbed
    rw, rc = (min(times) for times in zip(*recorded, strict=True))
    made = jobs * (calls // jobs)
    return {
        "calls": made,
        "plain_s": pw,
        "recorded_s": rw,
        "us_per_call": (rw - pw) / made * 1e6,
        "plain_cpu_s": pc,
        "recorded_cpu_s": rc,
        "cpu_us_per_call": (rc - pc) / made * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="socket or Python calls")
    parser.add_argument("--jobs", type=int, default=100, help="calls of the unit of work")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (best counts)")
    parser.add_argument("--only", action="append", choices=list(KINDS), help="only this kind")
    options = parser.parse_args()
    print(f"recording overhead per call, {options.jobs} jobs, best of {options.repeat}")
    print(
        f"{'kind':8} {'calls':>9} {'time':5} {'plain s':>8} {'recorded s':>10} {'overhead':>9} "
        f"{'µs/call':>8}"
    )
    for kind, share in KINDS.items():
        if options.only and kind not in options.only:
            continue
        calls = max(options.jobs, int(options.calls * share))
        try:
            row = measure(kind, options.jobs, calls, options.repeat)
        except RuntimeError as error:
            print(f"{kind:8} not recorded: {error}", flush=True)
            continue
        for time_, prefix in (("wall", ""), ("CPU", "cpu_")):
            plain, recorded = row[f"plain_{prefix}s"], row[f"recorded_{prefix}s"]
            print(
                f"{kind:8} {row['calls']:9,} {time_:5} {plain:8.3f} {recorded:10.3f} "
                f"{recorded / plain - 1:9.1%} {row[prefix + 'us_per_call']:8.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
