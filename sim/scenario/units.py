"""Durations: the units a scenario may speak in, and how figures are shown.

Scenario files say `55`, `"55s"`, `"250ms"` or `"1.5min"`; everything below the
scenario layer works in float seconds, so the conversion lives here, once.
"""

from __future__ import annotations

import math
import re

from sim.scenario.errors import shown

__all__ = [
    "DURATION_PATTERN",
    "UNITS",
    "format_count",
    "format_duration",
    "format_hms",
    "format_seconds",
    "parse_duration",
]

#: Seconds per unit. `unit:` in a scenario and the suffix of a duration string use these.
UNITS: dict[str, float] = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}

_DURATION = re.compile(
    r"^\s*(?P<sign>[-+]?)(?P<value>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE](?P<exp>[+-]?[0-9]+))?\s*(?P<unit>[a-zµ]*)\s*$"
)
_ALIASES = {"µs": "us", "sec": "s", "second": "s", "seconds": "s", "m": "min", "hr": "h"}
#: The strings `parse_duration` accepts, as a JSON Schema (ECMA-262) pattern for editors.
DURATION_PATTERN = (
    r"^\s*\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*(?:"
    + "|".join(sorted([*UNITS, *_ALIASES], key=len, reverse=True))
    + r")?\s*$"
)


def parse_duration(value: object, unit: str = "s") -> float:
    """Return `value` in seconds; bare numbers are in `unit`.

    Raises ValueError with a message fit for a user (it ends up after the field
    path in the error line), never a bare parse failure.
    """
    if isinstance(value, bool):  # bool is an int subclass; `true` is no duration
        raise ValueError(_expected(value))
    if isinstance(value, int | float):
        # an int past a float's range (YAML reads any number of digits) is no finite one
        seconds = float(value) * UNITS[unit] if abs(value) < 2**1024 else math.inf
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(_expected(value))
        suffix = _ALIASES.get(match["unit"], match["unit"]) or unit
        if suffix not in UNITS:
            unit = match["unit"][:20]
            raise ValueError(
                f"unknown unit {unit!r} in {shown(value)}; use one of {', '.join(UNITS)}"
            )
        exponent = f"e{match['exp']}" if match["exp"] else ""
        number = float(match["sign"] + match["value"] + exponent)
        seconds = number * UNITS[suffix]
    else:
        raise ValueError(_expected(value))
    if not math.isfinite(seconds):
        raise ValueError(f"expected a finite duration, got {shown(value)}")
    if seconds < 0:
        raise ValueError(f"expected a duration ≥ 0, got {shown(value)}")
    return seconds


def _expected(value: object) -> str:
    return f'expected a duration like 5, "5s" or "250ms", got {shown(value)}'


def format_count(count: float) -> str:
    """`1250000` → `1 250 000`: thousands grouped by a space, as every figure is shown;
    past 18 digits `≈ 1.2e25`, so that a count typed with too many zeros stays readable."""
    if 10**18 <= count < math.inf:
        exponent = math.log10(count)  # exact enough for any int; float() would overflow
        return f"≈ {10 ** (exponent % 1):.1f}e{math.floor(exponent)}"
    return f"{count:,}".replace(",", " ")


#: The finest decimal `format_seconds` shows: an instant's (`sim.engine.clock.DIGITS`).
_FINEST = 12


def format_seconds(seconds: float) -> str:
    """`43200.0` → `43 200 s`; `1.5` → `1.5 s`; `0.0009` → `0.0009 s`: thousands grouped,
    no needless decimals, milliseconds from 0.1 s up and three significant figures below
    (a scenario in microseconds would otherwise read `0.001 s`, or `0 s`)."""
    if not math.isfinite(seconds):
        return "—"
    if abs(seconds - round(seconds)) < 1e-9 * max(1.0, abs(seconds)):
        return f"{format_count(round(seconds))} s"
    decimals = 3 if abs(seconds) >= 0.1 else min(_FINEST, 2 - math.floor(math.log10(abs(seconds))))
    return f"{seconds:,.{decimals}f}".rstrip("0").rstrip(".").replace(",", " ") + " s"


def format_hms(seconds: float) -> str:
    """`3655` → `1:00:55`; fractions keep up to milliseconds (`0:00:01.5`)."""
    if not math.isfinite(seconds):
        return ""
    # past 10¹⁵ s a float holds no milliseconds, and `seconds * 1000` may overflow
    millis = round(seconds * 1000) if abs(seconds) < 1e15 else int(seconds) * 1000
    whole, frac = divmod(millis, 1000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    if frac:
        text += f".{frac:03d}".rstrip("0")
    return text


def format_duration(seconds: float) -> str:
    """A duration as a scenario would write it: `0.005` → `5ms`, `90` → `1.5min`, `0` → `0s`.

    The largest unit in which the figure is at least 1 and needs at most three
    decimals; used in labels such as `threaded(switch_interval=50ms)`.
    """
    if seconds == 0 or not math.isfinite(seconds):
        return f"{seconds:g}s"
    for unit in ("h", "min", "s", "ms", "us"):
        value = seconds / UNITS[unit]
        if value >= 1 and abs(value - round(value, 3)) <= 1e-9 * value:
            return f"{round(value, 3):g}{unit}"
    return f"{seconds:g}s"
