"""What a run shows and leaves behind: the console table, the sentences, the files.

Result files (CSVs, timeline.png, trace.json, report.html) are written into a
temporary folder beside the target and moved into place only when all are
complete, so a failed run never leaves a half-written file or mixes old and
new files of one kind. Pictures, the trace and the page are drawn by
`sim.plots`, `sim.chrome_trace` and `sim.html_report`, imported only when
wanted; this module is where they become files.
"""

from __future__ import annotations

import math
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
from sim.workload import HOST, WAIT

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

__all__ = [
    "RUN_FILES",
    "SUMMARY_HEADER",
    "TRACE_STEP_LIMIT",
    "article_notes",
    "comparisons",
    "explanations",
    "report_page",
    "summary_cells",
    "summary_table",
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
    """Write a run's files into `out`, atomically per run; return their paths.

    Files of an earlier run in `out` that this run does not write (RUN_FILES)
    are removed, so the folder always describes one run.

    Always summary.csv, games.csv and steps.csv; timeline.png unless `plots`
    is False; trace.json when `trace` is True, or when it is None and the run
    has at most TRACE_STEP_LIMIT steps; report.html when `report_source`
    (the scenario's file name and text) is given, with `sweep_png` in it.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Callable[[Path], None]] = {
        name: _csv(table)
        for name, table in (
            ("summary.csv", result.summary),
            ("games.csv", result.games),
            ("steps.csv", result.steps),
        )
    }
    timeline = _timeline_png(result) if plots or report_source else None
    if plots and timeline is not None:
        files["timeline.png"] = _bytes(timeline)
    steps = sum(len(t.workload.kind) for t in result.traces)
    if trace or (trace is None and steps <= TRACE_STEP_LIMIT):
        files["trace.json"] = _chrome_trace(result)
    if report_source is not None:
        text = report_page(result, report_source, timeline, sweep_png, [*files, "report.html"])
        files["report.html"] = _bytes(text.encode("utf-8"))
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, write in files.items():
            write(staging / name)
        written = []
        for name in files:
            os.replace(staging / name, out / name)
            written.append(out / name)
        for name in RUN_FILES:  # an earlier run's file this run did not write would mislead
            if name not in files:
                (out / name).unlink(missing_ok=True)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _csv(table: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: table.to_csv(path, index=False, lineterminator="\n")


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _timeline_png(result: Result) -> bytes:
    from sim import plots

    return plots.to_png(plots.timeline(result.traces))


def _chrome_trace(result: Result) -> Callable[[Path], None]:
    from sim import chrome_trace

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.writelines(chrome_trace.chunks(result.traces))

    return write


def report_page(
    result: Result,
    source: tuple[str, str],
    timeline: bytes | None,
    sweep_png: bytes | None,
    files: list[str],
) -> str:
    """The report page of `result`: `source` is the scenario's file name and text."""
    from sim import html_report, plots
    from sim.plots.style import short

    span = plots.close_up_span(result.traces)
    close_up = None if span is None else plots.to_png(plots.timeline(result.traces, until=span))
    pictures = html_report.Pictures(
        timeline=timeline,
        close_up=close_up,
        close_up_caption=f"The first {short(span)} up close" if span else "",
        sweep=sweep_png,
    )
    why = comparisons(result) + article_notes(result)
    return html_report.page(result, source[1], source[0], pictures, why, files)


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
    return sentences


def article_notes(result: Result) -> list[str]:
    """Per schedule, how the simulated figure compares with the article's estimate."""
    notes = []
    for trace in result.traces:
        label, makespan = trace.schedule.label, trace.makespan
        estimate = analytic.article_estimate(result.scenario, trace.schedule.kind)
        if text := _explain(trace):
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
