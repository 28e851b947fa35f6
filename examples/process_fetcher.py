"""The fetcher of `sync_fetcher.py` on a pool of processes.

The same `fetch_page` (about 2 ms of CPU, a blocking 30 ms wait, about 3 ms
of CPU) runs in `--processes` worker processes of a `multiprocessing.Pool`,
each taking the next page when it is done with one: each process fetches its
pages one after another, so 100 pages on 4 processes take at least
25 × 35 ms, 0.9 s; about 1 s with starting the workers. Processes overlap
only as many waits as there are processes: for waiting, threads or asyncio
do more with less.

    python examples/process_fetcher.py [--pages 100] [--processes 4]

This is the real program behind the parallel schedule of a recording of
`sync_fetcher.py` (see there).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from sync_fetcher import fetch_page


def fetch_all(pages: int, processes: int) -> int:
    with multiprocessing.Pool(processes) as pool:
        return sum(pool.imap_unordered(fetch_page, range(pages), chunksize=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages to fetch")
    parser.add_argument("--processes", type=int, default=4, help="worker processes")
    args = parser.parse_args()
    began = time.perf_counter()
    total = fetch_all(args.pages, args.processes)
    elapsed = time.perf_counter() - began
    print(
        f"fetched {args.pages} pages ({total} bytes) "
        f"on {args.processes} processes in {elapsed:.3f} s"
    )


if __name__ == "__main__":
    main()
