"""From YAML text to a validated `Scenario`, or to errors that say where and why.

PyYAML's composer gives every node its line; pydantic gives every error its
field path. Walking the node tree alongside the error path joins the two, so
a message reads `polgar.yaml:7: players[0].host_move: expected a duration …`.

A `Document` keeps the parsed data and its lines, so the same file can be
validated again under overrides (`--set`, the points of a sweep): an error
inside an overridden value names the override instead of a line. Every
scenario it validates remembers that document and those overrides
(`made_from`), so `sim.with_values` and `sim.sweep` change a scenario the way
`--set` changes its file.

Files are read within `sim.scenario.limits`: a size cap before reading, depth and
alias expansion while parsing (`sim.scenario.yaml_lines`, `sim.scenario.guarded_yaml`),
and the event budget (`Document.refuse_overruns`) once a scenario is valid.
"""

from __future__ import annotations

import difflib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario.errors import Problem, ScenarioError, named, shown
from sim.scenario.frozen import hosts_in_scenario, unit_of_bare_numbers
from sim.scenario.limits import Limits, Overrun, too_much
from sim.scenario.model import Scenario
from sim.scenario.overrides import Override, Placed, apply
from sim.scenario.schedules import Schedule, label_parts
from sim.scenario.units import format_count
from sim.scenario.yaml_lines import Loc, decode, parse, parse_value
from sim.scenario.yaml_lines import path_text as _path

__all__ = [
    "Document",
    "decode",
    "from_yaml",
    "load",
    "load_file",
    "made_from",
    "read_file",
    "read_yaml",
    "schedule_from_text",
    "schedule_of",
]


def load(scenario: str | Path) -> Scenario:
    """A scenario by file path, or by name under `scenarios/` (as `sim run` takes it).

    >>> import sim
    >>> polgar = sim.load("polgar")
    >>> polgar.games, polgar.players[0].host_move, polgar.players[0].player_move
    (24, 5.0, 55.0)

    Bad input raises `ScenarioError`, each problem naming file, line and field.
    """
    from sim.scenario.catalog import find

    return load_file(find(str(scenario)))


@dataclass(frozen=True, eq=False)
class Document:
    """A scenario file's data (a mapping) and the line of every key and item in it."""

    source: str
    data: dict[str, Any]
    lines: dict[Loc, int]

    def scenario(self, overrides: Sequence[Override] = ()) -> Scenario:
        """Validate the data with `overrides` applied; ScenarioError names every problem."""
        data, placed = apply(self.data, overrides) if overrides else (self.data, [])
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as error:
            raise ScenarioError(_problems(error, data, self.lines, self.source, placed)) from None
        _remember(scenario, self, tuple(overrides))
        return scenario

    def line(self, *loc: str | int) -> int | None:
        return self.lines.get(loc)

    def located(self, loc: Loc, message: str) -> Problem:
        """A problem at `loc`, on the line of the deepest part of it that the file holds."""
        return Problem(self.source, _line_of(loc, self.lines), _path(loc), message)

    def refuse_overruns(self, overruns: Sequence[Overrun]) -> None:
        """Raise ScenarioError for figures over a limit (`sim.scenario.limits.too_much`), if any."""
        if overruns:
            raise ScenarioError([self.located(o.loc, o.message) for o in overruns])

    def refuse_over_budget(
        self, scenario: Scenario, max_events: float, schedules: Sequence[Schedule] | None = None
    ) -> None:
        """Raise ScenarioError if playing `scenario` (its replications included, under
        `schedules` or its own) would pass `max_events` step events."""
        overruns = too_much(scenario, max_events, schedules, repeats=scenario.replications)
        self.refuse_overruns(overruns)


#: What each live scenario was validated from, by identity: a frozen model with a `sweep`
#: dict cannot be hashed, and keeping the data outside it leaves its equality and pickling
#: as they are. An entry goes when its scenario does.
_ORIGINS: dict[int, tuple[weakref.ref[Scenario], Document, tuple[Override, ...]]] = {}


def _remember(scenario: Scenario, document: Document, overrides: tuple[Override, ...]) -> None:
    key = id(scenario)

    def forget(gone: weakref.ref[Scenario], origins: dict = _ORIGINS) -> None:
        if origins.get(key, (None,))[0] is gone:
            del origins[key]

    _ORIGINS[key] = (weakref.ref(scenario, forget), document, overrides)


def made_from(scenario: Scenario) -> tuple[Document, tuple[Override, ...]] | None:
    """The document `scenario` was validated from and the overrides applied to it, in
    order; None for a scenario this module did not validate (built in code, unpickled)."""
    entry = _ORIGINS.get(id(scenario))
    if entry is None or entry[0]() is not scenario:
        return None
    return entry[1], entry[2]


def load_file(
    path: Path, overrides: Sequence[Override] = (), limits: Limits | None = None
) -> Scenario:
    """Read and validate one scenario file within `limits`; its stem is the default `name`.

    The event budget counts the scenario's own schedules and replications.
    """
    limits = limits or Limits()
    document = read_file(path, limits)
    scenario = document.scenario(overrides)
    document.refuse_over_budget(scenario, limits.max_events)
    return scenario


def read_file(path: Path, limits: Limits | None = None) -> Document:
    """Read and parse one scenario file, not yet validated; never more than the size limit."""
    limits = limits or Limits()
    source = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(limits.max_file_bytes + 1)  # never more, whatever the file's size
    except OSError as error:
        reason = error.strerror or str(error)
        raise ScenarioError([Problem(source, None, "", f"cannot read: {reason}")]) from None
    if len(raw) > limits.max_file_bytes:
        limit = format_count(limits.max_file_bytes)
        line = raw.count(b"\n", 0, limits.max_file_bytes) + 1
        message = (
            f"the file passes the limit of {limit} bytes on this line; --max-file-size raises it"
        )
        raise ScenarioError([Problem(source, line, "", message)])
    return read_yaml(decode(raw, source), source=source, default_name=path.stem, limits=limits)


def from_yaml(
    text: str,
    source: str = "<string>",
    default_name: str = "scenario",
    limits: Limits | None = None,
) -> Scenario:
    """Validate YAML text into a Scenario; raise ScenarioError naming every problem."""
    limits = limits or Limits()
    document = read_yaml(text, source, default_name, limits)
    scenario = document.scenario()
    document.refuse_over_budget(scenario, limits.max_events)
    return scenario


def read_yaml(
    text: str,
    source: str = "<string>",
    default_name: str = "scenario",
    limits: Limits | None = None,
) -> Document:
    """Parse YAML text into a Document; a syntax error or a non-mapping is a ScenarioError."""
    data, lines = parse(text, source, limits or Limits(), fields=Scenario.model_fields)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        message = f"expected a mapping with at least `players:`, got {got}"
        raise ScenarioError([Problem(source, 1, "", message)])
    data.setdefault("name", default_name)
    return Document(source, data, lines)


def schedule_of(scenario: Scenario, schedule: Schedule | str) -> Schedule:
    """A schedule as code may give it: a `Schedule`, or text as `--schedule` takes it (a
    kind, a label, a mapping as a file writes it), validated as one of `scenario`'s."""
    if isinstance(schedule, Schedule):
        return schedule
    return schedule_from_text(scenario, schedule, source="schedule")


def schedule_from_text(scenario: Scenario, text: str, source: str = "--schedule") -> Schedule:
    """A schedule written out, validated as one of `scenario`'s own (bare numbers in its
    unit, no more hosts than it has): a kind, as the tables label it,
    `threaded(threads=8, gil=false)`, or as a file writes it, `{cooperative: {order:
    asyncio}}`. A ScenarioError says what is wrong, naming `source` and the text."""
    source, limits = f"{source} {text}", Limits()  # a value's limits, as `--set` has them
    parts = label_parts(text)
    if parts is None:
        data = parse_value(text, source, limits)
    else:
        kind, settings = parts
        params: dict[str, Any] = {}
        for setting in settings:
            name, equals, value = setting.partition("=")
            if not equals or not name.strip():
                message = f"expected name=value between the parentheses, got {named(setting)}"
                raise ScenarioError([Problem(source, None, kind, message)])
            params[name.strip()] = parse_value(value, source, limits)
        data = {kind: params}
    unit = unit_of_bare_numbers.set(scenario.unit)
    hosts = hosts_in_scenario.set(scenario.host.count)
    try:
        return Schedule.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_problems(error, data, {}, source, [], root=Schedule)) from None
    finally:
        unit_of_bare_numbers.reset(unit)
        hosts_in_scenario.reset(hosts)


def _problems(
    error: ValidationError,
    data: Any,
    lines: dict[Loc, int],
    source: str,
    placed: list[Placed],
    root: type[BaseModel] = Scenario,
) -> list[Problem]:
    """Each error of `error` as a Problem: `data` validated as a `root`, read from
    `source` at `lines`, with `placed` overrides in it."""
    details = error.errors()
    problems = []
    for detail in details:
        if detail["type"] == "too_short" and _has_inner_error(detail["loc"], details):
            continue  # pydantic counts only the items that passed; the items' errors say more
        if detail["type"] == "invalid_key":  # a key YAML read as a number, bool or null
            loc = (*_in_file(detail["loc"][:-1], data, keep_last=False), _key(detail["input"]))
        else:
            loc = _in_file(detail["loc"], data, keep_last=detail["type"] == "missing")
        message = _message(detail, root)
        inside = [p.override for p in placed if any(loc[: len(at)] == at for at in p.locs)]
        around = [p.override for p in placed if any(at[: len(loc)] == loc for at in p.locs)]
        if inside or (around and loc not in lines):
            # the value at fault came from an override, or was made by one: name it, not a line
            problems.append((inside or around)[-1].problem(_path(loc), message))
            continue
        if around:  # the override changed something inside the part at fault
            message += f" (with {'; '.join(o.source + ' ' + o.text for o in around)})"
        problems.append(Problem(source, _line_of(loc, lines), _path(loc), message))
    return sorted(problems, key=lambda problem: problem.line or 0)


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """The line of the deepest part of `loc` that the file holds."""
    return next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)


def _key(value: Any) -> str:
    """A key that is not text, as it was probably written: `true`, `null`, `7`."""
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _has_inner_error(loc: Loc, details: list[Any]) -> bool:
    return any(
        len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in details
    )


def _in_file(loc: Loc, data: Any, keep_last: bool) -> Loc:
    """The part of pydantic's error path that exists in the file (plus a missing key)."""
    kept: list[str | int] = []
    for position, part in enumerate(loc):
        if isinstance(data, dict) and part not in data and data.get("dist") == part:
            continue  # the tag pydantic adds for the distribution chosen by `dist:`
        in_mapping = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_mapping or in_list:
            data = data[part]
        else:
            if keep_last and position == len(loc) - 1:
                kept.append(part)
            break
        kept.append(part)
    return tuple(kept)


def _message(detail: Any, root: type[BaseModel] = Scenario) -> str:
    """Say what was expected in the scenario's words, not in pydantic's."""
    kind, ctx, got = detail["type"], detail.get("ctx") or {}, _shown(detail.get("input"))
    if kind == "missing":
        return "missing; this field is required"
    if kind == "extra_forbidden":
        return _unknown_field(detail["loc"], root)
    if kind == "invalid_key":
        return f"expected field names as keys, got {got}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"expected a whole number, got {got}"
    if kind in {"float_type", "float_parsing", "finite_number"}:
        return f"expected a number, got {got}"
    if kind in {"greater_than_equal", "greater_than"}:
        sign = "≥" if kind == "greater_than_equal" else ">"
        bound = ctx.get("ge", ctx.get("gt"))
        return f"expected a number {sign} {bound}, got {got}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"expected true or false, got {got}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got none"
    if kind in {"string_type", "string_too_short"}:
        return f"expected non-empty text, got {got}"
    if kind == "string_too_long":
        given = detail.get("input")
        length = format_count(len(given)) if isinstance(given, str) else "more"
        return f"expected at most {ctx.get('max_length')} characters, got {length}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"expected a mapping of fields, got {got}"
    if kind in {"tuple_type", "list_type"}:
        return f"expected a list, got {got}"
    return str(detail["msg"])


def _unknown_field(loc: Loc, root: type[BaseModel]) -> str:
    model, name = _model_at(loc[:-1], root), loc[-1]
    allowed = _field_names(model) if model else []
    noun = model.noun if model else "field"
    message = f"unknown {noun} {named(name)}"
    close = difflib.get_close_matches(str(name)[:100], allowed, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message + (f"; expected one of: {', '.join(allowed)}" if allowed else "")


def _model_at(loc: Loc, root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The model class validating the mapping at `loc` of a `root`, found by following
    field types.

    Where a field admits several models (the distributions of a duration), the
    next part of the path is either a field of some of them or the `dist` tag
    that picked one.
    """
    models: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        fields = [_by_name(m)[part] for m in models if part in _by_name(m)]
        if fields:
            models = [inner for field in fields for inner in _inner_models(field.annotation)]
        else:
            models = [m for m in models if _tag(m) == part]
    return models[0] if len(models) == 1 else None


def _by_name(model: type[BaseModel]) -> dict[str, Any]:
    """A model's fields by the names a file spells them with (`with`, not `with_`)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _field_names(model: type[BaseModel]) -> list[str]:
    """The fields a mapping may hold, in the order the model lists them if it does."""
    return list(getattr(model, "spelt", ())) or sorted(_by_name(model))


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for argument in getattr(annotation, "__args__", ()) for m in _inner_models(argument)]


def _tag(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("dist")
    return field.default if field is not None else None


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown(value)
