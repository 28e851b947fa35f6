"""A program that is not asyncio, recorded as calls (`sim.record.calls`), as a scenario.

Games of one function, role and pool with one sequence of step kinds form a
group (a game that hit one more blocking call is a group apart, so the
others' durations are not mixed with its); each step of the group's round
keeps every game's duration. The schedules answer the question the program's
author has: the program's own schedule first (`synchronous` on one host for a
loop, `threaded` with the pool's size for a `ThreadPoolExecutor`, one thread
per game for threads), then the rewrites: cooperative on one event loop (an
asyncio rewrite), threads as `ThreadPoolExecutor()` sizes its pool by default,
and as many processes as CPUs, as `ProcessPoolExecutor()` does. `host.count`
is the recording machine's CPUs.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass

from sim.record.calls import RawCalls, RawGame
from sim.record.program import RawObject, RawRecording
from sim.record.render import quoted, shared_and_players
from sim.record.structure import Get, Leaf, Put, With, shape
from sim.record.transcript import RecordedGroup, cleaned, positions_of, rounds_of, served_queue

__all__ = ["CallTranscript", "NothingCalled", "render_calls", "transcribe_calls"]


class NothingCalled(Exception):
    """The `--task` named was never called: there are no games to write."""


@dataclass(frozen=True)
class CallTranscript:
    """The recording as groups, with the program's own schedule and the rewrites'."""

    recording: RawRecording
    calls: RawCalls
    groups: tuple[RecordedGroup, ...]
    schedules: tuple[str, ...]  # YAML of each schedule, the program's own first
    own: str  # the program's own schedule's label
    cpus: int
    notes: tuple[str, ...]

    @property
    def makespan_s(self) -> float:
        """From the first game's start to the last one's end."""
        games = self.calls.games
        return max(g.end for g in games) - min(g.start for g in games) if games else 0.0

    def seconds(self, kind: str) -> float:
        """Seconds of every step of `kind` over the games, inside `with` blocks too."""
        return sum(_seconds(game.steps, kind) for game in self.calls.games)

    @property
    def resources(self) -> dict[str, int]:
        """The locks and semaphores held in the games, by name: their units."""
        return {n: units for kind, n, units in self.calls.objects.values() if kind != "queue"}

    @property
    def queues(self) -> dict[str, int]:
        """The queues the games used, by name: their maxsize (0: unbounded)."""
        return {n: size for kind, n, size in self.calls.objects.values() if kind == "queue"}

    @property
    def executors(self) -> dict[str, int]:
        """None: a pool running the games is the threaded schedule's, not an executor."""
        return {}


def transcribe_calls(recording: RawRecording, cpus: int | None = None) -> CallTranscript:
    """Group the games and choose the schedules."""
    calls = recording.calls
    assert calls is not None
    cpus = cpus or os.cpu_count() or 1
    if calls.task is not None and calls.task.unknown:
        raise NothingCalled("--task " + "; ".join(calls.task.unknown))
    if (
        calls.task is not None
        and calls.task.given
        and not any(g.role == "task" for g in calls.games)
    ):
        called = ", ".join(f"{name} ({n})" for name, n in calls.calls[:8]) or "none"
        raise NothingCalled(
            f"--task {calls.task.name}: never called by the program; its most called "
            f"functions (calls): {called}"
        )
    objects = {n: RawObject(kind, name, size) for n, (kind, name, size) in calls.objects.items()}
    trees = [(game, _nodes(game.steps)) for game in calls.games]
    serving = [served_queue(nodes) for _, nodes in trees]
    served = {queue for queue in serving if queue is not None}
    counts: Counter[str] = Counter()
    buckets: dict[tuple, list[tuple[RawGame, list]]] = {}
    for (game, nodes), serves in zip(trees, serving, strict=True):
        role, rounds = rounds_of(cleaned(nodes, served, serves, counts), False, counts)
        key = (game.function, game.where, game.role, role, shape(rounds[0]))
        buckets.setdefault(key, []).append((game, rounds))
    names = _names([key[0] for key in buckets])
    groups = []
    for name, (key, members) in zip(names, buckets.items(), strict=True):
        function, where, kind, role, _shape = key
        columns = [nodes for _, rounds in members for nodes in rounds]
        positions, _flags = positions_of(name, columns, objects, math.inf, "")
        label = function if kind != "main" else "the main thread outside the games"
        groups.append(
            RecordedGroup(
                name, label, where, len(members), positions,
                moves=role[1] if role[0] == "moves" else 1,
                serves=objects[role[1]].name if role[0] == "serves" else "",
            )
        )  # fmt: skip
    own, schedules = _schedules(calls, cpus)
    notes = list(calls.notes)
    if len(buckets) > len({key[0] for key in buckets}):
        notes.append("games of one function took different paths (more or fewer waits): "
                     "each path is a group of its own")  # fmt: skip
    return CallTranscript(recording, calls, tuple(groups), schedules, own, cpus, tuple(notes))


def _nodes(steps: list) -> list:
    """A game's steps as the transcript's tree: leaves (a timed step's seconds on the wall
    and on the CPU alike), `with` blocks, and items put and taken."""
    nodes: list = []
    for step in steps:
        if step[0] == "with":
            nodes.append(With(step[1], _nodes(step[2])))
        elif step[0] == "put":
            nodes.append(Put(step[1]))
        elif step[0] == "get":
            nodes.append(Get(step[1]))
        else:
            nodes.append(Leaf(step[0], step[1], step[1], -1, None))
    return nodes


def _seconds(steps: list, kind: str) -> float:
    return sum(
        _seconds(step[2], kind) if step[0] == "with" else (step[1] if step[0] == kind else 0.0)
        for step in steps
        if step[0] not in ("put", "get")
    )


def _schedules(calls: RawCalls, cpus: int) -> tuple[str, tuple[str, ...]]:
    """The program's own schedule, then the rewrites (as YAML flow mappings)."""
    pool_threads = min(32, cpus + 4)  # ThreadPoolExecutor()'s own default
    loop = "{synchronous: {hosts: 1}}"
    asyncio_rewrite = "{cooperative: {hosts: 1}}"
    processes = f"{{parallel: {{processes: {cpus}}}}}"
    if calls.pools:
        size = max(calls.pools.values())
        own = f"{{threaded: {{threads: {size}}}}}"
        others = [loop, asyncio_rewrite]
        if size != pool_threads:
            others.append(f"{{threaded: {{threads: {pool_threads}}}}}")
        return f"threaded (a pool of {size})", (own, *others, processes)
    if any(g.role == "thread" for g in calls.games):
        own = "{threaded: {}}"
        pooled = f"{{threaded: {{threads: {pool_threads}}}}}"
        return "threaded (a thread per game)", (own, loop, asyncio_rewrite, pooled, processes)
    pooled = f"{{threaded: {{threads: {pool_threads}}}}}"
    return "synchronous", (loop, asyncio_rewrite, pooled, processes)


def _names(functions: list[str]) -> list[str]:
    """A group name per bucket: its function's last dotted part, then `#2`, `#3`, … for
    the function's other paths, made unique."""
    names: list[str] = []
    used: set[str] = set()
    for function in functions:
        base = function.rsplit(".", 1)[-1].replace("<", "").replace(">", "") or "game"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}#{n}"
        names.append(name)
        used.add(name)
    return names


def render_calls(
    transcript: CallTranscript, name: str, *, deterministic: bool, max_values: int
) -> str:
    """The scenario file's text."""
    rec, calls = transcript.recording, transcript.calls
    task = calls.task
    if task is None:
        unit = "each thread's run or pool work item is a game"
    elif task.name:
        unit = f"each call of {task.name} is a game" + ("" if task.given else " (chosen)")
    else:
        unit = "the program is one game (no function was called twice)"
    lines = [
        f"# Recorded by `sim record` from: python {rec.program}",
        f"# The program ran {rec.wall_s:.3f} s; {unit}; the main thread outside them is a",
        "# game of its own. host: Python on the CPU; wait: a blocking call off the CPU (sleep,",
        "# socket, select, file read); native: C code that computed with the GIL released.",
        "# The program's locks and semaphores are resources, its queues queues; waiting for",
        "# them, a future or join is not written: the schedule makes it again. The first",
        "# schedule is the program's own; the others are rewrites.",
        *(f"# Note: {note}." for note in transcript.notes),
        f"name: {quoted(name)}",
        f"description: {quoted('recorded from ' + rec.program)}",
        "unit: ms",
        "host:",
        "  name: cpu",
        f"  count: {transcript.cpus}",
    ]
    lines += shared_and_players(
        transcript,
        deterministic,
        max_values,
        resources="the program's locks (1) and semaphores (their value)",
        queues="the program's queue.Queue(maxsize); 0: unbounded",
    )
    lines.append("schedules:")
    lines += [f"  - {schedule}" for schedule in transcript.schedules]
    return "\n".join(lines) + "\n"
