"""The wrapped primitives on small real programs: what they note, how objects are named.

Nothing here depends on how fast the machine is: the programs sleep a few
milliseconds and the tests look at the shape of what was recorded.
"""

from __future__ import annotations

import asyncio
import os
import textwrap

import sim
from sim.record.primitives import ACQUIRE, GATHER, GET, GRANTED, PUT, RELEASE, SUBMIT
from sim.record.program import record_program
from sim.record.render import render
from sim.record.transcript import transcribe


def program(tmp_path, body: str) -> str:
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def codes(task) -> list[int]:
    return [code for _, _, code, _ in task.events]


SHARED = """
    import asyncio, time
    from concurrent.futures import ThreadPoolExecutor

    limit = asyncio.Semaphore(2)  # a module global

    class Store:
        def __init__(self):
            self.guard = asyncio.Lock()  # an attribute

    async def fetch(store, n):
        async with limit:
            await asyncio.sleep(0.005)
        async with store.guard:
            await asyncio.sleep(0)

    async def main():
        store = Store()
        await asyncio.gather(*(fetch(store, n) for n in range(4)))
        results = asyncio.Queue(maxsize=3)  # a local
        await results.put(1)
        await results.get()
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=2) as pool:
            await loop.run_in_executor(pool, time.sleep, 0.002)
        await asyncio.to_thread(time.sleep, 0.002)

    asyncio.run(main())
"""


def test_each_primitive_is_noted_with_the_name_and_capacity_the_program_gave_it(tmp_path):
    raw, status = record_program(program(tmp_path, SHARED), [])
    assert status == 0
    named = {o.name: (o.kind, o.capacity) for o in raw.objects.values()}
    assert named["limit"] == ("semaphore", 2)
    assert named["guard"] == ("lock", 1)
    assert named["results"] == ("queue", 3)
    assert named["pool"] == ("executor", 2)
    assert named["default_executor"][0] == "executor" and named["default_executor"][1] >= 5
    main, *fetches = raw.tasks
    assert [t.function for t in fetches] == ["fetch"] * 4
    for fetch in fetches:
        assert codes(fetch).count(ACQUIRE) == 2 and codes(fetch).count(RELEASE) == 2
        assert codes(fetch).count(GRANTED) == 2
    assert codes(main).count(GATHER) == 1 and codes(main).count(SUBMIT) == 2
    assert PUT in codes(main) and GET in codes(main)
    assert raw.gathers == (tuple(("task", t.serial) for t in fetches),)
    assert len(raw.jobs) == 2 and all(start <= end for _, _, start, end, _ in raw.jobs)


def test_the_primitives_are_put_back_after_recording(tmp_path):
    before = (asyncio.gather, asyncio.Semaphore.acquire, asyncio.Queue.put_nowait)
    record_program(program(tmp_path, SHARED), [])
    assert (asyncio.gather, asyncio.Semaphore.acquire, asyncio.Queue.put_nowait) == before


def test_the_recorded_program_becomes_a_scenario_with_its_limits(tmp_path):
    """The four fetches are one gather block; each holds `limit` through its sleep, then
    `guard`; the queue's put and get stay in main, which gets its own item: a consumer."""
    raw, _ = record_program(program(tmp_path, SHARED), [])
    transcript = transcribe(raw, structured=True)
    assert transcript.resources["limit"] == 2 and transcript.resources["guard"] == 1
    default = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's own default
    assert transcript.executors == {"pool": 2, "default_executor": default}
    scenario = sim.from_yaml(render(transcript, "shared"))
    (gather,) = [step for g in scenario.players for step in g.round if step.kind == "gather"]
    assert gather.gather.count == 4
    holds = [step.with_.resource for step in gather.gather.steps if step.kind == "with"]
    assert holds == ["limit", "guard"]


PIPELINE = """
    import asyncio

    async def producer(jobs):
        for n in range(6):
            await asyncio.sleep(0.001)
            await jobs.put(n)

    async def consumer(jobs):
        while True:
            await jobs.get()
            await asyncio.sleep(0.002)
            jobs.task_done()

    async def main():
        jobs = asyncio.Queue(maxsize=2)
        workers = [asyncio.create_task(consumer(jobs)) for _ in range(2)]
        await producer(jobs)
        await jobs.join()
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    asyncio.run(main())
"""


def test_a_queue_s_producer_has_moves_and_its_consumers_serve_it(tmp_path):
    """main runs the producer in line: 6 rounds of a sleep, a host step and a put; the
    two consumers serve `jobs`, a round being their sleep and the host step after it."""
    raw, _ = record_program(program(tmp_path, PIPELINE), [])
    transcript = transcribe(raw, structured=True)
    main, consumer = transcript.groups
    assert (main.name, main.moves) == ("main", 6)
    assert [p.kind for p in main.positions][-1] == "put"
    assert (consumer.name, consumer.count, consumer.serves) == ("consumer", 2, "jobs")
    assert [p.kind for p in consumer.positions] == ["wait", "host"]
    assert transcript.queues == {"jobs": 2}
    scenario = sim.from_yaml(render(transcript, "pipeline"))
    assert scenario.queues["jobs"].maxsize == 2 and scenario.players[1].serves == "jobs"
