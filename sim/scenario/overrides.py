"""Changes to a scenario by dotted path, applied to its YAML data before validation.

`--set players.amateur.count=48`, every point of a sweep and every what-if of
`sim.with_values` are overrides: the one way to change a scenario. They change
the raw data, not the validated model, so validation sees exactly what a file
with the change would hold: `--set unit=min` changes the meaning of the file's
bare numbers, and a wrong value gets the usual error, naming the override
instead of a line.

Paths:

- dotted fields, `host.count`; list items by index from 0 (`players.0.count`,
  also `players[0].count` as error messages write it) or, for lists of named
  things, by name (`players.amateur.count`; unnamed groups are `group-1`, …;
  a name wins over an index when a group is called `0`);
- `*` for every item: `players.*.moves`;
- shorthand: a path that starts with a player-group field which is not also
  a field of the scenario or of `host` means that field in every group, so
  `host_move=1` is `players.*.host_move=1`. `count` is ambiguous (the host
  has one too) and must be spelled out;
- `sweep.KEY` sets one entry of the `sweep:` block, whose keys hold dots.

Values are YAML: `48`, `5s`, `min`, `[cooperative]`, `{dist: exponential, mean: 5}`;
from code (`sim.with_values`, `sim.sweep`), the Python values YAML would give.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sim.scenario.errors import Problem, ScenarioError, named, shown
from sim.scenario.limits import Limits
from sim.scenario.model import Host, PlayerGroup, Scenario
from sim.scenario.yaml_lines import parse_value, path_text

__all__ = ["Override", "Placed", "apply", "parse", "show"]

Loc = tuple[str | int, ...]

_GROUP_FIELDS = set(PlayerGroup.model_fields) - set(Scenario.model_fields) - set(Host.model_fields)
#: Fields of both a group and the host, and not of the scenario: `count`.
_AMBIGUOUS = set(PlayerGroup.model_fields) & set(Host.model_fields) - set(Scenario.model_fields)
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Override:
    """Set `path` to `value`. `source` and `line` say where it was asked for, for messages."""

    path: str
    value: Any
    source: str = "--set"
    line: int | None = None

    @property
    def text(self) -> str:
        """`path=value`, as it could be typed again."""
        return f"{self.path}={show(self.value)}"

    def problem(self, path: str, message: str) -> Problem:
        where = self.source if self.line is not None else f"{self.source} {self.path}"
        return Problem(where, self.line, path, message)


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an override landed in the data: one location, or several through `*`."""

    override: Override
    locs: tuple[Loc, ...]


def parse(text: str, source: str = "--set", limits: Limits | None = None) -> Override:
    """`PATH=VALUE` from the command line; the value is read as YAML, as a file is."""
    path, equals, value = text.partition("=")
    path = path.strip()
    if not equals or not path:
        message = f"expected PATH=VALUE, e.g. players.amateur.count=48, got {named(text)}"
        raise ScenarioError([Problem(source, None, "", message)])
    override = Override(path, None, source)
    return Override(path, read_value(value, override, limits), source)


def read_value(text: str, override: Override, limits: Limits | None = None) -> Any:
    """A value as YAML reads it, by the loader and within the limits of a file (nesting,
    aliases, numbers YAML 1.1 reads oddly, text no field holds); "" is the empty string."""
    if not text.strip():
        return ""
    try:
        return parse_value(text, override.source, limits or Limits())
    except ScenarioError as error:
        problems = [override.problem(p.path, p.message) for p in error.problems]
        raise ScenarioError(problems) from None


def show(value: Any) -> str:
    """A value as one line of YAML: `48`, `5s`, `{dist: exponential, mean: 5}`."""
    if isinstance(value, str):
        return value
    try:
        text = yaml.safe_dump(
            _copy(value), default_flow_style=True, sort_keys=False, allow_unicode=True
        )
    except (yaml.YAMLError, ValueError):  # a value from code that YAML has no form for
        return shown(value)
    return text.strip().removesuffix("...").strip()


def apply(data: dict[str, Any], overrides: Sequence[Override]) -> tuple[dict[str, Any], list]:
    """A copy of `data` with every override in place, later ones winning, and where each went."""
    changed = _copy(data)
    placed: list[Placed] = []
    problems: list[Problem] = []
    for override in overrides:
        try:
            locs = tuple(_place(changed, _segments(override), override))
        except _Refused as refused:
            problems.append(override.problem(refused.path, refused.message))
            continue
        placed.append(Placed(override, locs))
    if problems:
        raise ScenarioError(problems)
    return changed, placed


class _Refused(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _segments(override: Override) -> list[str]:
    path = override.path
    if path.startswith("sweep.") and len(path) > len("sweep."):
        return ["sweep", path[len("sweep.") :]]
    segments = _INDEX.sub(r".\1", path).split(".")
    if any(not segment for segment in segments):
        raise _Refused("", f"expected a dotted path like players.amateur.count, got {named(path)}")
    first = segments[0]
    if first in _GROUP_FIELDS:
        return ["players", "*", *segments]
    if first in _AMBIGUOUS:
        raise _Refused(
            "",
            f"{named(first)} alone is ambiguous: write host.{first} or players.NAME.{first} "
            f"(players.*.{first} for every group)",
        )
    return segments


def _place(node: Any, segments: list[str], override: Override, loc: Loc = ()) -> Iterator[Loc]:
    """Set the value at `segments` under `node`; yield each location set."""
    segment, rest = segments[0], segments[1:]
    for key in _keys(node, segment, loc):
        here = (*loc, key)
        if not rest:
            node[key] = _copy(override.value)  # each place its own: a later override changes one
            yield here
            continue
        child = node[key] if isinstance(node, list) else node.get(key)
        if child is None:
            child = node[key] = {}
        if loc == ("schedules",):
            child, here = _schedule_params(node, key, segment, rest[0], here)
        if not isinstance(child, dict | list):
            message = f"is {shown(child)}, not a mapping: cannot set {'.'.join(rest)} in it"
            raise _Refused(path_text(here), message)
        yield from _place(child, rest, override, here)


def _schedule_params(
    schedules: list, key: int, segment: str, following: str, here: Loc
) -> tuple[Any, Loc]:
    """Where a path goes on inside a schedule, and its place: written as a bare kind,
    `threaded` is `{threaded: {}}`; named by its kind (`schedules.threaded.threads`), the
    path goes on in its parameters, as `schedules[2].threaded.threads` does."""
    schedule = schedules[key]
    kind = _kind(schedule)
    by_kind = segment == kind
    if kind is None or not (by_kind or following == kind):
        return schedule, here
    if isinstance(schedule, str):
        schedule = schedules[key] = {kind: {}}
    if not by_kind:
        return schedule, here
    if schedule[kind] is None:
        schedule[kind] = {}
    return schedule[kind], (*here, kind)


def _keys(node: Any, segment: str, loc: Loc) -> list[str | int]:
    """The keys `segment` names in `node`: a mapping key, a list index or name, or `*`."""
    if isinstance(node, dict):
        return [segment]
    if segment == "*":
        if not node:
            raise _Refused(path_text(loc), "is an empty list: `*` selects nothing")
        return list(range(len(node)))
    names = [_name(item, index, loc) for index, item in enumerate(node)]
    if names.count(segment) > 1:
        places = ", ".join(f"[{i}]" for i, name in enumerate(names) if name == segment)
        raise _Refused(path_text(loc), f"{named(segment)} is more than one: {places}")
    if segment in names:
        return [names.index(segment)]
    if segment.isdigit() and int(segment) < len(node):
        return [int(segment)]
    known = [name for name in names if name is not None]
    what = "player group" if loc == ("players",) else "item"
    choices = f"{', '.join(known)}, or " if known else ""
    message = f"no {what} {named(segment)}; expected {choices}an index 0..{len(node) - 1}, or *"
    if not node:
        message = f"no {what} {named(segment)}: the list is empty"
    raise _Refused(path_text(loc), message)


def _name(item: Any, index: int, loc: Loc) -> str | None:
    """What a path may call a list's item by: a group's name; a schedule's kind."""
    if loc == ("schedules",):
        return _kind(item)
    if not isinstance(item, dict):
        return None
    if "name" in item:
        return str(item["name"])
    return f"group-{index + 1}" if loc == ("players",) else None


def _kind(schedule: Any) -> str | None:
    """The kind of a schedule as a file writes it: `threaded`, `{threaded: {threads: 8}}`."""
    if isinstance(schedule, str):
        return schedule
    if isinstance(schedule, dict) and len(schedule) == 1:
        return str(next(iter(schedule)))
    return None


def _copy(value: Any) -> Any:
    """A deep copy that also unshares YAML aliases, so one override changes one place;
    tuples (from code) become lists, whose items a later override can set."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value
