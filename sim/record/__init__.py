"""`sim record`: measure a real asyncio program once, write it down as a scenario.

`loop` times every task step on asyncio's own loop; `primitives` notes what each
task waited on (semaphores, locks, queues, gathers, executors); `program` runs a
script under both and keeps the raw recording (standard library only, so it runs
in the user's interpreter); `structure` makes each task's life a tree of steps
and blocks; `transcript` cuts the recording into groups and steps; `render`
writes the scenario file; `scenario_file` ties them together for the two front
doors, `sim record` and `python -m sim.record`.
"""
