"""Benchmarks: how fast hostile scenario files and `--set` values are refused, and what a
big honest file costs.

Plain script (`make bench` runs it after bench/run.py): one table of figure and
median seconds. Each refusal is timed twice: `load_file` alone (the work
`sim` does) and the whole `sim validate` command (Python start-up included).
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.scenario.errors import ScenarioError  # noqa: E402  (after the path is set)
from sim.scenario.loader import load_file  # noqa: E402
from sim.scenario.overrides import parse  # noqa: E402
from tests.fuzz import alias_bomb, deep_nesting, mutants  # noqa: E402

SIM = [sys.executable, "-m", "sim"]


def median_time(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def refused(path: Path) -> None:
    try:
        load_file(path)
    except ScenarioError:
        return
    raise AssertionError(f"{path} was accepted")


def command(path: Path, *options: str) -> None:
    done = subprocess.run([*SIM, "validate", str(path), *options], capture_output=True, cwd=ROOT)
    assert done.returncode == 2, done.stderr


def refused_set(text: str) -> None:
    try:
        parse(text)
    except ScenarioError:
        return
    raise AssertionError(f"--set {text[:40]} was accepted")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sim-bench-hostile-"))
    two = "players: [{name: a, count: 2, host_move: 1, player_move: 1}]\n"
    pool = "schedules: [{{parallel: {{processes: {}}}}}]\n"
    files = {
        "alias bomb, 10 levels × 10 (10¹⁰ strings)": alias_bomb(10, 10),
        "alias bomb, 12 levels × 12 (≈ 9 × 10¹² strings)": alias_bomb(12, 12),
        "50 000 nested brackets": deep_nesting(50_000),
        "file of 10 MB (limit 1 MB)": "players: [{host_move: 1}]\n" + "#" * 10_000_000,
        "count of 3 × 10¹⁸ players": "players: [{count: 3000000000000000000, host_move: 1}]\n",
        "99 999 999 hosts for 2 games": f"host: {{count: 99999999}}\n{two}",
        "10⁹ worker processes for 2 games": two + pool.format(10**9),
        "3 × 10⁷ worker processes for 2 games": two + pool.format(3 * 10**7),
        "a group name of 10 000 characters": f"players: [{{name: {'g' * 10_000}, host_move: 1}}]\n",
        "count: 010 (octal 8 to YAML 1.1)": "players: [{count: 010, host_move: 1}]\n",
    }
    sets = {
        "--set value nested 500 deep": "host.count=" + "[" * 500 + "]" * 500,
        "--set value of 5 000 digits": "host.count=" + "9" * 5000,
    }
    group = "  - {{name: g{i}, count: 2, moves: 3, host_move: 1, player_move: 2}}\n"
    honest = "players:\n" + "".join(group.format(i=i) for i in range(12_000))
    print(f"{'figure':52} {'load_file s':>12} {'sim validate s':>15}")
    for name, text in files.items():
        path = folder / "hostile.yaml"
        path.write_text(text)
        inside = median_time(lambda p=path: refused(p), 9)
        whole = median_time(lambda p=path: command(p), 5)
        print(f"refuse {name:45} {inside:12.4f} {whole:15.3f}")
    polgar = ROOT / "scenarios" / "polgar.yaml"
    for name, text in sets.items():
        inside = median_time(lambda t=text: refused_set(t), 9)
        whole = median_time(lambda t=text: command(polgar, "--set", t), 5)
        print(f"refuse {name:45} {inside:12.4f} {whole:15.3f}")
    path = folder / "honest.yaml"
    path.write_text(honest)
    size = path.stat().st_size / 1e6
    seconds = median_time(lambda: load_file(path), 3)
    print(f"{f'load an honest {size:.2f} MB file (12 000 groups)':52} {seconds:12.3f}")
    fuzzed = list(mutants(9, 2_000))
    for index, content in enumerate(fuzzed):
        (folder / f"m{index}.yaml").write_bytes(content)

    def load_all() -> None:
        for index in range(len(fuzzed)):
            with contextlib.suppress(ScenarioError):
                load_file(folder / f"m{index}.yaml")

    seconds = median_time(load_all, 3)
    print(f"{'load 2 000 fuzzed files (µs per file)':52} {seconds / 2_000 * 1e6:12.0f}")


if __name__ == "__main__":
    main()
