"""Schedules: the ways games can share hosts, and their parameters.

A scenario lists schedules either by name (`cooperative`) or as a one-key
mapping with parameters (`{threaded: {threads: 8}}`). Each kind has its own
parameter model, so a typo in a parameter is caught by validation like any
other field, and `label` tells two schedules of one kind apart in the tables.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import model_validator

from sim.model import Frozen, fail

__all__ = ["DEFAULT_SCHEDULES", "SCHEDULE_KINDS", "Schedule", "ScheduleKind"]

ScheduleKind = Literal["synchronous", "cooperative"]
SCHEDULE_KINDS: tuple[ScheduleKind, ...] = ("synchronous", "cooperative")


class SynchronousParams(Frozen):
    """A host plays one game from first step to last before it takes another."""


class CooperativeParams(Frozen):
    """Games share hosts at every host step, like coroutines on asyncio's loop."""


class Schedule(Frozen):
    """One schedule to play: exactly one of the fields is set."""

    noun: ClassVar[str] = "schedule"

    synchronous: SynchronousParams | None = None
    cooperative: CooperativeParams | None = None

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

    @property
    def label(self) -> str:
        """The kind, plus the parameters that differ from their defaults: `threaded(threads=8)`."""
        changed = self.params.model_dump(exclude_defaults=True)
        if not changed:
            return self.kind
        return f"{self.kind}({', '.join(f'{k}={v}' for k, v in changed.items())})"


DEFAULT_SCHEDULES: tuple[Schedule, ...] = tuple(Schedule.of(kind) for kind in SCHEDULE_KINDS)
