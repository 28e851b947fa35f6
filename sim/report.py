"""What a run shows and leaves behind: the console table, the sentence, the CSVs.

Result files are written into a temporary folder beside the target and moved
into place only when all are complete, so a failed run never leaves a
half-written CSV or mixes old and new files of one kind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from rich.table import Table

from sim import analytic
from sim.runner import Result
from sim.trace import Trace
from sim.units import format_seconds
from sim.workload import WAIT

__all__ = ["explanations", "fastest", "summary_table", "write_results"]

#: Beside the schedule (or schedules, on a tie) with the shortest makespan.
FASTEST = "★"


def write_results(result: Result, out: Path) -> list[Path]:
    """Write summary.csv, games.csv and steps.csv into `out`, atomically per run."""
    out.mkdir(parents=True, exist_ok=True)
    tables = {"summary.csv": result.summary, "games.csv": result.games, "steps.csv": result.steps}
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, table in tables.items():
            table.to_csv(staging / name, index=False, lineterminator="\n")
        written = []
        for name in tables:
            os.replace(staging / name, out / name)
            written.append(out / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fastest(makespans: np.ndarray) -> np.ndarray:
    """Which makespans are the shortest (all of them on a tie, to rounding)."""
    best = makespans.min()
    return makespans <= best + 1e-9 * max(1.0, best)


def summary_table(result: Result) -> Table:
    """The table `sim run` prints: schedules side by side, fastest first and marked.

    Ties keep the scenario's order; the article's figure is beside each.
    """
    table = Table(title=f"{result.scenario.name}: {result.scenario.description}".rstrip(": "))
    table.add_column("", no_wrap=True)  # the fastest's mark
    for column in ("schedule", "makespan", "h:mm:ss", "speedup", "host busy", "article"):
        left = column == "schedule"
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    summary = result.summary.sort_values("makespan_s", kind="stable")
    marks = fastest(summary["makespan_s"].to_numpy())
    for mark, row in zip(marks, summary.itertuples(index=False), strict=True):
        table.add_row(
            FASTEST if mark else "",
            row.schedule,
            format_seconds(row.makespan_s),
            row.makespan_hms,
            "—" if np.isnan(row.speedup) else f"{row.speedup:.2f}×",
            f"{row.host_utilization:.1%}".replace("%", " %"),
            _with_human(row.article_s),
        )
    return table


def explanations(result: Result) -> list[str]:
    """Plain sentences on why a simulated figure differs from the article's estimate."""
    return [text for trace in result.traces if (text := _explain(trace))]


def _explain(trace: Trace) -> str | None:
    workload = trace.workload
    scenario = workload.scenario
    threaded = trace.schedule.threaded
    if threaded is not None and threaded.gil and trace.switches:
        times = f"{trace.switches:,}".replace(",", " ")
        return (
            f"{trace.schedule.label}: the GIL changed hands {times} times; who got it next was "
            "the OS's choice, drawn from the seed (--seed), so another seed gives another "
            "interleaving and a slightly different makespan."
        )
    if trace.schedule.kind != "cooperative":
        return None
    estimate = analytic.article_estimate(scenario, trace.schedule)
    makespan = trace.makespan
    over = makespan - estimate
    if abs(over) <= 1e-9 * max(1.0, makespan):
        return None
    hosts = trace.schedule.hosts(workload.hosts)
    held = workload.kind != WAIT  # host and block steps hold the loop
    last_move = float(trace.end[held].max()) if held.any() else 0.0
    blocked, switching = workload.block_time(), trace.switch_time
    idle = last_move * hosts - workload.host_work() - blocked - switching
    tail = makespan - last_move
    host = scenario.host.name
    player = scenario.players[0].name if len(scenario.players) == 1 else "player"
    host_work = workload.host_work() / hosts
    if estimate > host_work:
        reasons = [f"the estimate is one game played alone ({format_seconds(estimate)})"]
    else:
        reasons = [f"the estimate counts only {host}'s moves ({format_seconds(host_work)})"]
    if blocked:
        reasons.append(
            f"blocking calls hold {host} for {format_seconds(blocked)}, "
            "during which no other game can run"
        )
    if switching:
        times = f"{trace.switches:,}".replace(",", " ")
        reasons.append(
            f"{host} spends {format_seconds(switching)} moving between games ({times} switches)"
        )
    if idle > 1e-9 * max(1.0, makespan):
        reasons.append(f"{host} sits idle for {format_seconds(idle)} with no {player} ready")
    if tail > 1e-9 * max(1.0, makespan):
        reasons.append(
            f"after {host}'s last move at {format_seconds(last_move)}, "
            f"the last {player} still takes {format_seconds(tail)} to answer it"
        )
    return (
        f"{trace.schedule.label}: {format_seconds(makespan)} is {format_seconds(over)} more "
        f"than the article's {format_seconds(estimate)} because " + "; ".join(reasons) + "."
    )


def _with_human(seconds: float) -> str:
    """`43 200 s (12 h)`: long figures also in the unit a person would say."""
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return (
                f"{format_seconds(seconds)} ({seconds / size:.2f}".rstrip("0").rstrip(".")
                + f" {unit})"
            )
    return format_seconds(seconds)
