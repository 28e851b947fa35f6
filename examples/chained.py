"""Chained coroutines with a gather: a request handler that fans out to a database.

Each request awaits its user (a coroutine awaited in line: `asyncio.sleep`
for the call, then decoding on the loop), then gathers three queries run at
once, each holding one of `--limit` database connections (a semaphore) for
its round trip, and finally renders the page on the loop. With 100 requests,
5 connections, 15 ms a query and 20 ms for the user, the connections are the
bottleneck: 300 queries in rounds of 5, about 1 s.

    python examples/chained.py [--requests 100] [--limit 5]

Record it, then ask what 200 requests or 10 connections would take:

    sim record -o scenarios/chained.yaml -- python examples/chained.py
    sim run scenarios/chained.yaml --set resources.db=10
"""

from __future__ import annotations

import argparse
import asyncio
import time


def burn(seconds: float) -> None:
    """CPU work for a fixed time, so every request costs the same."""
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(50))


async def get_user(number: int) -> dict:
    await asyncio.sleep(0.020)  # the user service
    burn(0.001)  # decoding its answer
    return {"id": number}


async def query(db: asyncio.Semaphore, user: dict, part: int) -> str:
    async with db:  # one connection of the pool
        await asyncio.sleep(0.015)
    burn(0.0005)
    return f"{user['id']}:{part}"


async def handle(db: asyncio.Semaphore, number: int) -> int:
    user = await get_user(number)  # chained: runs inside this task
    parts = await asyncio.gather(*(query(db, user, part) for part in range(3)))
    burn(0.002)  # rendering the page
    return len(parts)


async def serve(requests: int, limit: int) -> int:
    db = asyncio.Semaphore(limit)
    done = await asyncio.gather(*(handle(db, n) for n in range(requests)))
    return sum(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="requests to handle")
    parser.add_argument("--limit", type=int, default=5, help="database connections")
    args = parser.parse_args()
    began = time.perf_counter()
    asyncio.run(serve(args.requests, args.limit))
    elapsed = time.perf_counter() - began
    print(f"handled {args.requests} requests on {args.limit} connections in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
