"""Schedules: the ways games can share hosts, and their parameters.

A scenario lists schedules either by name (`cooperative`) or as a one-key
mapping with parameters (`{threaded: {threads: 8}}`). Each kind has its own
parameter model, so a typo in a parameter is caught by validation like any
other field, and `label` tells two schedules of one kind apart in the tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import field_validator, model_validator

from sim.scenario.frozen import Count, Frozen, Seconds, fail, hosts_in_scenario
from sim.scenario.units import format_duration

__all__ = [
    "DEFAULT_SCHEDULES",
    "SCHEDULE_KINDS",
    "CooperativeParams",
    "ParallelParams",
    "Schedule",
    "ScheduleKind",
    "SynchronousParams",
    "ThreadedParams",
    "label_parts",
    "played",
    "written_out",
]

ScheduleKind = Literal["synchronous", "cooperative", "threaded", "parallel"]
SCHEDULE_KINDS: tuple[ScheduleKind, ...] = ("synchronous", "cooperative", "threaded", "parallel")

#: CPython's default switch interval (`sys.getswitchinterval()`), in seconds.
DEFAULT_SWITCH_INTERVAL = 0.005


class _OnSomeHosts(Frozen):
    """Parameters of a schedule that may play on fewer hosts than the scenario has."""

    hosts: Count | None = None

    @field_validator("hosts")
    @classmethod
    def _at_most_the_scenarios(cls, value: int | None) -> int | None:
        available = hosts_in_scenario.get()
        if value is not None and available is not None and value > available:
            fail(f"expected at most host.count ({available}), got {value}")
        return value


class SynchronousParams(_OnSomeHosts):
    """A host plays one game from first step to last before it takes another.

    `hosts` plays on only that many of the scenario's hosts: `hosts: 1` is one
    plain Python program on a machine of `host.count` CPUs.
    """

    noun: ClassVar[str] = "synchronous parameter"


class CooperativeParams(_OnSomeHosts):
    """Games share hosts at every host step, like coroutines on asyncio's loop.

    `hosts: 1` is one event loop on a machine of `host.count` CPUs. `order` is
    who goes next when several games are ready: `tie-rule` (docs/design.md: by
    ready time, then file order, served the instant they are ready) or `asyncio`
    (asyncio's own loop, iteration by iteration, with its clock virtual: one
    loop, `hosts` 1).
    """

    noun: ClassVar[str] = "cooperative parameter"

    order: Literal["tie-rule", "asyncio"] = "tie-rule"

    @model_validator(mode="after")
    def _one_loop(self) -> CooperativeParams:
        if self.order == "asyncio" and self.hosts not in (None, 1):
            fail(f"order asyncio plays on one event loop: expected hosts 1, got {self.hosts}")
        return self


class ThreadedParams(Frozen):
    """OS threads, like `threading.Thread` or `ThreadPoolExecutor(max_workers=threads)`.

    `threads` None means one thread per game. With `gil` CPython's global
    interpreter lock lets one thread run Python at a time and forces a switch
    every `switch_interval` when others wait; without it (free-threaded
    Python) up to `host.count` threads run at once.
    """

    noun: ClassVar[str] = "threaded parameter"

    threads: Count | None = None
    switch_interval: Seconds = DEFAULT_SWITCH_INTERVAL
    gil: bool = True

    @field_validator("switch_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            fail(f"expected a duration > 0 (CPython's default is 5ms), got {value:g}")
        return value


class ParallelParams(Frozen):
    """Worker processes, like `multiprocessing.Pool(processes)`: each plays games synchronously.

    `processes` None means one per host (CPU); `start_cost` is the CPU time a
    worker needs to start before it takes its first game.
    """

    noun: ClassVar[str] = "parallel parameter"

    processes: Count | None = None
    start_cost: Seconds = 0.0


class Schedule(Frozen):
    """One schedule to play: exactly one of the fields is set."""

    noun: ClassVar[str] = "schedule"

    synchronous: SynchronousParams | None = None
    cooperative: CooperativeParams | None = None
    threaded: ThreadedParams | None = None
    parallel: ParallelParams | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        """`cooperative` and `{cooperative: null}` both mean default parameters."""
        if isinstance(data, str):
            return {data: {}}
        if isinstance(data, dict):
            return {key: ({} if value is None else value) for key, value in data.items()}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        chosen = [kind for kind in SCHEDULE_KINDS if getattr(self, kind) is not None]
        if len(chosen) != 1:
            fail(f"expected exactly one schedule: one of {', '.join(SCHEDULE_KINDS)}")
        return self

    @classmethod
    def of(cls, kind: str, **params: Any) -> Schedule:
        """Build from a kind name and parameters, as code would: `Schedule.of("cooperative")`."""
        return cls.model_validate({kind: params})

    @property
    def kind(self) -> ScheduleKind:
        return next(kind for kind in SCHEDULE_KINDS if getattr(self, kind) is not None)

    @property
    def params(self) -> Frozen:
        return getattr(self, self.kind)

    def hosts(self, count: int) -> int:
        """Hosts this schedule may use out of the scenario's `count`."""
        own = getattr(self.params, "hosts", None)
        if self.cooperative is not None and self.cooperative.order == "asyncio":
            return 1
        return count if own is None else own

    def workers(self, games: int, hosts: int) -> int:
        """Threads or processes the games run on: `threads` (default one a game, never
        more than games), `processes` (default one a host); else the hosts."""
        if self.threaded is not None:
            return min(self.threaded.threads or games, games)
        if self.parallel is not None:
            return self.parallel.processes or hosts
        return hosts

    @property
    def label(self) -> str:
        """The kind, plus the parameters that differ from their defaults: `threaded(threads=8)`."""
        changed = self.params.model_dump(exclude_defaults=True)
        if not changed:
            return self.kind
        return f"{self.kind}({', '.join(f'{k}={_shown(v)}' for k, v in changed.items())})"


#: A label as `Schedule.label` writes it: a kind and its changed parameters in parentheses.
_LABEL = re.compile(r"\s*([A-Za-z_][\w-]*)\s*\((.*)\)\s*", re.DOTALL)


def written_out(text: str) -> bool:
    """Whether `text` writes a schedule out (a label with parameters, `threaded(threads=8)`,
    or a mapping, `{threaded: {threads: 8}}`) rather than naming one (a kind, a label
    without parameters)."""
    return any(mark in text for mark in "({:")


def label_parts(text: str) -> tuple[str, list[str]] | None:
    """A label taken apart: the kind, and each `name=value` between the parentheses as
    written (None where `text` is not written as a label with parentheses)."""
    found = _LABEL.fullmatch(text)
    if found is None:
        return None
    kind, inside = found.groups()
    return kind, [part.strip() for part in inside.split(",") if part.strip()]


def _shown(value: Any) -> str:
    """Parameters as a scenario would write them: durations with their unit, `gil=false`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # the only float parameters are durations
        return format_duration(value)
    return str(value)


DEFAULT_SCHEDULES: tuple[Schedule, ...] = tuple(Schedule.of(kind) for kind in SCHEDULE_KINDS)


def played(chosen: Sequence[Schedule]) -> tuple[Schedule, ...]:
    """The schedules a run plays: those chosen, then synchronous when none of them is,
    since every speedup is measured against it."""
    if any(schedule.kind == "synchronous" for schedule in chosen):
        return tuple(chosen)
    return (*chosen, Schedule.of("synchronous"))
