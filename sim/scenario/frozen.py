"""Shared ground for the scenario models: frozen, strict about unknown fields.

Every model of the scenario format derives from `Frozen`, so a scenario, once
validated, cannot change under the engine, and a misspelt field is an error
rather than silently ignored.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, ClassVar, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.scenario.units import DURATION_PATTERN, parse_duration

__all__ = [
    "Count",
    "Frozen",
    "Seconds",
    "fail",
    "fail_at",
    "hosts_in_scenario",
    "unit_of_bare_numbers",
]

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


def fail_at(loc: tuple[str | int, ...], message: str, value: object) -> NoReturn:
    """Like `fail`, for a rule over the whole model that can name the field at fault."""
    error = PydanticCustomError("sim", "{message}", {"message": message})
    details = [InitErrorDetails(type=error, loc=loc, input=value)]
    raise ValidationError.from_exception_data("scenario", details)


def _seconds(value: object) -> float:
    try:
        return parse_duration(value, unit_of_bare_numbers.get())
    except ValueError as error:
        fail(str(error))


#: How a duration may be written, for `sim schema`: what `_seconds` accepts.
DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": DURATION_PATTERN},
    ],
    "description": 'A duration: a number in the scenario unit, or "250ms", "55s", "1.5min", "1h".',
}

#: A duration, given as a number in the scenario's unit or a string with a unit; held in seconds.
Seconds = Annotated[float, BeforeValidator(_seconds), WithJsonSchema(DURATION_SCHEMA)]

#: A whole number ≥ 1 (strict: `2.5`, `"3"` and `true` are refused, not coerced).
Count = Annotated[int, Field(strict=True, ge=1)]
