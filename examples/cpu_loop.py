"""CPU-bound pure Python: only processes make it faster.

Each item is scored by a tight loop that never leaves the interpreter (a
linear congruential generator stepped `--rounds` times, summing residues):
about 50 ms of CPU an item here, 40 items about 2 s one after another. Threads
(`--threads N`) do not help: the GIL lets one of them run Python at a time.
Processes (`--processes N`, a `multiprocessing.Pool`) use every CPU: on
2 CPUs about half the time.

    python examples/cpu_loop.py [--items 40] [--rounds 500000] [--threads N | --processes N]

Record the sequential run (each call of `score_item` is one game), then read
what threads and processes would give on this machine before writing them:

    sim record --task score_item -o scenarios/cpu_loop.yaml -- python examples/cpu_loop.py
    sim run scenarios/cpu_loop.yaml
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor


def score_item(number: int, rounds: int) -> int:
    """The unit of work: `rounds` steps of a pseudo-random walk, all in Python."""
    x = number + 1
    total = 0
    for _ in range(rounds):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        total += x % 7
    return total


def run(items: int, rounds: int, threads: int, processes: int) -> int:
    score = functools.partial(score_item, rounds=rounds)
    if processes:
        with multiprocessing.Pool(processes) as pool:
            return sum(pool.imap_unordered(score, range(items), chunksize=1))
    if threads:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return sum(pool.map(score, range(items)))
    return sum(score(number) for number in range(items))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40, help="items to score")
    parser.add_argument("--rounds", type=int, default=500_000, help="loop steps an item")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--threads", type=int, default=0, help="a thread pool of N threads")
    how.add_argument("--processes", type=int, default=0, help="a process pool of N processes")
    args = parser.parse_args()
    began = time.perf_counter()
    total = run(args.items, args.rounds, args.threads, args.processes)
    elapsed = time.perf_counter() - began
    if args.processes:
        on = f"on {args.processes} processes"
    elif args.threads:
        on = f"on {args.threads} threads"
    else:
        on = "one at a time"
    print(f"scored {args.items} items (total {total}) {on} in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
