"""A blocking library called from asyncio through a thread pool (`run_in_executor`).

Each file is read with a blocking call (`time.sleep` stands in for a
synchronous client library: the thread waits, the GIL is free) on one of
`--workers` threads of a `ThreadPoolExecutor`, then checked on the event loop
(CPU). With 80 files, 4 workers, 40 ms a read and 2 ms a check, the pool
makes 20 rounds of reads: about 0.85 s.

    python examples/executor_pool.py [--files 80] [--workers 4]

Record it, then ask what 8 workers would do:

    sim record -o scenarios/executor_pool.yaml -- python examples/executor_pool.py
    sim run scenarios/executor_pool.yaml --set executors.pool=8
"""

from __future__ import annotations

import argparse
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor


def burn(seconds: float) -> None:
    """CPU work for a fixed time, so every file costs the same."""
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(50))


def read_blocking(number: int) -> bytes:
    """The blocking library call: the thread sleeps in it, holding no lock."""
    time.sleep(0.040)
    return bytes(number % 256 for _ in range(64))


async def load(pool: ThreadPoolExecutor, number: int) -> int:
    loop = asyncio.get_running_loop()
    data = await loop.run_in_executor(pool, read_blocking, number)
    burn(0.002)  # checking it: CPU on the loop
    return len(data)


async def run(files: int, workers: int) -> int:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sizes = await asyncio.gather(*(load(pool, n) for n in range(files)))
    return sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=80, help="files to read")
    parser.add_argument("--workers", type=int, default=4, help="threads in the pool")
    args = parser.parse_args()
    began = time.perf_counter()
    total = asyncio.run(run(args.files, args.workers))
    elapsed = time.perf_counter() - began
    print(f"read {args.files} files ({total} bytes) on {args.workers} threads in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
