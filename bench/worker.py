"""One measurement in a fresh process: `python bench/worker.py MODEL SCHEDULE PLAYERS [HOSTS]`.

Prints one JSON line: wall and CPU seconds of the measured part, the peak
RSS of the whole process, the makespan (to check every model agrees) and the
number of steps. Models:

- `sim`: `sim.experiment.runs.run` on the polgar shape (the synchronous baseline
  included, as `sim run` does) plus the summary and games tables;
- `engine`: only `sim.engine.play` for the schedule, on a built workload;
- `shared`: `run` and the tables, on the polgar shape whose host steps sit inside a
  resource of 1 000 boards, plus one item per player through a queue to 10 scorers
  (the task engine's figure: a resource and a queue, as many players);
- `naive`: bench/naive.py, the plain SimPy model;
- `heapq`: bench/heapq_loop.py, the pure-Python loop (cooperative only).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROUNDS, HOST, WAIT = 30, 5.0, 55.0


def measure(model: str, schedule: str, players: int, hosts: int) -> dict:
    if model == "shared":
        from sim.experiment.runs import run
        from sim.scenario.model import Scenario

        group = {"name": "p", "count": players, "moves": ROUNDS}
        with_board = {"with": "boards", "steps": [{"host": HOST}]}
        scenario = Scenario(
            host={"count": hosts},
            resources={"boards": 1000},
            queues={"scores": {}},
            players=[
                {**group, "steps": [with_board, {"wait": WAIT}]},
                {"name": "score", "count": players, "steps": [{"put": "scores"}]},
                {"name": "scorer", "count": 10, "serves": "scores", "steps": [{"wait": 1.0}]},
            ],
        )
        began, cpu = time.perf_counter(), time.process_time()
        result = run(scenario, [schedule])
        result.summary, result.games  # noqa: B018 - built here, as `sim run` would
        makespan = float(result.summary["makespan_s"].iloc[0])
        steps = len(result.traces[0].start)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return {"wall": wall, "cpu": cpu, "rss": peak, "makespan": makespan, "steps": steps}
    if model in ("sim", "engine"):
        from sim.engine import play
        from sim.engine.workload import Workload
        from sim.experiment.runs import run
        from sim.scenario.model import Scenario
        from sim.scenario.schedules import Schedule

        group = {"name": "p", "count": players, "moves": ROUNDS}
        scenario = Scenario(
            host={"count": hosts}, players=[{**group, "host_move": HOST, "player_move": WAIT}]
        )
        if model == "engine":
            workload = Workload.of(scenario)
            began, cpu = time.perf_counter(), time.process_time()
            makespan = play(workload, Schedule.of(schedule)).makespan
        else:
            began, cpu = time.perf_counter(), time.process_time()
            result = run(scenario, [schedule])
            result.summary, result.games  # noqa: B018 - built here, as `sim run` would
            makespan = float(result.summary["makespan_s"].iloc[0])
    else:
        module = __import__("naive" if model == "naive" else "heapq_loop")
        began, cpu = time.perf_counter(), time.process_time()
        makespan = getattr(module, schedule)(players, ROUNDS, HOST, WAIT, hosts)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    steps = players * ROUNDS * 2
    return {"wall": wall, "cpu": cpu, "rss": peak, "makespan": makespan, "steps": steps}


if __name__ == "__main__":
    model, schedule, players = sys.argv[1], sys.argv[2], int(sys.argv[3])
    hosts = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    print(json.dumps(measure(model, schedule, players, hosts)))
