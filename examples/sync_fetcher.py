"""A synchronous fetcher: one page after another, each a blocking request.

Each page signs its request (a checksum over 36 kB in pure Python, about
2 ms of CPU here), waits 30 ms for the answer, blocking (`time.sleep` stands
in for a socket read: the thread leaves the CPU and releases the GIL), and
verifies the 54 kB answer (the same checksum, about 3 ms). One page at a
time, 100 pages take about 100 × 35 ms, 3.5 s, six sevenths of it waiting.
`async_fetcher.py`, `threaded_fetcher.py` and `process_fetcher.py` do the
same work with asyncio, a thread pool and a process pool.

    python examples/sync_fetcher.py [--pages 100]

Record it (each call of `fetch_page` is one game), then ask what asyncio,
8 threads or 4 processes would make of the same work without rewriting it:

    sim record --task fetch_page -o scenarios/sync_fetcher.yaml -- python examples/sync_fetcher.py
    sim run scenarios/sync_fetcher.yaml
"""

from __future__ import annotations

import argparse
import time

REQUEST_BYTES = 36_000  # signed in Python: about 2 ms of CPU here
NETWORK_S = 0.030  # waiting for the answer, off the CPU
ANSWER_BYTES = 54_000  # verified in Python: about 3 ms of CPU here
PATTERN = bytes(range(256)) * (ANSWER_BYTES // 256 + 2)


def checksum(data: bytes) -> int:
    """A rolling checksum in pure Python: CPU work in proportion to the data, the
    same whoever runs it and however threads share the GIL."""
    value = 0
    for byte in data:
        value = (value * 31 + byte) & 0xFFFFFFFF
    return value


def build_request(number: int) -> bytes:
    body = PATTERN[number % 256 :][:REQUEST_BYTES]
    return b"GET /page/%d sig=%08x" % (number, checksum(body))


def wait_for_answer(request: bytes) -> bytes:
    """The blocking read: the thread sleeps in it, holding no lock."""
    time.sleep(NETWORK_S)
    return answer_to(request)


def answer_to(request: bytes) -> bytes:
    return request + PATTERN[: ANSWER_BYTES - len(request)]


def parse(answer: bytes) -> int:
    checksum(answer)  # verifying it
    return len(answer)


def fetch_page(number: int) -> int:
    """One page, start to end: the unit of work of every fetcher."""
    return parse(wait_for_answer(build_request(number)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages to fetch")
    args = parser.parse_args()
    began = time.perf_counter()
    total = sum(fetch_page(number) for number in range(args.pages))
    elapsed = time.perf_counter() - began
    print(f"fetched {args.pages} pages ({total} bytes) one at a time in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
