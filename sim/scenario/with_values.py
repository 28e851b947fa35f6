"""What-ifs in code: a scenario with some fields changed.

A field is named by its dotted path in the scenario file: `host.count`,
`players.amateur.count` (a group by name or by index, `players.0.count`), or
a group field alone (`host_move`), which changes it in every group. A bare
number for a duration is read in the scenario's `unit`, as in the file
(`unit` itself cannot change: a loaded scenario holds seconds). The
changed scenario is validated like a file, so a wrong path or value is a
`ScenarioError` naming the path and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loader import _message, _path  # the file loader's wording, for the same mistakes
from sim.scenario.model import Host, PlayerGroup, Scenario

__all__ = ["with_values"]

_SOURCE = "<what-if>"


def with_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """`scenario` with the fields at the dotted paths set to the values.

    >>> import sim
    >>> s = sim.with_values(sim.load("polgar"), {"players.amateur.count": 48, "host_move": "10s"})
    >>> s.games, s.players[0].host_move, s.players[0].player_move
    (48, 10.0, 55.0)
    """
    if "unit" in values:
        message = "a loaded scenario holds seconds; give durations with a unit instead, like '5min'"
        raise ScenarioError([Problem(_SOURCE, None, "unit", message)])
    data = _as_lists(scenario.model_dump(exclude_none=True))
    data["unit"] = "s"  # every dumped duration is in seconds
    places: dict[str, list[tuple]] = {}
    for path in values:
        places[path] = _place(data, path, path)
    # A bare number is first read as a duration in the file's unit; where that is refused
    # (a count, say), as the plain number.
    reading = {
        path: f"{value}{scenario.unit}" if _is_number(value) and scenario.unit != "s" else value
        for path, value in values.items()
    }
    for _ in range(2):
        try:
            return Scenario.model_validate(_with(data, reading))
        except ValidationError as error:
            refused = {tuple(detail["loc"]) for detail in error.errors()}
            failed = error
        plain = [p for p in values if reading[p] != values[p] and _hit(places[p], refused)]
        if not plain:
            break
        reading.update({path: values[path] for path in plain})
    details = failed.errors()
    problems = [
        Problem(_SOURCE, None, _path(detail["loc"]), _message(detail))
        for detail in details
        if detail["type"] != "too_short" or len(details) == 1  # a follow-on of the others
    ]
    raise ScenarioError(problems)


def _hit(locs: list[tuple], refused: set[tuple]) -> bool:
    return any(loc == bad[: len(loc)] for loc in locs for bad in refused)


def _place(data: dict[str, Any], path: str, origin: str) -> list[tuple]:
    """Check the path exists (so a typo is named), mark it for `origin`'s value; its locations."""
    parts = path.split(".")
    if len(parts) == 1 and parts[0] in PlayerGroup.model_fields and parts[0] in Host.model_fields:
        message = f"{path!r} is a field of the host and of every group: write host.{path} or "
        raise ScenarioError([Problem(_SOURCE, None, path, message + f"players.NAME.{path}")])
    if parts[0] in PlayerGroup.model_fields and parts[0] not in Scenario.model_fields:
        return [
            loc
            for index in range(len(data["players"]))
            for loc in _place(data, f"players.{index}.{path}", origin)
        ]
    node: Any = data
    loc: list[Any] = []
    for depth, part in enumerate(parts):
        key = _key(node, part, path)
        loc.append(key)
        if depth == len(parts) - 1:
            if isinstance(node, dict) and key not in node and not _settable(parts):
                raise _unknown(path, part)
            node[key] = _Placeholder(origin)
        else:
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]
    return [tuple(loc)]


def _key(node: Any, part: str, path: str) -> Any:
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return int(part)
        names = [item.get("name") for item in node]
        if part in names:
            return names.index(part)
        raise ScenarioError(
            [Problem(_SOURCE, None, path, f"no group {part!r}; groups: {', '.join(names)}")]
        )
    if not isinstance(node, dict):
        raise _unknown(path, part)
    return part


def _settable(parts: list[str]) -> bool:
    """A field left at its default (absent from the dump) may still be set."""
    fields = {"players": PlayerGroup.model_fields}.get(parts[0], Scenario.model_fields)
    return parts[-1] in fields or len(parts) <= 2


def _unknown(path: str, part: str) -> ScenarioError:
    return ScenarioError([Problem(_SOURCE, None, path, f"unknown field {part!r}")])


class _Placeholder:
    def __init__(self, path: str) -> None:
        self.path = path


def _as_lists(data: Any) -> Any:
    """The dump with tuples as lists, so items can be replaced in place."""
    if isinstance(data, dict):
        return {key: _as_lists(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_as_lists(item) for item in data]
    return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _with(data: Any, reading: dict[str, Any]) -> Any:
    if isinstance(data, _Placeholder):
        return reading[data.path]
    if isinstance(data, dict):
        return {key: _with(value, reading) for key, value in data.items()}
    if isinstance(data, list):
        return [_with(item, reading) for item in data]
    return data
