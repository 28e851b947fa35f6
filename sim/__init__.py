"""sim: how long does this work take synchronously, cooperatively (asyncio), with threads or
with processes? A discrete-event simulator in virtual time.

The public API, for scripts and notebooks (the `sim` command is a thin layer over it):

>>> import sim
>>> s = sim.load("polgar")                       # a name under scenarios/, or a path
>>> r = sim.run(s, schedules=["synchronous", "cooperative"], seed=1)
>>> r.summary[["schedule", "makespan_s", "makespan_hms"]].to_dict("records")
[{'schedule': 'synchronous', 'makespan_s': 43200.0, 'makespan_hms': '12:00:00'}, \
{'schedule': 'cooperative', 'makespan_s': 3655.0, 'makespan_hms': '1:00:55'}]
>>> len(r.games), len(r.steps)                   # the CSVs' rows, as DataFrames
(48, 2880)
>>> table = sim.sweep(s, {"players.amateur.count": range(1, 49)})
>>> knee = table.pivot(index="players.amateur.count", columns="schedule", values="makespan_s")
>>> knee.loc[[1, 12, 13, 24, 48], "cooperative"].tolist()
[1800.0, 1855.0, 2005.0, 3655.0, 7255.0]

Names are imported on first use, so `import sim` stays cheap (pandas and the
engine load only when `run` is called).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "from_yaml",
    "load",
    "plot",
    "run",
    "sweep",
    "with_values",
]

#: Public name → the module that defines it; imported on first access (PEP 562).
_HOME = {
    "Result": "sim.results.result",
    "Scenario": "sim.scenario.model",
    "ScenarioError": "sim.scenario.errors",
    "Schedule": "sim.scenario.schedules",
    "from_yaml": "sim.scenario.loader",
    "load": "sim.scenario.loader",
    "plot": "sim.output.plots",
    "run": "sim.experiment.runs",
    "sweep": "sim.experiment.sweeps",
    "with_values": "sim.scenario.with_values",
}

if TYPE_CHECKING:
    from sim.experiment.runs import run
    from sim.experiment.sweeps import sweep
    from sim.output.plots import plot
    from sim.results.result import Result
    from sim.scenario.errors import ScenarioError
    from sim.scenario.loader import from_yaml, load
    from sim.scenario.model import Scenario
    from sim.scenario.schedules import Schedule
    from sim.scenario.with_values import with_values


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
