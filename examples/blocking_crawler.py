"""The crawler of `crawler.py` with one mistake: a blocking `time.sleep` in a coroutine.

When a page answers "429 Too Many Requests", this `fetch` waits the
`Retry-After` delay with `time.sleep` instead of `await asyncio.sleep`: the
whole event loop stops for 0.1 s, every other page with it. Everything else
is `crawler.py`'s.

    python examples/blocking_crawler.py [--pages 200] [--latency 1.0] [--work 1.0]

`sim record` flags the blocking call and writes it as a `block` step:

    sim record -o scenarios/blocking_crawler.yaml -- python examples/blocking_crawler.py
"""

from __future__ import annotations

import asyncio
import time

from crawler import RETRY_AFTER, Site, main


async def fetch(site: Site, number: int) -> str:
    """GET /page/<number>, as in crawler.py, but the retry delay blocks the loop."""
    connect, response, _ = site.times(number)
    await asyncio.sleep(connect)
    if number % 10 == 3:  # 429 Too Many Requests, Retry-After: 0.1
        time.sleep(RETRY_AFTER)  # the mistake: blocks the event loop
    await asyncio.sleep(response)
    return site.body(number)


if __name__ == "__main__":
    main(fetch)
