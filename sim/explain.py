"""Plain words about a result: why a schedule beats synchronous, and the article's figures.

The sentences the report page opens with. They are built from the same
workload and traces as the tables, so every number in them is one the
tables show too.
"""

from __future__ import annotations

import math

from sim import analytic
from sim.report import explain
from sim.runner import Result
from sim.units import format_seconds
from sim.workload import WAIT

__all__ = ["article_notes", "comparisons"]


def comparisons(result: Result) -> list[str]:
    """Plain sentences on why each schedule beats synchronous here, or does not."""
    scenario = result.scenario
    if not result.traces or result.baseline <= 0:
        return []
    host = scenario.host.name
    player = scenario.players[0].name if len(scenario.players) == 1 else "player"
    workload = result.traces[0].workload
    waiting = float(workload.duration[workload.kind == WAIT].sum())
    share = waiting / (waiting + workload.host_work()) if waiting else 0.0
    idle = workload.host_work() / (workload.hosts * result.baseline)
    sentences = []
    for trace in result.traces:
        if trace.schedule.kind == "synchronous":
            continue
        label, makespan = trace.schedule.label, trace.makespan
        busy = workload.host_work() / (workload.hosts * makespan) if makespan else 0.0
        speedup = result.baseline / makespan if makespan else math.inf
        figures = f"{format_seconds(makespan)} against {format_seconds(result.baseline)}"
        if speedup > 1 + 1e-9:
            overlap = (
                f"{host} turns to another {player} whenever one is waiting, so the waits "
                f"overlap {host}'s work and {host} is busy {_percent(busy)} of the time"
                if trace.schedule.kind == "cooperative"
                else f"the waits overlap the work, and the hosts are busy {_percent(busy)}"
            )
            sentences.append(
                f"{label} is {speedup:.2f}× faster than synchronous ({figures}). "
                f"Synchronous, {host} also sits through every wait step: {_percent(share)} of "
                f"the games' step time is waiting, so {host} is busy only {_percent(idle)}; "
                f"under {label}, {overlap}."
            )
        elif speedup >= 1 - 1e-9:
            if workload.games <= workload.hosts:
                reason = "every game has a host to itself, so no game ever waits for another"
            elif not waiting:
                reason = (
                    f"every step needs {host}, so there is no waiting to overlap; "
                    "only more hosts would help"
                )
            else:
                reason = f"the waits do not overlap {host}'s work here"
            sentences.append(f"{label} is no faster than synchronous ({figures}): {reason}.")
        else:
            sentences.append(f"{label} is {1 / speedup:.2f}× slower than synchronous ({figures}).")
    if scenario.random:  # drawn durations: these are one replication's figures
        return [f"In replication 1, {sentence}" for sentence in sentences]
    return sentences


def article_notes(result: Result) -> list[str]:
    """Per schedule, how the simulated figure compares with the article's estimate
    (none for random durations: one replication's figure is not the one to compare)."""
    if result.scenario.random:
        return []
    notes = []
    for trace in result.traces:
        label, makespan = trace.schedule.label, trace.makespan
        estimate = analytic.article_estimate(result.scenario, trace.schedule.kind)
        if text := explain(trace):
            notes.append(text)
        elif abs(makespan - estimate) <= 1e-9 * max(1.0, makespan):
            notes.append(f"{label}: {format_seconds(makespan)}, exactly the article's estimate.")
        else:
            notes.append(
                f"{label}: {format_seconds(makespan)} against the article's estimate of "
                f"{format_seconds(estimate)}."
            )
    return notes


def _percent(share: float) -> str:
    return f"{share:.1%}".replace("%", " %")
