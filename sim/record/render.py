"""A transcript as scenario YAML: the standard format, with comments that explain it.

Durations are written in milliseconds to the microsecond. Each step of a
group's round holds every task's measured duration as an `empirical`
distribution (sampled with replacement when the scenario is played), or
their mean with `deterministic`; a step whose tasks all took the same time is
a plain number. Long lists are thinned to evenly spaced quantiles so a run
of 10 000 tasks stays a readable file. What the program's tasks shared is
declared before the players: `resources` (a semaphore's initial value, 1 for
a lock), `executors` (the `max_workers` of those `run_in_executor` used) and
`queues` (`maxsize`).
"""

from __future__ import annotations

import os
from statistics import fmean

from sim.record.transcript import Position, RecordedGroup, Transcript

__all__ = [
    "ASYNCIO_ORDER",
    "DEFAULT_MAX_VALUES",
    "group_lines",
    "quoted",
    "render",
    "shared_and_players",
]

#: Most values written per empirical distribution; more become quantiles.
DEFAULT_MAX_VALUES = 200
#: The program's own loop, in asyncio's order, written before the tie rule's cooperative.
ASYNCIO_ORDER = "{cooperative: {order: asyncio}}"
_WIDTH = 100


def render(
    transcript: Transcript,
    name: str,
    *,
    deterministic: bool = False,
    max_values: int = DEFAULT_MAX_VALUES,
) -> str:
    """The scenario file's text."""
    rec = transcript.recording
    busy = transcript.host_s / transcript.makespan_s if transcript.makespan_s else 0.0
    lines = [
        f"# Recorded by `sim record` from: python {rec.program}",
        f"# The program ran {rec.wall_s:.3f} s; its event loop ran {len(rec.tasks)} task(s), "
        f"{transcript.steps} step(s), {transcript.makespan_s:.3f} s from the first task to the "
        f"last step, busy {busy:.0%}.",
        "# host: time a task's coroutine held the loop; wait: time it was suspended and not ready;",
        "# block: a blocking call inside a step (holds the loop, uses no CPU). Time a task was",
        "# ready while the loop ran others is not written: the schedule makes it.",
        *(f"# Note: {note}." for note in transcript.notes),
        *(f"# Flagged: {flag.sentence()}." for flag in transcript.flags),
        f"name: {quoted(name)}",
        f"description: {quoted('recorded from ' + rec.program)}",
        "unit: ms",
        "host:",
        "  name: event loop",
    ]
    lines += shared_and_players(
        transcript,
        deterministic,
        max_values,
        resources="shared by every game: a semaphore, a lock",
        queues="asyncio.Queue(maxsize); 0: unbounded",
    )
    lines += [
        "# order asyncio: the program's own loop, asyncio's order iteration by iteration (how",
        "# late a busy loop runs a task that could run); cooperative: by the tie rule, which",
        "# serves every task the instant it can run; synchronous: one task after another",
    ]
    if any(size > 0 for size in transcript.queues.values()):
        # played one game after another, a producer would wait for ever on a full queue
        lines.append(f"schedules: [{ASYNCIO_ORDER}, cooperative]")
    else:
        lines.append(f"schedules: [{ASYNCIO_ORDER}, cooperative, synchronous]")
    return "\n".join(lines) + "\n"


def shared_and_players(
    transcript: Transcript, deterministic: bool, max_values: int, *, resources: str, queues: str
) -> list[str]:
    """The `resources:`, `queues:` and `players:` blocks, each of the first two under a
    comment saying what in the program it stands for."""
    lines = []
    if transcript.resources:
        lines += [f"resources:   # {resources}"]
        lines += [f"  {name}: {units}" for name, units in transcript.resources.items()]
    if transcript.executors:
        lines += ["executors:   # run_in_executor's pools: max_workers, each job a `with` on one"]
        lines += [f"  {name}: {workers}" for name, workers in transcript.executors.items()]
    if transcript.queues:
        lines += [f"queues:      # {queues}"]
        lines += [f"  {name}: {{maxsize: {size}}}" for name, size in transcript.queues.items()]
    lines.append("players:")
    for group in transcript.groups:
        lines += group_lines(group, deterministic, max_values)
    return lines


def group_lines(group: RecordedGroup, deterministic: bool, max_values: int) -> list[str]:
    where = _short(group.where)
    lines = [
        f"  - name: {quoted(group.name)}   # {group.function} at {where}",
        f"    count: {group.count}",
    ]
    if group.moves > 1:
        lines.append(f"    moves: {group.moves}   # one round per item it puts")
    if group.serves:
        lines.append(f"    serves: {group.serves}   # each round begins by taking an item")
    lines.append("    steps:")
    lines += _steps(group.positions, "      ", deterministic, max_values)
    return lines


def _steps(
    positions: tuple[Position, ...], indent: str, deterministic: bool, max_values: int
) -> list[str]:
    lines = []
    for position in positions:
        if position.note:
            lines.append(f"{indent}# {position.note}")
        if position.kind == "with":
            lines += [f"{indent}- with: {position.target}", f"{indent}  steps:"]
            lines += _steps(position.steps, indent + "    ", deterministic, max_values)
        elif position.kind == "gather":
            lines += [
                f"{indent}- gather:",
                f"{indent}    count: {position.count}",
                f"{indent}    steps:",
            ]
            lines += _steps(position.steps, indent + "      ", deterministic, max_values)
        elif position.kind == "put":
            lines.append(f"{indent}- put: {position.target}")
        else:
            lines.append(_step(position, indent, deterministic, max_values))
    return lines


def _step(position: Position, indent: str, deterministic: bool, max_values: int) -> str:
    values = [round(v * 1e3, 3) for v in position.values]
    head = f"{indent}- {position.kind}: "
    if deterministic or len(set(values)) == 1:
        return head + _number(round(fmean(values), 3))
    values = sorted(values)
    if len(values) > max_values:
        values = _quantiles(values, max_values)
    text = head + "{dist: empirical, values: ["
    indent = " " * len(head)
    out, line = [], text
    for i, value in enumerate(values):
        piece = _number(value) + (", " if i < len(values) - 1 else "]}")
        if len(line) + len(piece) > _WIDTH:
            out.append(line.rstrip())
            line = indent + "  "
        line += piece
    out.append(line)
    return "\n".join(out)


def _quantiles(ordered: list[float], k: int) -> list[float]:
    """k evenly spaced order statistics, smallest and largest kept."""
    last = len(ordered) - 1
    return [ordered[round(i * last / (k - 1))] for i in range(k)]


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def quoted(text: str) -> str:
    """Plain when safe in YAML, else double-quoted with escapes."""
    safe = text and text[0].isalnum() and all(ch.isalnum() or ch in " _-./<>@#()" for ch in text)
    if safe and ": " not in text and " #" not in text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _short(path: str) -> str:
    """A file relative to the working folder when inside it."""
    file, _, line = path.rpartition(":")
    relative = os.path.relpath(file)
    return f"{relative if not relative.startswith('..') else file}:{line}"
