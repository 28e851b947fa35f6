"""A pool of threads sharing one cache behind a `threading.Lock`.

Each item signs its request (a checksum over 9 kB in pure Python, about
0.5 ms of CPU here), asks a slow backend for the value (a blocking 20 ms
`time.sleep` standing in for a socket read, outside the lock, so the waits of
all threads overlap) and then stores the 18 kB answer in a shared cache under
a `threading.Lock`, checksumming it for the cache's index while it holds the
lock (about 1 ms of CPU). With 300 items on 8 threads the waits overlap
eightfold: about 300 × 21.5 ms ÷ 8, 0.8 s; the lock is held 300 ms of it, and
a thread that wants it while another holds it waits. `--sequential` runs the
same items one after another on the main thread (about 6.5 s).

    python examples/threaded_cache.py [--items 300] [--workers 8] [--sequential]

Record it (each call of `handle` is one game), then ask what 16 or 32 threads
would do, when the lock starts to be the bottleneck:

    sim record --task handle -o scenarios/threaded_cache.yaml \\
        -- python examples/threaded_cache.py
    sim run scenarios/threaded_cache.yaml
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sync_fetcher import checksum  # the fetchers' CPU work: pure Python

KEY_BYTES = 9_000  # checksummed to sign the request: about 0.5 ms of CPU here
BACKEND_S = 0.020  # waiting for the backend, off the CPU
VALUE_BYTES = 18_000  # checksummed under the lock: about 1 ms of CPU here
PATTERN = bytes(range(256)) * (VALUE_BYTES // 256 + 2)


class Cache:
    """Values by key, their checksums and how often each was stored; one lock guards all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, bytes] = {}
        self.sums: dict[str, int] = {}
        self.hits: dict[str, int] = {}

    def store(self, key: str, value: bytes) -> int:
        with self.lock:  # the others wait for it while the checksum runs
            self.sums[key] = checksum(value)
            self.values[key] = value
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]


def backend(key: str, signature: int) -> bytes:
    """The blocking read: the thread sleeps in it, holding no lock."""
    time.sleep(BACKEND_S)
    return (b"%s:%08x:" % (key.encode(), signature) + PATTERN)[:VALUE_BYTES]


def handle(cache: Cache, number: int) -> int:
    """One item: key, backend, store. The unit of work."""
    key = f"user:{number % 50}"
    signature = checksum(PATTERN[number % 256 :][:KEY_BYTES])  # signing the request
    return cache.store(key, backend(key, signature))


def run(items: int, workers: int, sequential: bool) -> int:
    cache = Cache()
    if sequential:
        return sum(handle(cache, number) for number in range(items))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(handle, [cache] * items, range(items)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300, help="items to handle")
    parser.add_argument("--workers", type=int, default=8, help="threads in the pool")
    parser.add_argument(
        "--sequential", action="store_true", help="one item after another, no threads"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    hits = run(args.items, args.workers, args.sequential)
    elapsed = time.perf_counter() - began
    how = "one at a time" if args.sequential else f"on {args.workers} threads"
    print(f"handled {args.items} items ({hits} hits) {how} in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
