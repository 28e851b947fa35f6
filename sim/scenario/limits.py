"""How much a scenario may ask for: file size, YAML depth and expansion, events to play.

A scenario file is shared, generated and edited by hand, so nothing in it may
make `sim` read for ever, nest past Python's recursion limit or start a run that
would take days: each limit is checked before the work it guards, and each
refusal says which figure was too large and how to raise the limit. The event
budget also counts, apart from the steps, the hosts, threads and worker
processes each schedule sets up: the engine keeps a slot for each, whether a
game ever uses it or not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scenario.guarded_yaml import MAX_DEPTH, MAX_NODES
from sim.scenario.units import format_count

if TYPE_CHECKING:  # the CLI reads its option parsers here: no models (nor numpy) for `--help`
    from sim.scenario.model import Scenario
    from sim.scenario.schedules import Schedule

__all__ = [
    "EVENTS_PER_PROCESS",
    "MAX_EVENTS",
    "MAX_FILE_BYTES",
    "NO_BUDGET",
    "Limits",
    "Overrun",
    "Units",
    "parse_count",
    "parse_size",
    "setting_up",
    "step_events",
    "sweep_too_much",
    "too_much",
]


#: Step events a run may play unless `--max-events` says otherwise: a few minutes of
#: engine and tables at the µs or so per event `make bench` measures, and ~5 GB of memory.
MAX_EVENTS = 10**8
#: `max_events` when nothing is simulated (`--analytic-only`): no count is too large.
NO_BUDGET = math.inf
#: Bytes a scenario file may hold: a hand-written one is a few hundred.
MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force; the defaults suit any scenario a person would write."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_depth: int = MAX_DEPTH  # mappings and lists inside each other (a step list is 4 deep)
    max_nodes: int = MAX_NODES  # YAML values after expanding every alias
    max_events: int | float = MAX_EVENTS  # step events over all schedules played


@dataclass(frozen=True, slots=True)
class Overrun:
    """One figure over a limit: where it is in the file and what it amounts to."""

    loc: tuple[str | int, ...]
    message: str


def step_events(scenario: Scenario, schedules: int, repeats: int = 1) -> int:
    """Steps over all games, times the schedules played and the repeats (exact integers)."""
    return scenario.step_count * schedules * repeats


def too_much(
    scenario: Scenario,
    max_events: int | float,
    schedules: Sequence[Schedule] | None = None,
    repeats: int = 1,
) -> list[Overrun]:
    """What would push a run past `max_events`: the step events, or what the schedules set up.

    `repeats` multiplies the whole run (replications, points of a sweep). The
    message names the product of the group that weighs most, so the user sees
    which count to lower. The hosts, threads and worker processes the schedules
    set up are counted apart (`setting_up`), so that a count that plays nothing
    (10⁸ hosts for two games) cannot take the memory the budget would give steps.
    """
    played = _played(scenario, schedules)
    runs = len(played)
    overruns = []
    total = step_events(scenario, runs, repeats)
    if total > max_events:
        weights = scenario.rows_by_group()
        index = max(range(len(weights)), key=weights.__getitem__)
        group = scenario.players[index]
        factors = (
            [_counted(weights[index], "step")]  # rounds that depend on queues and fan-out
            if scenario.shares
            else [
                _counted(group.count, "player"),
                _counted(group.moves, "move"),
                _counted(len(group.round), "step"),
            ]
        )
        factors.append(_counted(runs, "schedule"))
        if repeats > 1:
            factors.append(_counted(repeats, "repeat"))
        mine = weights[index] * runs * repeats
        in_all = "" if mine == total else f" ({format_count(total)} in all)"
        overruns.append(
            Overrun(
                ("players", index),
                f"{' × '.join(factors)} = {format_count(mine)} step events{in_all}, over the "
                f"budget of {format_count(max_events)}; --max-events raises it",
            )
        )
    elif not math.isfinite(_total_seconds(scenario)):
        overruns.append(
            Overrun(
                ("players",),
                "the durations add up to more seconds than a float can hold (≈ 1.8e308); "
                "no time could be told apart from another",
            )
        )
    units = setting_up(scenario, played)
    setup = sum(unit.events for unit in units) * repeats
    if setup > max_events:
        terms = _said(units)
        if repeats > 1:
            terms = f"({terms}) × {_counted(repeats, 'repeat')}"
        weighty = max(units, key=lambda unit: unit.events)
        overruns.append(
            Overrun(
                weighty.loc,
                f"setting up {terms} = {format_count(setup)} events, over the budget of "
                f"{format_count(max_events)}; --max-events raises it",
            )
        )
    return overruns


#: Step events one worker process of `parallel` weighs: the engine plays it as a process
#: of its own (about 1.5 kB and 6 to 30 µs each, against about 80 bytes and 0.2 to 1 µs a
#: step event, measured). A host or a thread is a few list slots: one event each.
EVENTS_PER_PROCESS = 30


@dataclass(frozen=True, slots=True)
class Units:
    """Hosts, threads or worker processes that one schedule sets up, and where they come from."""

    noun: str  # "host", "thread" or "worker process"
    count: int
    loc: tuple[str | int, ...]

    @property
    def events(self) -> int:
        return self.count * (EVENTS_PER_PROCESS if self.noun == "worker process" else 1)

    @property
    def text(self) -> str:
        weight = f" × {EVENTS_PER_PROCESS}" if self.noun == "worker process" else ""
        return _counted(self.count, self.noun) + weight


def setting_up(scenario: Scenario, played: Sequence[Schedule]) -> list[Units]:
    """What each schedule played sets up before its games play, whatever they need.

    Hosts for synchronous and cooperative (those they may use), one thread a game or
    `threads` for threaded, `processes` (one a host by default) for parallel: the
    engine keeps a slot for each, games or not. The CPUs that threads and processes
    share cost nothing of their own.
    """
    count = scenario.host.count
    units = []
    for schedule in played:
        place = _place_in_file(scenario, schedule)
        if schedule.threaded is not None:
            threads = schedule.threaded.threads
            loc = ("players",) if threads is None else (*place, "threaded", "threads")
            units.append(Units("thread", threads or scenario.games, loc))
        elif schedule.parallel is not None:
            processes = schedule.parallel.processes
            loc = ("host", "count") if processes is None else (*place, "parallel", "processes")
            units.append(Units("worker process", processes or count, loc))
        else:
            own = getattr(schedule.params, "hosts", None)
            loc = ("host", "count") if own is None else (*place, schedule.kind, "hosts")
            units.append(Units("host", schedule.hosts(count), loc))
    return units


def _place_in_file(scenario: Scenario, schedule: Schedule) -> tuple[str | int, ...]:
    """Where the file lists `schedule`, or nowhere (chosen on the command line, or added)."""
    for index, own in enumerate(scenario.schedules):
        if own is schedule or own == schedule:
            return ("schedules", index)
    return ("schedules",)


def _said(units: Sequence[Units]) -> str:
    """`1 000 hosts × 2 schedules + 3 worker processes × 30`: equal units said once."""
    times = Counter((unit.noun, unit.count) for unit in units)  # in the order first seen
    said = []
    for (noun, number), schedules in times.items():
        text = Units(noun, number, ()).text
        said.append(text if schedules == 1 else f"{text} × {_counted(schedules, 'schedule')}")
    return " + ".join(said)


def sweep_too_much(
    scenarios: Sequence[Scenario],
    max_events: int | float,
    schedules: Sequence[Schedule] | None = None,
) -> list[Overrun]:
    """What would push a sweep past `max_events`: one point alone, or all of them together.

    Each point plays its own replications; a point over the budget by itself
    is named by its product, like a single run.
    """
    for scenario in scenarios:
        overruns = too_much(scenario, max_events, schedules, repeats=scenario.replications)
        if overruns:
            return overruns
    total = sum(
        step_events(scenario, len(_played(scenario, schedules)), scenario.replications)
        for scenario in scenarios
    )
    setup = sum(
        sum(unit.events for unit in setting_up(scenario, _played(scenario, schedules)))
        * scenario.replications
        for scenario in scenarios
    )
    points = format_count(len(scenarios))
    budget = f"over the budget of {format_count(max_events)}; --max-events raises it"
    if total > max_events:
        message = f"{points} points play {format_count(total)} step events in all, {budget}"
        return [Overrun(("sweep",), message)]
    if setup > max_events:
        message = (
            f"{points} points set up hosts, threads and processes worth {format_count(setup)} "
            f"events in all, {budget}"
        )
        return [Overrun(("sweep",), message)]
    return []


def _total_seconds(scenario: Scenario) -> float:
    """Every step's duration added up: the synchronous makespan on one host, a bound on all."""
    try:
        return sum(
            group.count * group.moves * sum(step.duration for step in group.round)
            for group in scenario.players
        )
    except OverflowError:  # counts too large for a float at all
        return math.inf


def _counted(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{format_count(number)} {noun if number == 1 else plural}"


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.I)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20}
_SIZE_UNITS["gib"] = 2**30


def parse_size(text: str) -> int:
    """`"1MB"` → 1 000 000 bytes; `"512KiB"`, `"2e6"` and `"4096"` work too."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f'expected a size like 1MB, 512kB or 2000000, got "{text}"')
    size = float(match[1]) * _SIZE_UNITS[(match[2] or "b").lower()]
    if not math.isfinite(size) or size < 1:
        raise ValueError(f'expected a size of at least 1 byte, got "{text}"')
    return int(size)


_COUNT = re.compile(r"^([0-9][0-9_]*)$|^([0-9]+(?:\.[0-9]*)?)(e|\*\*|\^)([0-9]{1,2})$")


def parse_count(text: str) -> int:
    """`"1e9"`, `"10**9"`, `"10^9"`, `"1_000_000_000"` → a whole number ≥ 1."""
    match = _COUNT.match(text.strip().lower().replace(" ", ""))
    if match is None:
        raise ValueError(f'expected a whole number like 1000000 or 1e9, got "{text}"')
    if match[1] is not None:
        value = int(match[1].replace("_", ""))
    elif match[3] == "e":
        value = int(float(f"{match[2]}e{match[4]}"))
    else:
        value = int(float(match[2]) ** int(match[4]))
    if value < 1:
        raise ValueError(f'expected a whole number ≥ 1, got "{text}"')
    return value


def _played(scenario: Scenario, schedules: Sequence[Schedule] | None) -> tuple[Schedule, ...]:
    from sim.scenario.schedules import played

    return played(scenario.schedules if schedules is None else schedules)
