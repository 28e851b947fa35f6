"""Hashing in C: threads help, because hashlib releases the GIL.

Each item prepares its salt in Python (a checksum over 4.5 kB, about 0.3 ms of
CPU here), then hashes an 8 MB block (more than a CPU's own caches hold) with
`hashlib.sha256`: the digest is computed in C with the GIL released, about 7 ms
an item on an x86 server CPU with SHA extensions. One after another, 256 items
take about 1.9 s; on `--workers N` threads of a `ThreadPoolExecutor` the digests
run on as many CPUs as the machine has while the Python parts take turns.

The items take their blocks in turn, one of at least 8 (and of as many as there
are threads), so threads hashing at the same time read different memory, as
they would hashing different files. Threads hashing one shared buffer at the
same time read each other's cache lines: each digest then costs 10–20 % less
CPU than alone, which no recording of the sequential run can show. The blocks
are made before the clock starts (64 MB, about 35 ms here): a recording counts
that in the main thread's part, so it is kept small.

    python examples/hashing.py [--items 256] [--megabytes 8] [--workers N]

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

SALT_BYTES = 4_500  # checksummed in Python for the salt: about 0.3 ms of CPU here
BLOCKS = 8  # at least this many blocks: up to 8 threads hash different memory at once


def digest_item(number: int, blocks: list[bytes]) -> str:
    """The unit of work: a salted SHA-256 of its block."""
    data = blocks[number % len(blocks)]
    salt = checksum(data[number : number + SALT_BYTES])  # in Python, holding the GIL
    digest = hashlib.sha256(b"item:%d:%08x:" % (number, salt))
    digest.update(data)  # in C, the GIL released for buffers over 2 KiB
    return digest.hexdigest()


def make_blocks(megabytes: int, count: int) -> list[bytes]:
    """`count` blocks of `megabytes` each, every one its own memory (and its own bytes)."""
    pattern = bytes(range(256))
    return [(pattern[k:] + pattern[:k]) * (megabytes * 4096) for k in range(count)]


def run(items: int, blocks: list[bytes], workers: int) -> int:
    work = functools.partial(digest_item, blocks=blocks)
    if workers:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return len(set(pool.map(work, range(items))))
    return len({work(number) for number in range(items)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=256, help="items to hash")
    parser.add_argument("--megabytes", type=int, default=8, help="size of each hashed block")
    parser.add_argument("--workers", type=int, default=0, help="a thread pool of N threads")
    args = parser.parse_args()
    blocks = make_blocks(args.megabytes, max(BLOCKS, args.workers))  # before the clock starts
    began = time.perf_counter()
    distinct = run(args.items, blocks, args.workers)
    elapsed = time.perf_counter() - began
    on = f"on {args.workers} threads" if args.workers else "one at a time"
    print(f"hashed {args.items} items ({distinct} digests) {on} in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
