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

Before anything is played, `real_seconds` estimates how long the real runs
will take (the engine's makespans ÷ scale), so that a scale that would make
them run for hours is refused rather than started, and `short_steps` counts
the steps that a division by the scale makes shorter than a real run can
time (`SHORTEST_STEP`): past half of them, the errors measure the timer.

Games that share resources, queues and fan-out are played from a `Program`
(`program_of`) by `SHARED_PLAYERS`. A model under which the engine finds a
deadlock is not played (a real run would hang) and its row says so; a real
run that waits far longer than the engine's figure (`patience`) is stopped
and reported the same way.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from sim.engine import PLAYERS as ENGINE_PLAYERS
from sim.engine import play
from sim.engine.asyncio_shared import several_units
from sim.engine.deadlock import Deadlock
from sim.engine.plan import ACQUIRE, GATHER, GET, PUT, RELEASE, TIMED, Op
from sim.engine.programs import hand_out_order, producers_of
from sim.engine.workload import Workload
from sim.experiment.executors import cores
from sim.scenario.loader import schedule_from_text
from sim.scenario.model import STEP_KINDS, Scenario
from sim.scenario.schedules import Schedule, written_out
from sim.verify.players import PLAYERS, SHARED_PLAYERS, Run
from sim.verify.virtual import games_of
from sim.verify.work import Program, Stuck

__all__ = [
    "AUTO_SECONDS",
    "DEFAULT_SCALE",
    "DETERMINISTIC",
    "MAX_REAL_S",
    "MODELS",
    "SHORTEST_STEP",
    "Model",
    "RealRow",
    "ShortSteps",
    "auto_scale",
    "check",
    "has_gil",
    "models_of",
    "on_this_machine",
    "patience",
    "program_of",
    "real_seconds",
    "short_steps",
    "simulate",
    "without_switch_cost",
]

#: The execution models, in the order they are shown.
MODELS = ("synchronous", "cooperative", "threaded", "parallel")
#: Schedules whose engine run draws nothing from the generator: one run is the answer.
DETERMINISTIC = frozenset({"synchronous", "cooperative"})
#: The scale whose switch interval the estimate of a run's length simulates threads with,
#: at smaller scales (`real_seconds`).
DEFAULT_SCALE = 100.0
#: About how long the real runs of a check take in all where no scale is given.
AUTO_SECONDS = 20.0
#: The longest the real runs of one check may take, by default: 10 minutes.
MAX_REAL_S = 600.0
#: The shortest step of each kind a real run times to within 10 %, measured on a shared
#: 2-CPU Linux machine (CPython 3.11) by playing one game of n equal steps in each
#: player and comparing its makespan with n × the step: CPU work (`burn`, `crunch`)
#: overshoots by 1–5 µs a step (the clock read, a yield to the loop), so 100 µs steps
#: came out 1–5 % long; `time.sleep` wakes about 90 µs late (+10 % at 1 ms, +5 % at
#: 2 ms) and `asyncio.sleep` on the loop's millisecond timeout (+10–17 % at 1 ms, +7 %
#: at 2 ms; any sleep under 1 ms takes about 1.1 ms).
SHORTEST_STEP = {"host": 100e-6, "native": 100e-6, "wait": 2e-3, "block": 2e-3}


@dataclass(frozen=True)
class Model:
    """One execution model to play for real, sized from the scenario's schedule if it has one."""

    kind: str
    label: str
    params: dict = field(default_factory=dict)  # the schedule's parameters, as given

    def arguments(self, scenario: Scenario) -> dict:
        """Keyword arguments of this model's real player."""
        if self.kind in ("synchronous", "cooperative"):
            return {"hosts": Schedule.of(self.kind, **self.params).hosts(scenario.host.count)}
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

    `names` picks some: a label from the file, a model's name, or a schedule written
    out as `--schedule` takes it (a ScenarioError where it is wrong).
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
        if not found and written_out(name):
            schedule = schedule_from_text(scenario, name)
            params = schedule.params.model_dump(exclude_defaults=True)
            found = [Model(schedule.kind, schedule.label, params)]
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
    #: why the model was not played, or stopped: the engine's deadlock, a stuck real run
    unplayed: str | None = None

    @property
    def makespans(self) -> list[float]:
        """Each run's makespan × scale."""
        return [run.makespan * self.scale for run in self.runs]

    @property
    def measured(self) -> float:
        """Median makespan × scale (NaN when nothing was played)."""
        return statistics.median(self.makespans) if self.runs else math.nan

    @property
    def cpu_wait(self) -> float:
        """Median seconds × scale the run's threads waited for a CPU (NaN if unknown)."""
        if not self.runs:
            return math.nan
        return statistics.median(run.cpu_wait for run in self.runs) * self.scale

    @property
    def error(self) -> float | None:
        """(measured − simulated) / simulated, or None with nothing to compare."""
        if self.simulated is None or self.simulated == 0 or not self.runs:
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
    shares = workload.shared is not None
    games = None if shares else games_of(workload, scale)
    rows = []
    for model in models:
        try:
            simulated = simulate(workload, model, scale, replications)
        except Deadlock as deadlock:
            first = deadlock.waits[0] if deadlock.waits else "games wait"
            unplayed = (
                f"not played: the engine deadlocks at {deadlock.at:g} s ({first}), "
                "so a real run would never end"
            )
            rows.append(RealRow(model, scale, (), None, unplayed))
            continue
        arguments = model.arguments(workload.scenario)
        if shares:
            player = SHARED_PLAYERS[model.kind]
            work: object = program_of(workload, scale, patience(simulated, scale))
        else:
            player, work = PLAYERS[model.kind], games
        runs: list[Run] = []
        unplayed = None
        for number in range(1, repeat + 1):
            try:
                run = player(work, **arguments)
            except Stuck as stuck:
                unplayed = f"stopped: {stuck}"
                break
            runs.append(run)
            if on_run is not None:
                on_run(model, number, run)
        rows.append(RealRow(model, scale, tuple(runs), simulated, unplayed))
    return rows


def auto_scale(
    workload: Workload, models: Sequence[Model], repeat: int, seconds: float = AUTO_SECONDS
) -> float:
    """The scale a check plays at where none is given: the smallest that keeps its real
    runs to about `seconds` in all, since the longer every step, the less of a run is
    the cost of running it rather than its steps; never below 1, which would lengthen
    them. Two significant figures, rounded up."""
    needed = real_seconds(workload, models, 1.0, repeat) / seconds
    if not math.isfinite(needed):
        return DEFAULT_SCALE  # the estimate refuses it, whatever the scale
    if needed <= 1.0:
        return 1.0
    places = math.floor(math.log10(needed)) - 1  # the second figure's place
    whole = math.ceil(needed / 10.0**places)
    return whole * 10.0**places if places >= 0 else whole / 10.0**-places


def real_seconds(workload: Workload, models: Sequence[Model], scale: float, repeat: int) -> float:
    """About how long the real runs of `check` take: each model's engine makespan ÷
    `scale`, `repeat` times (a model the engine finds deadlocked is not played).

    One engine run a model; threaded is simulated with the switch interval of a run
    ÷ `DEFAULT_SCALE` where the scale is smaller, which keeps the estimate cheap at any
    scale (a run ÷ 10⁻⁹ would switch every 5 ps) and moves its makespan by a few per
    cent (8 % for polgar ÷ 1).
    """
    local = on_this_machine(workload)
    total = 0.0
    for model in models:
        schedule = counterpart(model, max(scale, DEFAULT_SCALE)) or Schedule.of("synchronous")
        try:
            makespan = play(local, schedule, np.random.default_rng(0)).makespan
        except Deadlock:
            continue
        total += makespan / scale * repeat
    return total


@dataclass(frozen=True)
class ShortSteps:
    """Steps that, divided by the scale, are shorter than a real run can time."""

    short: int  # steps under `SHORTEST_STEP` of their kind, once divided
    timed: int  # steps that take any time at all
    shortest: float  # the shortest of those, divided (seconds)
    #: the largest scale at which at least half the steps are timed faithfully
    largest_scale: float

    @property
    def too_many(self) -> bool:
        """Half the steps or more: the timer's overshoot is then a large part of any error."""
        return self.short > 0 and 2 * self.short >= self.timed


def short_steps(workload: Workload, scale: float) -> ShortSteps:
    """Count the steps that `scale` makes shorter than `SHORTEST_STEP` of their kind
    (steps of no duration are timed exactly: they are left out)."""
    codes = [STEP_KINDS.index(kind) for kind in SHORTEST_STEP]
    kinds, durations = [workload.kind], [workload.duration]
    plan = workload.plan
    for group, table in (workload.served or {}).items():  # a consumer's rounds
        row = np.array([leaf.code for leaf in plan.leaves[group]], dtype=np.int8)
        kinds.append(np.tile(row, len(table)))
        durations.append(np.asarray(table, dtype=float).ravel())
    kind, duration = np.concatenate(kinds), np.concatenate(durations)
    limit = np.zeros(len(STEP_KINDS))
    limit[codes] = list(SHORTEST_STEP.values())
    timed = (duration > 0) & np.isin(kind, codes)
    if not timed.any():
        return ShortSteps(0, 0, math.nan, math.inf)
    seconds, shortest_ok = duration[timed], limit[kind[timed]]
    short = int(np.count_nonzero(seconds / scale < shortest_ok))
    largest = float(np.median(seconds / shortest_ok))
    return ShortSteps(short, int(timed.sum()), float(seconds.min() / scale), largest)


def patience(simulated: float | None, scale: float) -> float:
    """Real seconds a wait may last before a real run is taken to be stuck: far beyond
    the whole run as the engine plays it."""
    return 30.0 + 10.0 * (simulated or 0.0) / scale


def program_of(workload: Workload, scale: float = 1.0, patience: float = 60.0) -> Program:
    """A workload whose games share, as plain data for the real players, every duration
    divided by `scale`."""
    plan = workload.plan
    first = workload.first_step.tolist()
    duration = workload.duration / scale
    rounds: list[tuple[tuple[float, ...], ...] | None] = []
    for game, group in enumerate(workload.group.tolist()):
        if plan.serves[group] >= 0:
            rounds.append(None)
            continue
        width = len(plan.leaves[group])
        table = duration[first[game] : first[game + 1]].reshape(-1, width)
        rounds.append(tuple(map(tuple, table.tolist())))
    served = {
        group: tuple(map(tuple, (table / scale).tolist()))
        for group, table in (workload.served or {}).items()
    }
    serving = [plan.serves[group] for group in workload.group.tolist()]
    return Program(
        names=plan.names,
        capacity=plan.capacity,
        resources=plan.resources,
        several=frozenset(several_units(plan)),
        executors=plan.executors,
        ops=tuple(_plain(ops) for ops in plan.ops),
        puts=tuple(tuple(sorted(queues)) for queues in plan.puts),
        groups=tuple(workload.group.tolist()),
        rounds=tuple(rounds),
        served=served,
        order=tuple(hand_out_order(workload)),
        producers=tuple(producers_of(workload)),
        consumers=tuple(serving.count(index) for index in range(len(plan.names))),
        patience=patience,
    )


def _plain(ops: tuple[Op, ...]) -> tuple[tuple, ...]:
    """The engine's operations as the plain tuples of `sim.verify.work`."""
    plain: list[tuple] = []
    for op in ops:
        if op.code == TIMED:
            plain.append(("timed", op.leaf, STEP_KINDS[op.kind]))
        elif op.code in (ACQUIRE, RELEASE):
            plain.append(("acquire" if op.code == ACQUIRE else "release", op.leaf, op.shared,
                          op.units))  # fmt: skip
        elif op.code in (PUT, GET):
            plain.append(("put" if op.code == PUT else "get", op.leaf, op.shared))
        else:
            assert op.code == GATHER
            plain.append(("gather", op.leaf, op.count, op.width, _plain(op.child)))
    return tuple(plain)
