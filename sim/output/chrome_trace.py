"""A run as a Chrome trace (trace event format), for Perfetto and chrome://tracing.

Each schedule is a process; inside it each host and each player is a thread
(a track). A step is a begin/end pair (`B`/`E`) named by its kind on its
player's track and, when it held a host, named by its player on that host's
track; the time a game was ready but no host was free is a `waiting for the
host` pair. Zero-length steps are thread-scoped instant events (`i`), since
viewers cannot order a begin and an end at one timestamp. Timestamps are
microseconds of virtual time. Every track's events come in time order, so
begins and ends nest as the format requires.

The text is produced in pieces (`chunks`) so that the report layer can stream
it to a file without holding a large trace in memory twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from sim.engine.trace import NO_HOST, Trace
from sim.scenario.model import STEP_KINDS

__all__ = ["WAIT_FOR_HOST", "chunks", "host_track", "host_tracks", "player_track", "write"]

WAIT_FOR_HOST = "waiting for the host"


def host_track(host: int) -> int:
    """Thread id of a host's track (hosts counted from 0)."""
    return host + 1


def host_tracks(trace: Trace) -> int:
    """Host tracks of a trace: one per host, or per host number it used if that is more."""
    used = int(trace.host.max()) + 1 if len(trace.host) else 0
    return max(trace.workload.hosts, used)


def player_track(trace: Trace, game: int) -> int:
    """Thread id of a game's track: after the hosts', in file order."""
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
    host_name = workload.scenario.host.name
    hosts = host_tracks(trace)
    for host in range(hosts):
        tid = host_track(host)
        label = host_name if hosts == 1 else f"{host_name} {host + 1}"
        yield _meta(pid, tid, "thread_name", {"name": label})
        yield _meta(pid, tid, "thread_sort_index", {"sort_index": tid})
    for game, player in enumerate(workload.players):
        tid = hosts + 1 + game  # player_track, without finding the host count again
        yield _meta(pid, tid, "thread_name", {"name": player})
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
    held = np.flatnonzero(trace.host != NO_HOST)
    # by host, then time; a zero-length step goes before a step that starts with it
    keys = (held, trace.end[held], trace.start[held], trace.host[held])
    order = held[np.lexsort(keys)].tolist()
    host_of = trace.host.tolist()
    games = workload.game.tolist()
    players = [json.dumps(player, ensure_ascii=False) for player in workload.players]
    kinds = [json.dumps(name) for name in STEP_KINDS]
    for row in order:
        track = f'"pid":{pid},"tid":{host_track(host_of[row])}'
        what = f'"name":{players[games[row]]},"cat":{kinds[codes[row]]}'
        if empty[row]:
            yield f'{{{what},"ph":"i","s":"t","ts":{start[row]},{track}}}'
        else:
            yield f'{{{what},"ph":"B","ts":{start[row]},{track}}}'
            yield f'{{"ph":"E","ts":{end[row]},{track}}}'


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
