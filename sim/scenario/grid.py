"""The values a sweep varies, and the grid of what-ifs they span.

One grammar for `--vary PATH=SPEC` and for the `sweep:` block of a scenario
file. A SPEC is a comma-separated list whose items are YAML values or ranges:

- `1..48` every whole number from 1 to 48; `48..1` counts down;
- `0.5..2:0.5` from 0.5 to 2 in steps of 0.5 (the end is kept when the steps reach it);
- `50ms..200ms:50ms` the same with a unit, giving `"50ms"`, `"100ms"`, …;
- `1,5,10`, `1..5,10,20`, `[1, 5, {dist: exponential, mean: 5}]` lists, ranges inside.

In a file the spec may also be a YAML list. Ranges are computed in decimal, so
`0.1..0.3:0.1` gives exactly 0.1, 0.2, 0.3.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, WithJsonSchema

from sim.scenario.errors import named
from sim.scenario.frozen import fail
from sim.scenario.guarded_yaml import load

__all__ = ["MAX_POINTS", "MAX_VALUES", "Axis", "parse_values", "points"]

#: Values one axis may have: a typo such as `1..1e9` should be an error, not a hang.
MAX_VALUES = 100_000
#: Points a whole grid may have: three axes of 1..1000 are 10⁹ scenarios to validate.
MAX_POINTS = 100_000

_NUMBER = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
_PART = rf"\s*(?P<{{0}}>{_NUMBER})\s*(?P<{{0}}_unit>[a-zµ]*)\s*"
_RANGE = re.compile(
    "^" + _PART.format("start") + r"\.\." + _PART.format("stop") + f"(?::{_PART.format('step')})?$"
)


def parse_values(spec: Any) -> tuple[Any, ...]:
    """Every value a spec stands for, in order; ValueError says what is wrong."""
    if isinstance(spec, list | tuple):
        items = list(spec)
    elif isinstance(spec, str):
        items = _split(spec)
    elif isinstance(spec, dict):
        items = [spec]
    elif spec is None:
        raise ValueError("expected values like 1..48, 1,5,10 or a list, got nothing")
    else:
        items = [spec]
    values: list[Any] = []
    for item in items:
        expanded = _range(item) if isinstance(item, str) else None
        values.extend(expanded if expanded is not None else [item])
        if len(values) > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES:,} values; is a range or its step mistyped?")
    if not values:
        raise ValueError("expected at least one value")
    return tuple(values)


def _axis(spec: Any) -> tuple[Any, ...]:
    try:
        return parse_values(spec)
    except ValueError as error:
        fail(str(error))


#: How an axis may be written, for `sim schema`: a list, a spec such as `1..48`, one value.
AXIS_SCHEMA = {
    "type": ["array", "string", "number", "boolean", "object"],
    "description": "The values to sweep: a list, or a spec like 1..48, 0.5..2:0.5, 1,5,10.",
}

#: A validated axis of a `sweep:` block: the values it takes, in order.
Axis = Annotated[tuple[Any, ...], BeforeValidator(_axis), WithJsonSchema(AXIS_SCHEMA)]


def points(axes: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The full grid: the first axis varies slowest, so its values lead the rows."""
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


def _split(text: str) -> list[Any]:
    """Items of a comma list, each read as YAML; commas inside [], {} or quotes do not split."""
    stripped = text.strip()
    if stripped.startswith("["):
        loaded = _yaml(stripped)
        if not isinstance(loaded, list):
            raise ValueError(f"expected a list, got {named(stripped)}")
        return loaded
    items, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    if any(not item.strip() for item in items):
        raise ValueError(f"empty item in {named(text)}")
    return [_yaml(item.strip()) for item in items]


def _yaml(text: str) -> Any:
    """An item as YAML reads it, with the guards of a file (nesting, aliases, `010`)."""
    try:
        return load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        if "maximum nesting depth" in problem:  # libyaml's own limit, at 1 000
            problem = "nested too deep"
        raise ValueError(f"not valid YAML in {named(text)}: {problem}") from None


def _range(text: str) -> list[Any] | None:
    """Expand `a..b[:step]`, or None when `text` is no range."""
    match = _RANGE.match(text)
    if match is None:
        return None
    units = {match[f"{part}_unit"] for part in ("start", "stop", "step")} - {"", None}
    if len(units) > 1:
        raise ValueError(f"one unit per range, got {', '.join(sorted(units))} in {named(text)}")
    unit = units.pop() if units else ""
    try:
        start, stop = Decimal(match["start"]), Decimal(match["stop"])
        step = abs(Decimal(match["step"])) if match["step"] else Decimal(1)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise ValueError(f"expected numbers in {named(text)}") from None
    if step == 0:
        raise ValueError(f"a range needs a step > 0, got 0 in {named(text)}")
    count = int(abs(stop - start) // step) + 1
    if count > MAX_VALUES:
        raise ValueError(f"{named(text)} has {count:,} values, more than {MAX_VALUES:,}")
    sign = 1 if stop >= start else -1
    values = [start + sign * i * step for i in range(count)]
    if unit:
        return [f"{_plain(value)}{unit}" for value in values]
    whole = all(
        match[part] is None or re.fullmatch(r"[-+]?\d+", match[part])
        for part in ("start", "stop", "step")
    )
    return [int(value) if whole else float(value) for value in values]


def _plain(value: Decimal) -> str:
    """`Decimal('100.0')` → `100`, `Decimal('0.50')` → `0.5`: as a person writes it."""
    text = format(value.normalize(), "f")
    return text
