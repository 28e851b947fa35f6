"""A small web crawler that needs no network: the shape of a real asyncio program.

Each page is fetched (connect, then the response: `asyncio.sleep` stands in
for the network), parsed (real CPU work: a regular expression and a word
count over the page's text) and stored (`asyncio.sleep` for a database
write). One page in ten answers "429 Too Many Requests" first, and the
crawler waits the `Retry-After` delay before asking again — politely, with
`await asyncio.sleep`, so the other pages go on meanwhile.

    python examples/crawler.py [--pages 200] [--latency 1.0] [--work 1.0]

Record it and ask what-ifs of it:

    sim record -o scenarios/crawler.yaml -- python examples/crawler.py
    sim run scenarios/crawler.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable

WORDS = ("async", "await", "loop", "task", "future", "socket", "page", "link", "parse", "retry")
LINK = re.compile(r'<a href="(/page/\d+)">')
WORD = re.compile(r"[a-z]+")
RETRY_AFTER = 0.1  # seconds the server asks a rate-limited client to wait


class Site:
    """A pretend web site: each page's latencies and text follow from its number."""

    def __init__(self, latency: float, work: float) -> None:
        self.latency = latency
        self.work = work

    def times(self, number: int) -> tuple[float, float, float]:
        """Seconds to connect, to get the response, to store the page."""
        rng = random.Random(number)
        return (
            rng.uniform(0.02, 0.06) * self.latency,
            rng.uniform(0.05, 0.25) * self.latency,
            rng.uniform(0.01, 0.03) * self.latency,
        )

    def body(self, number: int) -> str:
        """The page's HTML: some thousands of words with a link every fifty."""
        rng = random.Random(-number)
        words = [rng.choice(WORDS) for _ in range(int(rng.uniform(1_000, 2_000) * self.work))]
        for spot in range(0, len(words), 50):
            words[spot] = f'<a href="/page/{rng.randrange(10_000)}">'
        return " ".join(words)


async def fetch(site: Site, number: int) -> str:
    """GET /page/<number>; asyncio.sleep stands in for the network."""
    connect, response, _ = site.times(number)
    await asyncio.sleep(connect)
    if number % 10 == 3:  # 429 Too Many Requests, Retry-After: 0.1
        await asyncio.sleep(RETRY_AFTER)
    await asyncio.sleep(response)
    return site.body(number)  # decoding the response: CPU work too


Fetch = Callable[[Site, int], Awaitable[str]]


def parse(html: str) -> tuple[list[str], Counter[str]]:
    """The CPU part: links and a word count."""
    return LINK.findall(html), Counter(WORD.findall(html))


async def crawl_page(site: Site, number: int, get: Fetch) -> int:
    html = await get(site, number)
    links, _words = parse(html)
    await asyncio.sleep(site.times(number)[2])  # store the page: a database write
    return len(links)


async def crawl(pages: int, latency: float, work: float, get: Fetch) -> int:
    site = Site(latency, work)
    found = await asyncio.gather(*(crawl_page(site, number, get) for number in range(pages)))
    return sum(found)


def main(get: Fetch = fetch) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="pages to crawl")
    parser.add_argument("--latency", type=float, default=1.0, help="scale of network times")
    parser.add_argument("--work", type=float, default=1.0, help="scale of the parsing work")
    args = parser.parse_args()
    began = time.perf_counter()
    links = asyncio.run(crawl(args.pages, args.latency, args.work, get))
    elapsed = time.perf_counter() - began
    print(f"crawled {args.pages} pages, {links} links in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
