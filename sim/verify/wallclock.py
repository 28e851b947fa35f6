"""The wall-clock check: real runs beside the engine's figure for the same work.

A scenario is played for real in each execution model with every duration
divided by `scale`; the median measured makespan, times `scale`, is set beside
the engine's makespan where the engine has that schedule. What does not
shrink with the scale is simulated as the scaled run really had it:

- CPython's switch interval (`sys.getswitchinterval()`, 5 ms) is the same in
  a run ÷ 100, so a threaded schedule is simulated with `switch_interval` =
  the real interval × scale;
- pools are warmed up before the clock starts, so `start_cost` is 0;
- a real run moves from one game to another in microseconds, so a scenario's
  `host.switch_cost` (where it has one) is 0;
- real processes and threads run on this machine's CPUs, so hosts (a
  scenario's `host.count`, a schedule's `hosts`) are at most as many;
- on a Python with a GIL, a `threaded(gil=false)` run's threads share it, so
  it is simulated with the GIL.

Schedules that leave something to chance are simulated `replications` times
and averaged.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from sim.engine import PLAYERS as ENGINE_PLAYERS
from sim.engine import play
from sim.engine.workload import Workload
from sim.experiment.executors import cores
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from sim.verify.players import PLAYERS, Run
from sim.verify.virtual import games_of

__all__ = [
    "DETERMINISTIC",
    "MODELS",
    "Model",
    "RealRow",
    "check",
    "has_gil",
    "models_of",
    "on_this_machine",
    "simulate",
    "without_switch_cost",
]

#: The execution models, in the order they are shown.
MODELS = ("synchronous", "cooperative", "threaded", "parallel")
#: Schedules whose engine run draws nothing from the generator: one run is the answer.
DETERMINISTIC = frozenset({"synchronous", "cooperative"})


@dataclass(frozen=True)
class Model:
    """One execution model to play for real, sized from the scenario's schedule if it has one."""

    kind: str
    label: str
    params: dict = field(default_factory=dict)  # the schedule's parameters, as given

    def arguments(self, scenario: Scenario) -> dict:
        """Keyword arguments of this model's real player."""
        if self.kind in ("synchronous", "cooperative"):
            return {"hosts": self.params.get("hosts") or scenario.host.count}
        if self.kind == "threaded":
            return {"threads": self.params.get("threads")}
        return {"processes": self.params.get("processes") or scenario.host.count}

    def notes(self) -> list[str]:
        """What a real run of this model cannot honour on this Python."""
        if self.kind == "threaded" and self.params.get("gil") is False and has_gil():
            return [
                f"{self.label}: this Python has a GIL, so the real threads share it; "
                "simulated with the GIL too"
            ]
        return []


def models_of(scenario: Scenario, names: Sequence[str] = ()) -> list[Model]:
    """The scenario's own schedules, then every execution model it lacks with defaults.

    `names` picks some: a label from the file or a model's name.
    """
    own = [
        Model(schedule.kind, schedule.label, schedule.params.model_dump(exclude_defaults=True))
        for schedule in scenario.schedules
    ]
    given = {model.kind for model in own}
    every = own + [Model(kind, kind) for kind in MODELS if kind not in given]
    every.sort(key=lambda model: MODELS.index(model.kind) if model.kind in MODELS else len(MODELS))
    if not names:
        return [model for model in every if model.kind in MODELS]
    chosen = []
    for name in names:
        found = [m for m in every if m.label == name] or [m for m in every if m.kind == name]
        if not found or found[0].kind not in MODELS:
            expected = ", ".join(dict.fromkeys([m.label for m in every if m.kind in MODELS]))
            raise ValueError(f"unknown execution model {name!r}; expected one of: {expected}")
        chosen.append(found[0])
    return chosen


@dataclass(frozen=True)
class RealRow:
    """One model's real runs (real seconds) beside the engine's makespan (scaled back)."""

    model: Model
    scale: float
    runs: tuple[Run, ...]
    simulated: float | None

    @property
    def makespans(self) -> list[float]:
        """Each run's makespan × scale."""
        return [run.makespan * self.scale for run in self.runs]

    @property
    def measured(self) -> float:
        """Median makespan × scale."""
        return statistics.median(self.makespans)

    @property
    def cpu_wait(self) -> float:
        """Median seconds × scale the run's threads waited for a CPU (NaN if unknown)."""
        return statistics.median(run.cpu_wait for run in self.runs) * self.scale

    @property
    def error(self) -> float | None:
        """(measured − simulated) / simulated, or None with nothing to compare."""
        if self.simulated is None or self.simulated == 0:
            return None
        return (self.measured - self.simulated) / self.simulated


def has_gil() -> bool:
    """Whether this Python runs threads under a GIL (every CPython before 3.13t)."""
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def counterpart(model: Model, scale: float, cpus: int | None = None) -> Schedule | None:
    """The engine's schedule for a run ÷ `scale` of this model, if the engine has one.

    `cpus`: the CPUs the real run had (default: those this process may use).
    """
    if model.kind not in ENGINE_PLAYERS:
        return None
    cpus = cores() if cpus is None else cpus
    params = dict(model.params)
    fields = type(Schedule.of(model.kind).params).model_fields
    if "switch_interval" in fields:
        params["switch_interval"] = sys.getswitchinterval() * scale
    if "start_cost" in fields:
        params["start_cost"] = 0.0
    if params.get("hosts"):
        params["hosts"] = min(params["hosts"], cpus)
    if params.get("gil") is False and has_gil():
        params["gil"] = True
    return Schedule.of(model.kind, **params)


def on_this_machine(workload: Workload, cpus: int | None = None) -> Workload:
    """The workload as a real run here has it: no `host.switch_cost`, and no more hosts
    than CPUs (`cpus`, default those this process may use)."""
    workload = without_switch_cost(workload)
    cpus = cores() if cpus is None else cpus
    host = workload.scenario.host
    if host.count <= cpus:
        return workload
    scenario = workload.scenario.model_copy(
        update={"host": host.model_copy(update={"count": cpus})}
    )
    return replace(workload, scenario=scenario)


def without_switch_cost(workload: Workload) -> Workload:
    """The workload with `host.switch_cost` 0: a real run moves between games in microseconds."""
    host = workload.scenario.host
    if not getattr(host, "switch_cost", 0.0):
        return workload
    scenario = workload.scenario.model_copy(
        update={"host": host.model_copy(update={"switch_cost": 0.0})}
    )
    return replace(workload, scenario=scenario)


def simulate(
    workload: Workload, model: Model, scale: float, replications: int = 20
) -> float | None:
    """The engine's makespan for this model's real run, averaged over replications if random."""
    schedule = counterpart(model, scale)
    if schedule is None:
        return None
    workload = on_this_machine(workload)
    rng = np.random.default_rng(0)
    count = 1 if schedule.kind in DETERMINISTIC else replications
    return float(np.mean([play(workload, schedule, rng).makespan for _ in range(count)]))


def check(
    workload: Workload,
    models: Sequence[Model],
    scale: float,
    repeat: int,
    replications: int = 20,
    on_run: Callable[[Model, int, Run], None] | None = None,
) -> list[RealRow]:
    """Play each model `repeat` times for real; set the engine's figure beside it."""
    games = games_of(workload, scale)
    rows = []
    for model in models:
        simulated = simulate(workload, model, scale, replications)
        player = PLAYERS[model.kind]
        runs = []
        for number in range(1, repeat + 1):
            run = player(games, **model.arguments(workload.scenario))
            runs.append(run)
            if on_run is not None:
                on_run(model, number, run)
        rows.append(RealRow(model, scale, tuple(runs), simulated))
    return rows
