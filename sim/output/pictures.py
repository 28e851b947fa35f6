"""The files of a run besides its tables: timeline.png, trace.json, report.html, sweep.png.

Each comes as a writer (a function of the path) for `sim.results.console`'s one
writing path, which stages every file and moves them in together. Drawing is
done by `sim.output.plots`, `sim.output.chrome_trace` and `sim.output.report_page`, imported only
here and only when a file is wanted, so `sim --help` never pays for matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.scenario.units import format_count

if TYPE_CHECKING:
    import pandas as pd

    from sim.output.report_page import Page
    from sim.results.result import Result

__all__ = [
    "PICTURE_FILES",
    "TRACE_STEP_LIMIT",
    "sweep_picture",
    "trace_note",
    "writers",
]

#: Runs with more steps than this (all schedules together) get trace.json only when asked:
#: the trace costs about 300 bytes a step.
TRACE_STEP_LIMIT = 50_000
#: The files besides the tables a run may write; one it did not write this time is removed.
PICTURE_FILES = ("timeline.png", "trace.json", "report.html")


def writers(
    result: Result,
    *,
    plots: bool = True,
    trace: bool | None = None,
    page: Page | None = None,
    beside: Sequence[str] = (),
) -> dict[str, Callable[[Path], None]]:
    """Writers of the run's files besides its tables: timeline.png unless `plots` is
    False; trace.json when `trace` is True, or when it is None and the run has at most
    TRACE_STEP_LIMIT steps; report.html when `page` is given (listing `beside`)."""
    files: dict[str, Callable[[Path], None]] = {}
    timeline = _timeline_png(result) if plots or page else None
    if plots and timeline is not None:
        files["timeline.png"] = _bytes(timeline)
    from sim.results.tables import step_count

    steps = step_count(result.traces)
    if trace or (trace is None and steps <= TRACE_STEP_LIMIT):
        files["trace.json"] = _chrome_trace(result)
    if page is not None:
        from sim.output.report_page import report_page

        text = report_page(result, page, timeline, [*beside, *files, "report.html"])
        files["report.html"] = _bytes(text.encode("utf-8"))
    return files


def trace_note(result: Result, trace: bool | None) -> str | None:
    """Why there is no trace.json, when the size limit left it out."""
    from sim.results.tables import step_count

    steps = step_count(result.traces)
    if trace is not None or steps <= TRACE_STEP_LIMIT:
        return None
    shown, limit = (format_count(count) for count in (steps, TRACE_STEP_LIMIT))
    return (
        f"trace.json not written: {shown} steps, over the {limit} written unasked; "
        "--trace writes it"
    )


def sweep_picture(table: pd.DataFrame, varied: Sequence[str], title: str) -> bytes:
    """sweep.png of a sweep table; with replications, their confidence band."""
    from sim.output import plots

    band = ("makespan_ci_low_s", "makespan_ci_high_s")
    spread = all(column in table for column in band) and table[band[0]].notna().any()
    figure = plots.sweep(table, varied, band=band if spread else None, title=title)
    return plots.to_png(figure)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _timeline_png(result: Result) -> bytes:
    from sim.output import plots

    return plots.to_png(plots.timeline(result.traces))


def _chrome_trace(result: Result) -> Callable[[Path], None]:
    from sim.output import chrome_trace

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.writelines(chrome_trace.chunks(result.traces))

    return write
