"""A run as a Chrome trace (trace event format), for Perfetto and chrome://tracing.

Each schedule is a process; inside it each host and each player is a thread
(a track). A step is a begin/end pair (`B`/`E`) named by its kind on its
player's track and, when it held a host, named by its player on that host's
track; the time a game was ready but no host was free is a `waiting for the
host` pair. Zero-length steps are thread-scoped instant events (`i`), since
viewers cannot order a begin and an end at one timestamp. Timestamps are
microseconds of virtual time. Every track's events come in time order, so
begins and ends nest as the format requires.

Games that share resources or queues add rows of their own kinds: a `with`
is a slice named `with <resource>` around the steps inside it, a `put` or
`get` an instant `put <queue>` / `get <queue>`, a `gather` a slice around its
children's time, and the time any of them waited is a `waiting for <name>`
slice before it. The children of a gather play at once, so each has a track
of its own (`player/1`, `player/2`, …) after its game's.

The text is produced in pieces (`chunks`) so that the report layer can stream
it to a file without holding a large trace in memory twice. Names in labels
are `clipped` to `LABEL_CHARS`: a viewer's track column shows no more, and a
host track repeats its players' names once per step.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from sim.engine.trace import NO_HOST, Trace
from sim.results import shared
from sim.scenario.model import STEP_KINDS
from sim.scenario.names import clipped

__all__ = [
    "IDLE_TRACKS",
    "LABEL_CHARS",
    "WAIT_FOR_HOST",
    "chunks",
    "host_track",
    "host_tracks",
    "player_track",
    "write",
]

WAIT_FOR_HOST = "waiting for the host"
#: Characters of a player's or a host's name a label shows.
LABEL_CHARS = 64
#: Up to this many hosts, each is a track even when idle; with more, only those used.
IDLE_TRACKS = 64


def host_track(host: int) -> int:
    """Thread id of a host's track (hosts counted from 0)."""
    return host + 1


def host_tracks(trace: Trace) -> int:
    """Host tracks of a trace: one per host (an idle one an empty track) where there are
    at most `IDLE_TRACKS`; with more, up to the highest host number the run used, so a
    million hosts for two games write two tracks, not a million."""
    used = int(trace.host.max()) + 1 if len(trace.host) else 0
    hosts = trace.workload.hosts
    return max(hosts if hosts <= IDLE_TRACKS else 0, used)


def player_track(trace: Trace, game: int) -> int:
    """Thread id of a game's track: after the hosts', in file order (after the tracks of
    the games before it and their gathers' children, when games share something)."""
    if trace.workload.shared is not None:
        return host_tracks(trace) + 1 + int(_first_tracks(trace.workload)[game])
    return host_tracks(trace) + 1 + game


def chunks(traces: Sequence[Trace]) -> Iterator[str]:
    """The JSON text of the trace, in pieces; joined, one JSON object."""
    first = traces[0].workload.scenario if traces else None
    other = {
        "scenario": first.name if first else "",
        "time": "virtual seconds, written as microseconds",
        "makespan_s": {trace.schedule.label: trace.makespan for trace in traces},
    }
    yield '{"displayTimeUnit":"ms","otherData":' + json.dumps(other, ensure_ascii=False)
    yield ',"traceEvents":[\n'
    separator = ""
    for pid, trace in enumerate(traces, start=1):
        for event in _events(trace, pid):
            yield separator + event
            separator = ",\n"
    yield "\n]}\n"


def _events(trace: Trace, pid: int) -> Iterator[str]:
    workload = trace.workload
    yield _meta(pid, 0, "process_name", {"name": trace.schedule.label})
    yield _meta(pid, 0, "process_sort_index", {"sort_index": pid})
    host_name = clipped(workload.scenario.host.name, LABEL_CHARS)
    hosts = host_tracks(trace)
    for host in range(hosts):
        tid = host_track(host)
        label = host_name if hosts == 1 else f"{host_name} {host + 1}"
        yield _meta(pid, tid, "thread_name", {"name": label})
        yield _meta(pid, tid, "thread_sort_index", {"sort_index": tid})
    if workload.shared is not None:
        yield from _shared_rows(trace, pid, hosts)
        yield from _host_rows(trace, pid, None, np.isin(workload.kind, shared.TIMED), _who(trace))
        return
    for game, player in enumerate(workload.players):
        tid = hosts + 1 + game  # player_track, without finding the host count again
        yield _meta(pid, tid, "thread_name", {"name": clipped(player, LABEL_CHARS)})
        yield _meta(pid, tid, "thread_sort_index", {"sort_index": tid})
    ready, start, end = (_microseconds(column) for column in (trace.ready, trace.start, trace.end))
    move = (workload.move + 1).tolist()
    step = (workload.step + 1).tolist()
    named = [f'"name":{json.dumps(name)},"cat":{json.dumps(name)}' for name in STEP_KINDS]
    queued = f'"name":"{WAIT_FOR_HOST}","cat":"wait for host"'
    codes = workload.kind.tolist()
    waited = (trace.start > trace.ready).tolist()
    empty = (trace.end <= trace.start).tolist()
    first = workload.first_step.tolist()
    base = hosts + 1
    # plain loops over Python lists and f-strings: the hot path at many thousand steps
    for game in range(workload.games):
        track = f'"pid":{pid},"tid":{base + game}'
        for row in range(first[game], first[game + 1]):
            where = f'{track},"args":{{"move":{move[row]},"step":{step[row]}}}'
            if waited[row]:
                yield f'{{{queued},"ph":"B","ts":{ready[row]},{where}}}'
                yield f'{{"ph":"E","ts":{start[row]},{track}}}'
            if empty[row]:
                yield f'{{{named[codes[row]]},"ph":"i","s":"t","ts":{start[row]},{where}}}'
            else:
                yield f'{{{named[codes[row]]},"ph":"B","ts":{start[row]},{where}}}'
                yield f'{{"ph":"E","ts":{end[row]},{track}}}'
    yield from _host_rows(trace, pid, (start, end, empty))


def _host_rows(
    trace: Trace,
    pid: int,
    times: tuple[list[str], list[str], list[bool]] | None = None,
    rows: np.ndarray | None = None,
    who: list[str] | None = None,
) -> Iterator[str]:
    """The host tracks: each step that held a host, named by its player. `times`: the
    start, end and emptiness of every row, when known already. When games share
    something, only `rows` (the timed kinds: a `with` spans steps, it is none), each
    named by `who` (a gather's child by its own name)."""
    workload = trace.workload
    if times is None:
        empty = (trace.end <= trace.start).tolist()
        times = (_microseconds(trace.start), _microseconds(trace.end), empty)
    start, end, empty = times
    codes = workload.kind.tolist()
    holding = trace.host != NO_HOST
    held = np.flatnonzero(holding if rows is None else holding & rows)
    # by host, then time; a zero-length step goes before a step that starts with it
    keys = (held, trace.end[held], trace.start[held], trace.host[held])
    order = held[np.lexsort(keys)].tolist()
    host_of = trace.host.tolist()
    games = workload.game.tolist()
    players = [_label(player) for player in workload.players]
    kinds = [json.dumps(name) for name in STEP_KINDS]
    for row in order:
        track = f'"pid":{pid},"tid":{host_track(host_of[row])}'
        name = players[games[row]] if who is None else _label(who[row])
        what = f'"name":{name},"cat":{kinds[codes[row]]}'
        if empty[row]:
            yield f'{{{what},"ph":"i","s":"t","ts":{start[row]},{track}}}'
        else:
            yield f'{{{what},"ph":"B","ts":{start[row]},{track}}}'
            yield f'{{"ph":"E","ts":{end[row]},{track}}}'


def _who(trace: Trace) -> list[str]:
    """Per row, the name of the task that played it: its player, or a gather's child."""
    workload = trace.workload
    place = shared.places(workload)
    groups = workload.group.tolist()
    tasks = [
        [player + suffix for suffix in place.names[groups[game]]]
        for game, player in enumerate(workload.players)
    ]
    rows = zip(workload.game.tolist(), place.task.tolist(), strict=True)
    return [tasks[game][task] for game, task in rows]


def _first_tracks(workload) -> np.ndarray:
    """Per game, how many task tracks come before its own: the games before it, each with
    its gathers' children."""
    tasks = np.array([len(names) for names in shared.places(workload).names], dtype=np.int64)
    per_game = tasks[workload.group]
    return np.concatenate(([0], np.cumsum(per_game)[:-1]))


def _shared_rows(trace: Trace, pid: int, hosts: int) -> Iterator[str]:
    """A track per game and per child of its gathers; on each, its rows' slices in time
    order and nested: at one instant, ends first (inner before outer), then begins and
    instants in row order, which puts a `with` before the steps inside it."""
    workload = trace.workload
    assert workload.shared is not None
    place = shared.places(workload)
    first_track = _first_tracks(workload).tolist()
    groups = workload.group.tolist()
    for game, player in enumerate(workload.players):
        for task, suffix in enumerate(place.names[groups[game]]):
            tid = hosts + 1 + first_track[game] + task
            yield _meta(pid, tid, "thread_name", {"name": clipped(player + suffix, LABEL_CHARS)})
            yield _meta(pid, tid, "thread_sort_index", {"sort_index": tid})
    columns = (trace.ready, trace.start, trace.end)
    ready, start, end = (np.round(column * 1e6, 3).tolist() for column in columns)
    at_ready, at_start, at_end = (_microseconds(column) for column in columns)
    move, step = (workload.move + 1).tolist(), (workload.step + 1).tolist()
    named, waiting = _shared_names(workload)
    codes, of = workload.kind.tolist(), workload.shared.tolist()
    tasks, depths = place.task.tolist(), place.depth.tolist()
    first = workload.first_step.tolist()
    for game in range(workload.games):
        events: list[tuple[float, int, int, str]] = []
        add = events.append
        for row in range(first[game], first[game + 1]):
            track = f'"pid":{pid},"tid":{hosts + 1 + first_track[game] + tasks[row]}'
            where = f'{track},"args":{{"move":{move[row]},"step":{step[row]}}}'
            key = (codes[row], of[row])
            depth = depths[row]
            if start[row] > ready[row]:
                text = f'{{{waiting[key]},"ph":"B","ts":{at_ready[row]},{where}}}'
                add((ready[row], 1, row, text))
                add((start[row], 0, -depth, f'{{"ph":"E","ts":{at_start[row]},{track}}}'))
            if end[row] <= start[row]:
                text = f'{{{named[key]},"ph":"i","s":"t","ts":{at_start[row]},{where}}}'
                add((start[row], 1, row, text))
            else:
                text = f'{{{named[key]},"ph":"B","ts":{at_start[row]},{where}}}'
                add((start[row], 1, row, text))
                add((end[row], 0, -depth, f'{{"ph":"E","ts":{at_end[row]},{track}}}'))
        events.sort(key=lambda event: event[:3])
        for event in events:
            yield event[3]


def _shared_names(workload) -> tuple[dict, dict]:
    """Name and category of each (kind, resource or queue) a row may have, and of its wait:
    a timed step as in any scenario; `with db`, `put jobs`, and `waiting for db`."""
    plan = workload.plan
    timed = set(shared.TIMED.tolist())
    named, waiting = {}, {}
    for code, kind in enumerate(STEP_KINDS):
        for index in range(-1, len(plan.names)):
            if code in timed:
                named[code, index] = f'"name":{json.dumps(kind)},"cat":{json.dumps(kind)}'
                waiting[code, index] = f'"name":"{WAIT_FOR_HOST}","cat":"wait for host"'
                continue
            name = plan.names[index] if index >= 0 else ""
            what = "queue" if index >= 0 and plan.is_queue(index) else "resource"
            title = json.dumps(f"{kind} {name}".rstrip())
            named[code, index] = f'"name":{title},"cat":{json.dumps(kind)}'
            wait = json.dumps(f"waiting for {name}")
            waiting[code, index] = f'"name":{wait},"cat":"wait for {what}"'
    return named, waiting


def _label(name: str) -> str:
    """A player's or a task's name as a JSON string, clipped to LABEL_CHARS."""
    return json.dumps(clipped(name, LABEL_CHARS), ensure_ascii=False)


def _meta(pid: int, tid: int, name: str, args: dict) -> str:
    text = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
    return f'{{"name":"{name}","ph":"M","pid":{pid},"tid":{tid},"args":{text}}}'


def _microseconds(seconds: np.ndarray) -> list[str]:
    """Seconds as microseconds to the nanosecond, without needless decimals: 5 → `5000000`."""
    scaled = np.round(seconds * 1e6, 3)
    return [f"{value:.3f}".rstrip("0").rstrip(".") for value in scaled.tolist()]


def write(traces: Sequence[Trace], path: Path) -> None:
    """trace.json of a run, streamed chunk by chunk."""
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.writelines(chunks(traces))
