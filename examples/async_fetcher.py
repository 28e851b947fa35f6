"""The fetcher of `sync_fetcher.py` rewritten with asyncio: every page at once.

Each page signs its request (about 2 ms of CPU, on the event loop), awaits
the answer (`asyncio.sleep(0.030)` stands in for a socket read: the loop runs
other pages meanwhile) and verifies it (about 3 ms of CPU, on the loop); the
pages are gathered. The waits overlap, the CPU does not: 100 pages take about
100 × 5 ms of CPU plus one wait, a little over 0.5 s.

    python examples/async_fetcher.py [--pages 100]

This is the real program behind the cooperative schedule of a recording of
`sync_fetcher.py`; record it too, and ask what twice the pages would take:

    sim record -o scenarios/async_fetcher.yaml -- python examples/async_fetcher.py
    sim run scenarios/async_fetcher.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sync_fetcher import NETWORK_S, answer_to, build_request, parse


async def fetch_page(number: int) -> int:
    request = build_request(number)  # CPU, on the loop
    await asyncio.sleep(NETWORK_S)  # the network: the loop serves other pages
    return parse(answer_to(request))  # CPU, on the loop


async def fetch_all(pages: int) -> int:
    sizes = await asyncio.gather(*(fetch_page(number) for number in range(pages)))
    return sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages to fetch")
    args = parser.parse_args()
    began = time.perf_counter()
    total = asyncio.run(fetch_all(args.pages))
    elapsed = time.perf_counter() - began
    print(f"fetched {args.pages} pages ({total} bytes) on one event loop in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
