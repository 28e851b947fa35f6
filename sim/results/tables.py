"""Traces into tables: summary, games and steps, with the contract's columns.

Pure functions of traces; per-game sums use numpy's bincount on the columnar
trace rather than pandas group-bys, so they stay fast at millions of steps.
Column names are a public interface (docs/design.md, "Results").

A scenario that declares resources or queues gets more columns, after the
usual ones and named after what it declares (`sim.results.shared`): a
scenario without them has exactly the columns listed here. One with native
steps gets `native_s` in the games table, after `block_s` (a column of the
kind the scenario uses, so files of scenarios without it keep their bytes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import numpy as np

from sim.engine.holding import HOLDS_HOST
from sim.engine.trace import NO_HOST, Trace
from sim.engine.workload import BLOCK, HOST, NATIVE, WAIT
from sim.results import closed_forms, shared
from sim.results.columns import Coded, Columns, Counted
from sim.scenario.model import STEP_KINDS
from sim.scenario.units import format_hms

if TYPE_CHECKING:  # the tables are plain columns; a DataFrame only when one is asked for
    import pandas as pd

__all__ = [
    "GAME_COLUMNS",
    "STEP_CHUNK_ROWS",
    "STEP_COLUMNS",
    "SUMMARY_COLUMNS",
    "games",
    "games_columns",
    "step_chunks",
    "step_column_chunks",
    "step_count",
    "steps",
    "summary",
    "summary_columns",
    "summary_rows",
]

SUMMARY_COLUMNS = (
    "schedule",
    "makespan_s",
    "makespan_hms",
    "speedup",
    "host_utilization",
    "mean_game_s",
    "mean_wait_for_host_s",
    "max_wait_for_host_s",
    "host_work_s",
    "hosts",
    "games",
    "steps",
    "article_s",
    "closed_form_s",
    "host_blocked_s",
    "switches",
    "switch_s",
    "workers",
)
GAME_COLUMNS = (
    "schedule",
    "group",
    "player",
    "start_s",
    "end_s",
    "host_s",
    "wait_s",
    "wait_for_host_s",
    "block_s",
    "worker",
)
STEP_COLUMNS = (
    "schedule",
    "player",
    "move",
    "step",
    "kind",
    "ready_s",
    "start_s",
    "end_s",
    "host",
    "worker",
)
#: Rows per piece when the steps table is written: about 30 MB of frame at a time.
STEP_CHUNK_ROWS = 250_000


def summary(traces: Sequence[Trace], baseline: float | None = None) -> pd.DataFrame:
    """One row per schedule. `speedup` is against `baseline` (the synchronous makespan)."""
    return summary_columns(summary_rows(traces, baseline)).frame()


def summary_columns(rows: list[dict]) -> Columns:
    """`summary_rows` as the columns of summary.csv."""
    return Columns.of_rows(rows, [*SUMMARY_COLUMNS, *_more(rows, SUMMARY_COLUMNS)])


def summary_rows(traces: Sequence[Trace], baseline: float | None = None) -> list[dict]:
    """The summary as plain dicts: cheap to build and to send back from a worker process."""
    rows = []
    for trace in traces:
        workload, kind = trace.workload, trace.schedule.kind
        scenario = workload.scenario
        makespan = trace.makespan
        host_work = workload.host_work()
        per_game = _per_game(trace)
        closed = closed_forms.closed_form(scenario, trace.schedule)
        held_by_block = "block" in HOLDS_HOST.get(kind, ())  # a thread or process lets go
        row = {
            "schedule": trace.schedule.label,
            "makespan_s": makespan,
            "makespan_hms": format_hms(makespan),
            "speedup": baseline / makespan if baseline and makespan else np.nan,
            "host_utilization": host_work / (workload.hosts * makespan) if makespan else 0.0,
            "mean_game_s": float(trace.game_ends().mean()),
            "mean_wait_for_host_s": float(per_game["wait_for_host"].mean()),
            "max_wait_for_host_s": float(per_game["wait_for_host"].max()),
            "host_work_s": host_work,
            "hosts": workload.hosts,
            "games": workload.games,
            "steps": len(workload.kind),
            "article_s": closed_forms.article_estimate(scenario, trace.schedule),
            "closed_form_s": np.nan if closed is None else float(closed),
            "host_blocked_s": workload.block_time() if held_by_block else 0.0,
            "switches": trace.switches,
            "switch_s": trace.switch_time,
            "workers": _workers(trace),
        }
        if workload.shared is not None:
            row.update(shared.figures(trace).summary_columns())
        rows.append(row)
    return rows


def games(traces: Sequence[Trace]) -> pd.DataFrame:
    """One row per game and schedule: when it ran and where its time went.

    Every game is handed in at 0, so `end_s = host_s + wait_s + block_s +
    wait_for_host_s` (plus `native_s` of a scenario with native steps, and the
    `wait_for_<name>_s` of one with resources or queues, unless a gather's
    children overlap). `worker` (from 1) is the host, thread or process that
    played the game; empty under cooperative, where every game is on the loop.
    """
    return games_columns(traces).frame()


def games_columns(traces: Sequence[Trace]) -> Columns:
    """The games table as plain columns (what games.csv is written from)."""
    if not traces:
        return Columns(dict.fromkeys(GAME_COLUMNS, ()), 0)
    parts = [_game_columns(trace) for trace in traces]
    labels = [trace.schedule.label for trace in traces]
    shown = sorted(set(labels))  # the categories pandas gives a column of names
    games = traces[0].workload.games
    data: dict = {"schedule": Coded(np.repeat([shown.index(x) for x in labels], games), shown)}
    for name, first in parts[0].items():
        if isinstance(first, Coded):
            data[name] = Coded(np.concatenate([part[name].codes for part in parts]), first.names)
        elif isinstance(first, Counted):
            values = np.concatenate([part[name].values for part in parts])
            data[name] = Counted(values, np.concatenate([part[name].missing for part in parts]))
        elif isinstance(first, list):
            data[name] = [value for part in parts for value in part[name]]
        else:
            data[name] = np.concatenate([part[name] for part in parts])
    return Columns(data, games * len(traces))


def _game_columns(trace: Trace) -> dict:
    """One schedule's rows of the games table, without its `schedule` column."""
    workload = trace.workload
    per_game = _per_game(trace)
    first = workload.first_step[:-1]
    group_names = [group.name for group in workload.scenario.players]
    if workload.shared is None:
        start, worker = trace.start[first], trace.workers()[first]
    else:  # a consumer's rows begin with its first `get`; one without would start at 0
        played = workload.first_step[1:] > first
        at = np.where(played, first, 0)
        start = np.where(played, trace.start[at], 0.0)
        worker = np.where(played, trace.workers()[at], NO_HOST)
    columns = {
        "group": Coded(np.asarray(workload.group), group_names),
        "player": list(workload.players),
        "start_s": np.asarray(start, dtype=float),
        "end_s": np.asarray(trace.game_ends(), dtype=float),
        "host_s": per_game["host"],
        "wait_s": per_game["wait"],
        "wait_for_host_s": per_game["wait_for_host"],
        "block_s": per_game["block"],
    }
    if "native" in workload.scenario.kinds:
        columns["native_s"] = per_game["native"]
    columns["worker"] = _from_one(worker)
    if workload.shared is not None:
        for column, values in shared.figures(trace).games_columns().items():
            columns[column] = np.asarray(values)
    return columns


def steps(traces: Sequence[Trace]) -> pd.DataFrame:
    """One row per step: `move`, `step`, `host` and `worker` count from 1; `host` and
    `worker` are empty where the step held none (a wait step under cooperative, say).

    The whole table at once, for notebooks and small runs; files are written
    from `step_chunks`, which never holds more than one chunk.
    """
    return _concat(list(step_chunks(traces, rows=sys.maxsize)), STEP_COLUMNS)


def step_count(traces: Sequence[Trace]) -> int:
    """Rows of the steps table, known without building it."""
    return sum(len(trace.workload.kind) for trace in traces)


def step_chunks(traces: Sequence[Trace], rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The steps table in pieces of at most `rows` rows (default `STEP_CHUNK_ROWS`).

    Built from the trace's numpy columns slice by slice, so a 6 M-step trace
    costs one chunk of memory, never a Python object per row. Written one
    after another (header once), the chunks give the very bytes of `steps`.
    """
    for chunk in step_column_chunks(traces, rows):
        yield chunk.frame()


def step_column_chunks(traces: Sequence[Trace], rows: int | None = None) -> Iterator[Columns]:
    """`step_chunks` as plain columns (what steps.csv is written from)."""
    labels = list(dict.fromkeys(t.schedule.label for t in traces))
    step = max(1, STEP_CHUNK_ROWS if rows is None else rows)
    for trace in traces:
        workload = trace.workload
        players = list(workload.players)
        schedule_code = labels.index(trace.schedule.label)
        workers = trace.workers()
        for lo in range(0, len(workload.kind), step):
            hi = min(lo + step, len(workload.kind))
            chunk = {
                "schedule": Coded(np.full(hi - lo, schedule_code, dtype=np.int8), labels),
                "player": Coded(workload.game[lo:hi], players),
                "move": workload.move[lo:hi] + 1,
                "step": workload.step[lo:hi] + 1,
                "kind": Coded(workload.kind[lo:hi], list(STEP_KINDS)),
                "ready_s": np.asarray(trace.ready[lo:hi], dtype=float),  # seconds, even
                "start_s": np.asarray(trace.start[lo:hi], dtype=float),  # where an engine
                "end_s": np.asarray(trace.end[lo:hi], dtype=float),  # counted in whole ones
                "host": _from_one(trace.host[lo:hi]),
                "worker": _from_one(workers[lo:hi]),
            }
            if workload.shared is not None:  # code -1: an empty cell
                chunk["resource"] = Coded(workload.shared[lo:hi], workload.plan.names)
            yield Columns(chunk, hi - lo)


def _per_game(trace: Trace) -> dict[str, np.ndarray]:
    """Seconds per game in host, wait, block and native steps, and waiting for a host.

    A step that was preempted or shared a CPU (`stalled`) waited for a host
    during that time, not worked. Only those timed rows count: a row
    that waits for a resource or a queue waits for another game, not a host
    (`sim.results.shared`). Kept per trace while the trace lives: `summary` and
    `games` both need it, and at millions of steps it is the costliest part of
    either.
    """
    known = _PER_GAME.get(trace)
    if known is not None:
        return known
    workload = trace.workload
    kind, n = workload.kind, workload.games
    # two columns as long as the trace, each used twice and changed in place: at millions
    # of rows, fresh memory is much of what this costs
    games = workload.game.astype(np.intp)
    seconds = np.subtract(trace.start, trace.ready)  # waited for a host, first
    if trace.stalled is not None:
        seconds += trace.stalled
    if workload.shared is not None:
        np.copyto(seconds, 0.0, where=~_TIMED_CODE[kind])
        # a game whose first row waits for a resource or a queue is ready for it from
        # its turn on a host, thread or process; until then it waited for that turn
        first = workload.first_step[:-1][workload.first_step[1:] > workload.first_step[:-1]]
        untimed = first[~_TIMED_CODE[kind[first]]]
        seconds[untimed] += trace.ready[untimed]
    wait_for_host = np.bincount(games, weights=seconds, minlength=n)
    np.subtract(trace.end, trace.start, out=seconds)  # then each step's own duration
    if trace.stalled is not None:
        seconds -= trace.stalled
    # every kind's seconds per game in one pass: a bin per (game, kind), each summing its
    # rows in order, as a bincount per kind does (whose other rows only add 0.0)
    kinds = len(STEP_KINDS)
    bins = games
    bins *= kinds
    bins += kind
    by_kind = np.bincount(bins, weights=seconds, minlength=n * kinds).reshape(n, kinds)
    _PER_GAME[trace] = sums = {
        "host": by_kind[:, HOST].copy(),
        "wait": by_kind[:, WAIT].copy(),
        "block": by_kind[:, BLOCK].copy(),
        "native": by_kind[:, NATIVE].copy(),
        "wait_for_host": wait_for_host,
    }
    return sums


_PER_GAME: WeakKeyDictionary[Trace, dict[str, np.ndarray]] = WeakKeyDictionary()
#: Per step kind's code: True for the kinds that last a duration of their own.
_TIMED_CODE = np.isin(np.arange(len(STEP_KINDS)), shared.TIMED)


def _more(rows: list[dict], columns: tuple[str, ...]) -> list[str]:
    """Columns of `rows` beyond `columns`, in their order: what a scenario declares."""
    return [name for name in (rows[0] if rows else {}) if name not in columns]


def _from_one(numbers: np.ndarray) -> Counted:
    """Host or worker numbers counted from 1, empty where there is none."""
    return Counted(numbers + 1, numbers == NO_HOST)


def _workers(trace: Trace) -> int:
    """Threads or processes the schedule ran games on (hosts for synchronous, 1 loop each)."""
    return trace.schedule.workers(trace.workload.games, trace.workload.hosts)


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    if not frames:
        return pd.DataFrame(columns=list(columns))
    table = pd.concat(frames, ignore_index=True)
    table["schedule"] = table["schedule"].astype("category")
    return table
