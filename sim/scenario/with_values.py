"""What-ifs in code: a scenario with some fields changed, the way `--set` changes its file.

There is one way to change a scenario: the overrides of `sim.scenario.overrides`,
applied to the data it was validated from and validated again by the loader.
`with_values` and `sim.sweep` find that data with `origin`, so a path, a
value, `*` and `unit` mean in code what they mean on the command line, and a
mistake reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.frozen import Seconds
from sim.scenario.loader import Document, made_from
from sim.scenario.model import Scenario
from sim.scenario.overrides import Override

__all__ = ["origin", "with_values"]

#: Where the overrides of `with_values` come from, as error messages name them.
_SOURCE = "with_values"
#: What messages call the source of a scenario the loader did not make: it has no file.
_BUILT = "<built in code>"
#: The validator that reads a duration in the scenario's unit: it marks a duration field.
_DURATION = Seconds.__metadata__[0]


def with_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """`scenario` with the fields at the dotted paths set to the values, as `--set` sets them.

    Paths are those of `--set` (`sim.scenario.overrides`): `host.count`,
    `players.amateur.count` (a group by name, else by index), `players.*.moves`
    (every group), a group field alone (`host_move`: every group), `sweep.KEY`.
    Values are what YAML would read: numbers, text with a unit (`"10s"`),
    a distribution as a dict. The result is validated like the file, so a wrong
    path or value is a `ScenarioError` worded as for `--set`, naming the path:
    `with_values players.amateur.count: players[0].count: expected a whole number …`.

    A bare number for a duration is read in the scenario's `unit`. Setting `unit`
    changes the unit in which every bare number is read, as `--set unit=min`
    does for a file: those of the scenario's file, of the what-ifs it was made
    with, and of this call. A scenario the loader did not make (`sim.Scenario(...)`,
    or one unpickled) has no file: its durations stay, `unit` applies to this call's.

    >>> import sim
    >>> polgar = sim.load("polgar")  # unit: s, host_move: 5, player_move: 55
    >>> s = sim.with_values(polgar, {"players.amateur.count": 48, "host_move": "10s"})
    >>> s.games, s.players[0].host_move, s.players[0].player_move
    (48, 10.0, 55.0)
    >>> slow = sim.with_values(polgar, {"unit": "min", "players.*.moves": 2})
    >>> slow.players[0].host_move, slow.players[0].player_move, slow.players[0].moves
    (300.0, 3300.0, 2)
    """
    document, made_with = origin(scenario)
    changes = [Override(path, value, _SOURCE) for path, value in values.items()]
    return document.scenario([*made_with, *changes])


def origin(scenario: Scenario) -> tuple[Document, tuple[Override, ...]]:
    """The document `scenario` was validated from and the overrides already applied to it.

    A scenario the loader did not make has none: its given fields stand in for one
    (defaults left out, so they stay defaults: `sim.run` tells a default
    schedule list from a given one), every duration as text in seconds, which
    keeps its value whatever `unit` says.
    """
    found = made_from(scenario)
    if found is not None:
        return found
    return Document(_BUILT, _given(scenario), {}), ()


def _given(model: BaseModel) -> dict[str, Any]:
    """The fields given to `model` (a law's `dist` always: it picks the law)."""
    fields = type(model).model_fields
    return {
        name: _written(getattr(model, name), _is_duration(field))
        for name, field in fields.items()
        if name in model.model_fields_set or name == "dist"
    }


def _written(value: Any, duration: bool) -> Any:
    """A field's value as a file would hold it: mappings, lists, durations with their unit."""
    if isinstance(value, BaseModel):
        return _given(value)
    if isinstance(value, tuple | list):
        return [_written(item, duration) for item in value]
    if isinstance(value, dict):  # the sweep block: values as given, read when applied
        return {key: _written(item, False) for key, item in value.items()}
    if duration and isinstance(value, float):
        return f"{value!r}s"  # repr: the float exactly
    return value


def _is_duration(field: FieldInfo) -> bool:
    return _DURATION in field.metadata or _marks(field.annotation)


def _marks(annotation: Any) -> bool:
    """Whether a duration is among the types `annotation` admits (a union, a tuple's items)."""
    if _DURATION in getattr(annotation, "__metadata__", ()):
        return True
    return any(_marks(argument) for argument in get_args(annotation))
