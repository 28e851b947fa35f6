"""How closely a recorded scenario reproduces its program: the examples at full size.

For `examples/crawler.py` and `examples/blocking_crawler.py`: the program's own
time, plain (median of `--repeat` runs) and under the recorder (one run); the
recorded scenario's cooperative makespan (mean over seeds when durations are
drawn); and the error of that makespan against both measured times.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import sim
from sim.record.program import load_raw
from sim.record.scenario_file import scenario_text

ROOT = Path(__file__).resolve().parent.parent
TIME = re.compile(r"in ([0-9.]+) s")


def plain(script: Path, repeat: int) -> float:
    """Median of the time the program prints for itself."""
    times = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        times.append(float(TIME.search(done.stdout)[1]))
    return statistics.median(times)


def recorded(script: Path, folder: Path) -> tuple[float, object]:
    raw = folder / f"{script.stem}.json"
    command = [sys.executable, "-m", "sim.record", "--raw", str(raw), str(script)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(TIME.search(done.stdout)[1]), load_raw(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=10)
    options = parser.parse_args()
    print(
        f"{'program':18} {'mode':13} {'plain s':>8} {'recorded s':>10} {'scenario s':>10}", end=""
    )
    print(f" {'vs recorded':>11} {'vs plain':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("crawler", "blocking_crawler"):
            script = ROOT / "examples" / f"{name}.py"
            measured = plain(script, options.repeat)
            own, raw = recorded(script, Path(folder))
            for mode in ("means", "empirical", "exact"):
                text, _ = scenario_text(
                    raw, name, deterministic=mode == "means", exact=mode == "exact"
                )
                scenario = sim.from_yaml(text)
                drawn = "dist: empirical" in text
                if mode == "empirical" and not drawn:
                    continue  # the format has no distributions: the same file as `means`
                seeds = range(options.seeds if drawn else 1)
                makespan = statistics.fmean(
                    float(sim.run(scenario, ["cooperative"], seed=s).summary.makespan_s[0])
                    for s in seeds
                )
                print(
                    f"{name:18} {mode:13} {measured:8.3f} {own:10.3f} {makespan:10.3f} "
                    f"{makespan / own - 1:+11.1%} {makespan / measured - 1:+9.1%}"
                )


if __name__ == "__main__":
    main()
