"""What recording costs a program: 10 000 asyncio tasks, plain and under `sim record`.

Each variant runs in a fresh interpreter, alternating, `--repeat` times, and
the best run of each counts (the least disturbed by other work); the program
times itself (around `asyncio.run`), so interpreter start-up and the
writing of the recording are not counted as the program's time; they are
shown apart; wall and CPU time are both reported (CPU time is the steadier
figure on a machine shared with other work). Two programs:

- `bare`: each task awaits `asyncio.sleep(0)` ten times — nothing but loop
  steps, the worst case for any per-step cost;
- `work`: each task runs ~20 µs of Python per step and sleeps 1–5 ms between
  steps — closer to a real service.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import asyncio, random, sys, time

TASKS, STEPS, KIND = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

async def bare():
    for _ in range(STEPS):
        await asyncio.sleep(0)

async def busy(seed):
    rng = random.Random(seed)
    for _ in range(STEPS):
        work(200)
        await asyncio.sleep(rng.uniform(0.001, 0.005))

async def main():
    job = bare if KIND == "bare" else busy
    await asyncio.gather(*(job(i) if KIND != "bare" else job() for i in range(TASKS)))

began, cpu = time.perf_counter(), time.process_time()
asyncio.run(main())
print(time.perf_counter() - began, time.process_time() - cpu)
"""


def once(program: Path, args: list[str], recorded: bool, raw: Path) -> tuple[float, float, float]:
    """(the program's own wall time, its CPU time, the whole command's wall time)."""
    command = [sys.executable, str(program), *args]
    if recorded:
        command = [sys.executable, "-m", "sim.record", "--raw", str(raw), str(program), *args]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    wall, cpu = map(float, done.stdout.strip().splitlines()[-1].split())
    return wall, cpu, time.perf_counter() - began


def measure(kind: str, tasks: int, steps: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "program.py"
        program.write_text(PROGRAM)
        raw = Path(folder) / "raw.json"
        args = [str(tasks), str(steps), kind]
        plain, recorded, plain_cmd, recorded_cmd, plain_cpu, recorded_cpu = ([] for _ in range(6))
        for _ in range(repeat):
            own, cpu, whole = once(program, args, False, raw)
            plain.append(own)
            plain_cpu.append(cpu)
            plain_cmd.append(whole)
            own, cpu, whole = once(program, args, True, raw)
            recorded.append(own)
            recorded_cpu.append(cpu)
            recorded_cmd.append(whole)
        began = time.perf_counter()
        from sim.record.program import load_raw
        from sim.record.scenario_file import scenario_text

        scenario_text(load_raw(raw), "bench", deterministic=True)
        transcribe_s = time.perf_counter() - began
    p, r = min(plain), min(recorded)  # the least disturbed run of each: the machine is shared
    pc, rc = min(plain_cpu), min(recorded_cpu)
    loop_steps = tasks * (steps + 1)
    return {
        "plain_cpu_s": pc,
        "recorded_cpu_s": rc,
        "cpu_overhead": rc / pc - 1,
        "cpu_us_per_step": (rc - pc) / loop_steps * 1e6,
        "plain_s": p,
        "recorded_s": r,
        "overhead": r / p - 1,
        "us_per_step": (r - p) / loop_steps * 1e6,
        "extra_command_s": statistics.median(recorded_cmd) - statistics.median(plain_cmd) - (r - p),
        "transcribe_s": transcribe_s,
        "spread": (max(recorded) - min(recorded)) / r,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    print(f"recorder overhead, {options.tasks:,} tasks × {options.steps + 1} steps, "
          f"best of {options.repeat}")  # fmt: skip
    header = f"{'program':8} {'time':5} {'plain s':>9} {'recorded s':>11} {'overhead':>9}"
    print(header + f" {'µs/step':>8}")
    for kind in ("bare", "work"):
        row = measure(kind, options.tasks, options.steps, options.repeat)
        for time_, prefix in (("wall", ""), ("CPU", "cpu_")):
            plain = row["plain_s" if not prefix else "plain_cpu_s"]
            recorded = row["recorded_s" if not prefix else "recorded_cpu_s"]
            print(
                f"{kind:8} {time_:5} {plain:9.3f} {recorded:11.3f} "
                f"{row[prefix + 'overhead']:9.1%} {row[prefix + 'us_per_step']:8.2f}"
            )
        print(
            f"{'':8} then: writing the recording {row['extra_command_s']:.3f} s, "
            f"turning it into a scenario {row['transcribe_s']:.3f} s"
        )


if __name__ == "__main__":
    main()
