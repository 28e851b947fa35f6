"""Hashing in C: threads help, because hashlib releases the GIL.

Each item prepares its salt in Python (a checksum over 18 kB, about 1 ms of
CPU here), then hashes a 32 MB buffer with `hashlib.sha256`: the digest is
computed in C with the GIL released, about 28 ms an item on an x86 server CPU
with SHA extensions. One after another, 64 items take about 1.9 s; on
`--workers N` threads of a `ThreadPoolExecutor` the digests run on as many
CPUs as the machine has while the Python parts take turns.

    python examples/hashing.py [--items 64] [--megabytes 32] [--workers N]

Record the sequential run (each call of `digest_item` is one game; the hashing
is recorded as CPU work outside the interpreter), then ask what threads would
give before writing them:

    sim record --task digest_item -o scenarios/hashing.yaml -- python examples/hashing.py
    sim run scenarios/hashing.yaml
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from sync_fetcher import checksum  # the fetchers' CPU work: pure Python

SALT_BYTES = 18_000  # checksummed in Python for the salt: about 1 ms of CPU here


def digest_item(number: int, data: bytes) -> str:
    """The unit of work: a salted SHA-256 of the shared buffer."""
    salt = checksum(data[number : number + SALT_BYTES])  # in Python, holding the GIL
    digest = hashlib.sha256(b"item:%d:%08x:" % (number, salt))
    digest.update(data)  # in C, the GIL released for buffers over 2 KiB
    return digest.hexdigest()


def run(items: int, data: bytes, workers: int) -> int:
    work = functools.partial(digest_item, data=data)
    if workers:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return len(set(pool.map(work, range(items))))
    return len({work(number) for number in range(items)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=64, help="items to hash")
    parser.add_argument("--megabytes", type=int, default=32, help="size of the hashed buffer")
    parser.add_argument("--workers", type=int, default=0, help="a thread pool of N threads")
    args = parser.parse_args()
    data = bytes(range(256)) * (args.megabytes * 4096)  # made before the clock starts
    began = time.perf_counter()
    distinct = run(args.items, data, args.workers)
    elapsed = time.perf_counter() - began
    on = f"on {args.workers} threads" if args.workers else "one at a time"
    print(f"hashed {args.items} items ({distinct} digests) {on} in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
