"""The fetcher of `sync_fetcher.py` on a pool of threads.

The same `fetch_page` (about 2 ms of CPU, a blocking 30 ms wait, about 3 ms
of CPU) runs on `--workers` threads of a `ThreadPoolExecutor`. A thread
blocked in its wait releases the GIL, so the waits overlap; the CPU parts
still run one thread at a time. With 100 pages and 8 threads the CPU is the
limit: about 100 × 5 ms, a little over 0.5 s.

    python examples/threaded_fetcher.py [--pages 100] [--workers 8]

Record it (each call of `fetch_page` is one game), then ask what 16 threads,
asyncio or processes would do:

    sim record --task fetch_page -o scenarios/threaded_fetcher.yaml \\
        -- python examples/threaded_fetcher.py
    sim run scenarios/threaded_fetcher.yaml
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from sync_fetcher import fetch_page


def fetch_all(pages: int, workers: int) -> int:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(fetch_page, range(pages)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages to fetch")
    parser.add_argument("--workers", type=int, default=8, help="threads in the pool")
    args = parser.parse_args()
    began = time.perf_counter()
    total = fetch_all(args.pages, args.workers)
    elapsed = time.perf_counter() - began
    print(
        f"fetched {args.pages} pages ({total} bytes) on {args.workers} threads in {elapsed:.3f} s"
    )


if __name__ == "__main__":
    main()
