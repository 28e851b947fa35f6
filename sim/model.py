"""Shared ground for the scenario models: frozen, strict about unknown fields.

Every model of the scenario format derives from `Frozen`, so a scenario, once
validated, cannot change under the engine, and a misspelt field is an error
rather than silently ignored.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, ClassVar, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sim.units import parse_duration

__all__ = ["Count", "Frozen", "Seconds", "fail", "hosts_in_scenario", "unit_of_bare_numbers"]

#: The scenario's `unit` while its fields are validated; durations read it.
unit_of_bare_numbers: ContextVar[str] = ContextVar("unit_of_bare_numbers", default="s")
#: The scenario's `host.count` while its schedules are validated (None: unknown or invalid).
hosts_in_scenario: ContextVar[int | None] = ContextVar("hosts_in_scenario", default=None)


class Frozen(BaseModel):
    """Immutable, no unknown fields; `noun` names the thing in error messages."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    noun: ClassVar[str] = "field"


def fail(message: str) -> NoReturn:
    """Raise a validation error whose text reaches the user unchanged."""
    raise PydanticCustomError("sim", "{message}", {"message": message})


def _seconds(value: object) -> float:
    try:
        return parse_duration(value, unit_of_bare_numbers.get())
    except ValueError as error:
        fail(str(error))


#: A duration, given as a number in the scenario's unit or a string with a unit; held in seconds.
Seconds = Annotated[float, BeforeValidator(_seconds)]

#: A whole number ≥ 1 (strict: `2.5`, `"3"` and `true` are refused, not coerced).
Count = Annotated[int, Field(strict=True, ge=1)]
