"""A producer and a pool of consumers joined by a bounded `asyncio.Queue`.

The producer makes each job on the event loop (CPU) and puts it into a queue
of `--maxsize` places, waiting while the queue is full; `--workers` consumer
tasks each take a job, wait for its I/O (`asyncio.sleep`) and finish it on
the loop. When every job is done (`queue.join()`) the consumers are
cancelled, the usual asyncio pattern. With 200 jobs of 3 ms, 5 workers and
30 ms of I/O plus 1 ms a job, the workers are the bottleneck: about 1.3 s.

    python examples/pipeline.py [--jobs 200] [--workers 5] [--maxsize 5]

Record it, then ask what 10 workers would do:

    sim record -o scenarios/pipeline.yaml -- python examples/pipeline.py
    sim run scenarios/pipeline.yaml --set players.consumer.count=10
"""

from __future__ import annotations

import argparse
import asyncio
import time


def burn(seconds: float) -> None:
    """CPU work for a fixed time, so every job costs the same."""
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(range(50))


async def producer(jobs: asyncio.Queue, count: int, make: float) -> None:
    for number in range(count):
        burn(make)  # making the job: CPU on the loop
        await jobs.put(number)  # waits while the queue is full


async def consumer(jobs: asyncio.Queue, io: float, finish: float) -> None:
    while True:
        await jobs.get()
        await asyncio.sleep(io)  # the job's I/O
        burn(finish)
        jobs.task_done()


async def run(count: int, workers: int, maxsize: int) -> None:
    jobs: asyncio.Queue[int] = asyncio.Queue(maxsize=maxsize)
    consumers = [asyncio.create_task(consumer(jobs, 0.030, 0.001)) for _ in range(workers)]
    await producer(jobs, count, 0.003)
    await jobs.join()
    for task in consumers:
        task.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs to produce")
    parser.add_argument("--workers", type=int, default=5, help="consumer tasks")
    parser.add_argument("--maxsize", type=int, default=5, help="places in the queue")
    args = parser.parse_args()
    began = time.perf_counter()
    asyncio.run(run(args.jobs, args.workers, args.maxsize))
    elapsed = time.perf_counter() - began
    print(f"{args.jobs} jobs through {args.workers} workers in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
