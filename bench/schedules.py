"""How long each schedule takes to play polgar-shaped work (engine only, CPU seconds).

Plain script, run by `make bench-threads`: the threaded schedule's cost grows
with the number of GIL switches (host work ÷ switch interval, when threads
contend), the others' with the number of steps.
"""

from __future__ import annotations

import time

import numpy as np

from sim.engine import play
from sim.engine.workload import Workload
from sim.scenario.errors import ScenarioError
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule

SCHEDULES = (
    Schedule.of("synchronous"),
    Schedule.of("cooperative"),
    Schedule.of("threaded"),
    Schedule.of("threaded", switch_interval=0.5),
    Schedule.of("threaded", gil=False),
    Schedule.of("parallel", processes=4),
)


def main() -> None:
    print(f"{'players × 30 rounds (5 s / 55 s)':34} {'schedule':34} {'CPU s':>7} {'switches':>10}")
    for players, hosts in ((24, 1), (240, 4), (1_000, 4)):
        group = {"name": "p", "count": players, "moves": 30, "host_move": 5, "player_move": 55}
        workload = Workload.of(Scenario(host={"count": hosts}, players=[group]))
        for schedule in SCHEDULES:
            label = f"{players:,} players, {hosts} host(s)"
            began = time.process_time()
            try:
                trace = play(workload, schedule, np.random.default_rng(0))
            except ScenarioError as error:
                print(f"{label:34} {schedule.label:34} refused: {error.problems[0].message}")
                continue
            spent = time.process_time() - began
            print(f"{label:34} {schedule.label:34} {spent:7.2f} {trace.switches:10,}", flush=True)


if __name__ == "__main__":
    main()
