"""A crawler held to a few connections at a time by a semaphore: no network needed.

Each page is fetched while holding one of `--limit` connections
(`asyncio.Semaphore`; `asyncio.sleep` stands in for the network) and then
parsed on the event loop (CPU work). With 200 pages, 10 connections, 40 ms of
network and 2 ms of parsing a page, the semaphore makes 20 rounds of fetches,
and the parsing of one round delays the next: about 1.2 s.

    python examples/crawler_limited.py [--pages 200] [--limit 10] [--network 40] [--parse 2]

Record it, then ask what 400 pages or 20 connections would take:

    sim record -o scenarios/crawler_limited.yaml -- python examples/crawler_limited.py
    sim run scenarios/crawler_limited.yaml --set resources.connections=20
"""

from __future__ import annotations

import argparse
import asyncio
import time


def burn(seconds: float) -> None:
    """CPU work for a fixed time (parsing a page), so every page costs the same."""
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(50))


async def crawl_page(connections: asyncio.Semaphore, number: int, network: float, parse: float):
    async with connections:  # one connection of the pool, for the request only
        await asyncio.sleep(network)
    burn(parse)
    return number


async def crawl(pages: int, limit: int, network: float, parse: float) -> int:
    connections = asyncio.Semaphore(limit)
    done = await asyncio.gather(*(crawl_page(connections, n, network, parse) for n in range(pages)))
    return len(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="pages to crawl")
    parser.add_argument("--limit", type=int, default=10, help="connections at a time")
    parser.add_argument("--network", type=float, default=40.0, help="ms of network a page")
    parser.add_argument("--parse", type=float, default=2.0, help="ms of parsing a page")
    args = parser.parse_args()
    began = time.perf_counter()
    pages = asyncio.run(crawl(args.pages, args.limit, args.network / 1e3, args.parse / 1e3))
    elapsed = time.perf_counter() - began
    print(f"crawled {pages} pages, {args.limit} connections at a time, in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
