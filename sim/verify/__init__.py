"""Checks of the engine against the runtime it models.

- `sim.verify.virtual`: the games as real coroutines on asyncio's own loop,
  fast-forwarded by looptime, so they replay in virtual time (exact check);
  `sim.verify.virtual_shared` replays games that share resources, queues and
  fan-out with `asyncio.Semaphore`, `asyncio.Queue` and `asyncio.gather`
  (`sim.verify.loop_shared`), hosts as `sim.verify.loop_hosts` hands them out.
- `sim.verify.compare`: engine against replay, game by game; same-instant ties.
- `sim.verify.wallclock`: the games played for real on the wall clock, durations
  divided by a scale, in each execution model (approximate check).
- `sim.verify.work`: the work a real step does (busy CPU, sleeps), and games
  that share played on threading's or multiprocessing's primitives,
  importable by worker processes without pulling in the rest of `sim`.

Nothing is imported here, so a worker process that unpickles a function of
`sim.verify.work` loads only that module.
"""
