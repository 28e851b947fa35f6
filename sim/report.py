"""What a run shows and leaves behind: the console table, the sentences, the files.

Result files (CSVs, timeline.png, trace.json, report.html) are written into a
temporary folder beside the target and moved into place only when all are
complete, so a failed run never leaves a half-written file or mixes old and
new files of one kind. Pictures, the trace and the page are made by
`sim.plots`, `sim.chrome_trace` and `sim.html_report`, imported only when
wanted; this module is where they become files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table

from sim import analytic
from sim.runner import Result
from sim.trace import Trace
from sim.units import format_seconds
from sim.workload import HOST

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pandas as pd

__all__ = [
    "RUN_FILES",
    "SUMMARY_HEADER",
    "TRACE_STEP_LIMIT",
    "explain",
    "explanations",
    "pictures",
    "summary_cells",
    "summary_table",
    "write_files",
    "write_results",
]

SUMMARY_HEADER = ("schedule", "makespan", "h:mm:ss", "speedup", "host busy", "article")


#: Every file a run may write; `sim sweep`'s files are its own and left alone.
RUN_FILES = ("summary.csv", "games.csv", "steps.csv", "timeline.png", "trace.json", "report.html")

#: Runs with more steps than this (all schedules together) get trace.json only when asked:
#: the trace costs about 300 bytes a step.
TRACE_STEP_LIMIT = 50_000


def write_results(
    result: Result,
    out: Path,
    *,
    plots: bool = True,
    trace: bool | None = None,
    report_source: tuple[str, str] | None = None,
    sweep_png: bytes | None = None,
) -> list[Path]:
    """Write a run's files into `out`, all or none; return their paths.

    summary.csv, games.csv and steps.csv, then what `pictures` adds; files of
    an earlier run (RUN_FILES) that this run does not write are removed, so
    the folder always describes one run.
    """
    tables = {"summary.csv": result.summary, "games.csv": result.games, "steps.csv": result.steps}
    extra = pictures(
        result, plots=plots, trace=trace, report_source=report_source, sweep_png=sweep_png
    )
    return write_files({**tables, **extra}, out, replaces=RUN_FILES)


def pictures(
    result: Result,
    *,
    plots: bool = True,
    trace: bool | None = None,
    report_source: tuple[str, str] | None = None,
    sweep_png: bytes | None = None,
    tables: Sequence[str] = ("summary.csv", "games.csv", "steps.csv"),
) -> dict[str, bytes | Callable[[Path], None]]:
    """The run's files beside its tables: timeline.png unless `plots` is False;
    trace.json when `trace` is True, or when it is None and the run has at most
    TRACE_STEP_LIMIT steps; report.html when `report_source` (the scenario's
    file name and text) is given, with `sweep_png` in it and `tables` listed."""
    files: dict[str, bytes | Callable[[Path], None]] = {}
    timeline = _timeline_png(result) if plots or report_source else None
    if plots and timeline is not None:
        files["timeline.png"] = timeline
    steps = sum(len(t.workload.kind) for t in result.traces)
    if trace or (trace is None and steps <= TRACE_STEP_LIMIT):
        files["trace.json"] = _chrome_trace(result)
    if report_source is not None:
        listed = [*tables, *files, "report.html"]
        from sim.html_report import report_page

        text = report_page(result, report_source, timeline, sweep_png, listed)
        files["report.html"] = text.encode("utf-8")
    return files


def write_files(
    files: Mapping[str, pd.DataFrame | bytes | Callable[[Path], None]],
    out: Path,
    replaces: Sequence[str] = (),
) -> list[Path]:
    """Write each file into `out` under its name, all or none; return their paths.

    Everything is written into a temporary folder beside `out` first and moved
    in only when all is written. Files named in `replaces` but not written
    this time are removed from `out`: they belonged to an earlier, other run.
    """
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, content in files.items():
            _write(content, staging / name)
        written = []
        for name in files:
            os.replace(staging / name, out / name)
            written.append(out / name)
        for name in replaces:
            if name not in files:
                (out / name).unlink(missing_ok=True)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(content: pd.DataFrame | bytes | Callable[[Path], None], path: Path) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif callable(content):
        content(path)
    else:
        content.to_csv(path, index=False, lineterminator="\n")


def _timeline_png(result: Result) -> bytes:
    from sim import plots

    return plots.to_png(plots.timeline(result.traces))


def _chrome_trace(result: Result) -> Callable[[Path], None]:
    from sim import chrome_trace

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.writelines(chrome_trace.chunks(result.traces))

    return write


def summary_cells(result: Result) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The printed summary as text cells: a header and one row per schedule."""
    rows = [
        (
            row.schedule,
            format_seconds(row.makespan_s),
            row.makespan_hms,
            "—" if np.isnan(row.speedup) else f"{row.speedup:.2f}×",
            f"{row.host_utilization:.1%}".replace("%", " %"),
            _with_human(row.article_s),
        )
        for row in result.summary.itertuples(index=False)
    ]
    return SUMMARY_HEADER, rows


def summary_table(result: Result) -> Table:
    """The table `sim run` prints: one row per schedule, the article's figure beside it."""
    table = Table(title=f"{result.scenario.name}: {result.scenario.description}".rstrip(": "))
    header, rows = summary_cells(result)
    for column in header:
        table.add_column(column, justify="left" if column == "schedule" else "right")
    for row in rows:
        table.add_row(*row)
    return table


def explanations(result: Result) -> list[str]:
    """Plain sentences on why a simulated figure differs from the article's estimate."""
    return [text for trace in result.traces if (text := explain(trace))]


def explain(trace: Trace) -> str | None:
    """Why one schedule's simulated figure differs from the article's estimate, if it does."""
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
