"""How much a scenario may ask for: file size, YAML depth and expansion, step events.

A scenario file is shared, generated and edited by hand, so nothing in it may
make `sim` read for ever, nest past Python's recursion limit or start a run that
would take days: each limit is checked before the work it guards, and each
refusal says which figure was too large and how to raise the limit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scenario.units import format_count

if TYPE_CHECKING:  # the CLI reads its option parsers here: no models (nor numpy) for `--help`
    from sim.scenario.model import Scenario
    from sim.scenario.schedules import Schedule

__all__ = [
    "MAX_EVENTS",
    "MAX_FILE_BYTES",
    "NO_BUDGET",
    "Limits",
    "Overrun",
    "parse_count",
    "parse_size",
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
    max_depth: int = 100  # mappings and lists inside each other (a step list is 4 deep)
    max_nodes: int = 1_000_000  # YAML values after expanding every alias
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
    """What would push a run past `max_events`: the step events, or the host count.

    `repeats` multiplies the whole run (replications, points of a sweep). The
    message names the product of the group that weighs most, so the user sees
    which count to lower.
    """
    runs = len(_played(scenario, schedules))
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
    if scenario.host.count > max_events:
        overruns.append(
            Overrun(
                ("host", "count"),
                f"{format_count(scenario.host.count)} hosts, over the budget of "
                f"{format_count(max_events)} events; --max-events raises it",
            )
        )
    return overruns


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
    if total <= max_events:
        return []
    message = (
        f"{format_count(len(scenarios))} points play {format_count(total)} step events in all, "
        f"over the budget of {format_count(max_events)}; --max-events raises it"
    )
    return [Overrun(("sweep",), message)]


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
    return f"{format_count(number)} {noun}{'' if number == 1 else 's'}"


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
