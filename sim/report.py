"""What a run shows and leaves behind: the console table, the sentence, the files.

Result files are written into a staging folder and moved into place only when
all are complete (`sim.staging`), so a failed, interrupted or killed run never
leaves a half-written CSV or mixes old and new files. The CSVs depend only on
the scenario, the seed and the version; clock times go to `run.json`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.markup import escape
from rich.table import Table

from sim import analytic, runinfo
from sim.runner import Result
from sim.staging import Staging
from sim.trace import Trace
from sim.units import format_seconds
from sim.workload import HOST

__all__ = ["explanations", "summary_table", "write_results"]


def write_results(
    result: Result, out: Path, *, source: Path | None = None, started: float | None = None
) -> list[Path]:
    """Write summary.csv, games.csv, steps.csv and run.json into `out`: all of them or none.

    `source` is the scenario file and `started` the `time.time()` the command
    began; both only go into run.json.
    """
    tables = {"summary.csv": result.summary, "games.csv": result.games, "steps.csv": result.steps}
    with Staging(out) as staged:
        for name, table in tables.items():
            table.to_csv(staged.folder / name, index=False, lineterminator="\n")
        runinfo.write(
            staged.folder,
            scenario=result.scenario.name,
            seed=result.seed,
            schedules=[trace.schedule.label for trace in result.traces],
            source=source,
            started=started,
        )
    return staged.published


def summary_table(result: Result) -> Table:
    """The table `sim run` prints: one row per schedule, the article's figure beside it."""
    title = f"{result.scenario.name}: {result.scenario.description}".rstrip(": ")
    table = Table(title=escape(title))  # names and descriptions are text, never markup
    for column in ("schedule", "makespan", "h:mm:ss", "speedup", "host busy", "article"):
        table.add_column(column, justify="left" if column == "schedule" else "right")
    for row in result.summary.itertuples(index=False):
        table.add_row(
            escape(row.schedule),
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
    if trace.schedule.kind != "cooperative":
        return None
    estimate = analytic.article_estimate(scenario, "cooperative")
    makespan = trace.makespan
    over = makespan - estimate
    if abs(over) <= 1e-9 * max(1.0, makespan):
        return None
    host_steps = workload.kind == HOST
    last_move = float(trace.end[host_steps].max()) if host_steps.any() else 0.0
    idle = last_move * workload.hosts - workload.host_work()
    tail = makespan - last_move
    host = scenario.host.name
    player = scenario.players[0].name if len(scenario.players) == 1 else "player"
    host_work = workload.host_work() / workload.hosts
    if estimate > host_work:
        reasons = [f"the estimate is one game played alone ({format_seconds(estimate)})"]
    else:
        reasons = [f"the estimate counts only {host}'s moves ({format_seconds(host_work)})"]
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
