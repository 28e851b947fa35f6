"""What a run shows and leaves behind: the console tables, the sentences, the files.

Result files (CSVs, and the pictures, trace and page `sim.pictures` adds) are
written into a staging folder and moved into place only when all are complete
(`sim.staging`), so a failed, interrupted or killed run never leaves a
half-written file or mixes old and new files. The CSVs depend only on the
scenario, the seed and the version; clock times go to `run.json`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from rich import box
from rich.markup import escape
from rich.table import Table

from sim import analytic, pictures, runinfo, tables
from sim.runner import Result
from sim.staging import Staging
from sim.sweeps import Pivot
from sim.trace import Trace
from sim.units import format_seconds
from sim.workload import WAIT

__all__ = [
    "REPLICATION_HEADER",
    "STEPS_CSV_LIMIT",
    "STEP_FILES",
    "SUMMARY_HEADER",
    "StepsChoice",
    "closed_forms",
    "explain",
    "explanations",
    "fastest",
    "pivot_table",
    "replication_cells",
    "replications_table",
    "steps_note",
    "steps_written",
    "summary_cells",
    "summary_table",
    "write_results",
    "write_tables",
]

#: The steps table is written unasked (`--steps` not given) up to this many rows:
#: about 15 MB of CSV and a second or two of writing. Larger runs say so and skip it.
STEPS_CSV_LIMIT = 250_000
#: File name of the steps table in each format.
STEP_FILES = {"csv": "steps.csv", "parquet": "steps.parquet"}

StepsChoice = Literal["auto", "csv", "parquet", "none"]

SUMMARY_HEADER = ("schedule", "makespan", "h:mm:ss", "speedup", "host busy", "article")
#: Beside the schedule (or schedules, on a tie) with the shortest makespan.
FASTEST = "★"
REPLICATION_HEADER = ("schedule", "makespan", "± 95 %", "sd", "p50", "p95", "mean game", "speedup")


def write_results(
    result: Result,
    out: Path,
    steps: StepsChoice = "auto",
    tables: Mapping[str, pd.DataFrame] | None = None,
    *,
    plots: bool = True,
    trace: bool | None = None,
    page: pictures.Page | None = None,
    source: Path | None = None,
    started: float | None = None,
) -> list[Path]:
    """Write summary.csv, games.csv, the steps table, the pictures and run.json into `out`:
    all of them or none.

    `steps`: "csv" or "parquet" write steps.csv or steps.parquet whatever their
    size, streamed chunk by chunk from the trace's columns; "none" writes no
    steps table; "auto" writes steps.csv up to `STEPS_CSV_LIMIT` rows. Then
    what `sim.pictures` adds (timeline.png, trace.json, report.html). A steps file
    or picture left by an earlier run and not written now is removed, so the
    folder never mixes two runs. `tables` replaces the default CSVs (summary, games).
    `source` (the scenario file) and `started` (the `time.time()` the command
    began) only go into run.json.
    """
    if tables is None:
        tables = {"summary.csv": result.summary, "games.csv": result.games}
    steps_format = steps_written(result, steps)
    writers: dict[str, Callable[[Path], None]] = {}
    if steps_format is not None:
        write_steps = _STEP_WRITERS[steps_format]
        writers[STEP_FILES[steps_format]] = lambda path: write_steps(result, path)
    listed = [*tables, *writers]
    writers |= pictures.writers(result, plots=plots, trace=trace, page=page, beside=listed)
    stale = [*STEP_FILES.values(), *pictures.PICTURE_FILES]
    info = {
        "scenario": result.scenario.name,
        "seed": result.seed,
        "schedules": [trace.schedule.label for trace in result.traces],
        "source": source,
        "started": started,
    }
    return write_tables(tables, out, writers=writers, stale=stale, info=info)


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    out: Path,
    writers: Mapping[str, Callable[[Path], None]] | None = None,
    stale: Iterable[str] = (),
    info: Mapping[str, object] | None = None,
) -> list[Path]:
    """Write each table as CSV (each writer's file, and run.json) into `out`: all or none.

    Everything goes into a staging folder inside `out` first and is moved in
    only when complete (`sim.staging`); files named in `stale` that this run
    did not write are removed in the same step, so the folder never mixes two
    runs. `info` is what run.json records beside the files' hashes.
    """
    writers = writers or {}
    names = [*tables, *writers]
    with Staging(out, stale=[name for name in stale if name not in names]) as staged:
        for name, table in tables.items():
            table.to_csv(staged.folder / name, index=False, lineterminator="\n")
        for name, write in writers.items():
            write(staged.folder / name)
        if info is not None:
            runinfo.write(staged.folder, **info)
    return staged.published


def steps_written(result: Result, steps: StepsChoice) -> str | None:
    """The format the steps table is written in ("csv", "parquet"), or None if it is not."""
    if steps == "auto":
        return "csv" if tables.step_count(result.traces) <= STEPS_CSV_LIMIT else None
    return None if steps == "none" else steps


def steps_note(result: Result, steps: StepsChoice) -> str | None:
    """Why there is no steps table, when the size limit left it out."""
    rows = tables.step_count(result.traces)
    if steps != "auto" or rows <= STEPS_CSV_LIMIT:
        return None
    return (
        f"steps table not written: {_grouped(rows)} rows, over the "
        f"{_grouped(STEPS_CSV_LIMIT)} written unasked; --steps writes steps.csv, "
        "--parquet steps.parquet"
    )


def _write_steps_csv(result: Result, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        for index, chunk in enumerate(tables.step_chunks(result.traces)):
            chunk.to_csv(file, header=index == 0, index=False, lineterminator="\n")


def _write_steps_parquet(result: Result, path: Path) -> None:
    import pyarrow as pa  # optional (`pip install sim[parquet]`); heavy, so only here
    import pyarrow.parquet as pq

    writer = None
    try:
        for chunk in tables.step_chunks(result.traces):
            batch = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()


_STEP_WRITERS = {"csv": _write_steps_csv, "parquet": _write_steps_parquet}


def summary_cells(result: Result) -> list[tuple[str, ...]]:
    """The printed summary as text, one row per schedule (columns: SUMMARY_HEADER)."""
    return [
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


def fastest(makespans: np.ndarray) -> np.ndarray:
    """Which makespans are the shortest (all of them on a tie, to rounding)."""
    best = makespans.min()
    return makespans <= best + 1e-9 * max(1.0, best)


def _fastest_first(table: Table, header: tuple[str, ...], cells: list, makespans) -> Table:
    """Rows sorted by makespan (ties in the scenario's order), the fastest marked.

    Cells are text, never markup (names and descriptions come from files).
    """
    table.add_column("", no_wrap=True)  # the fastest's mark
    for column in header:
        left = column == "schedule"
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    makespans = np.asarray(makespans, dtype=float)
    if not len(makespans):
        return table
    marks = fastest(makespans)
    for index in np.argsort(makespans, kind="stable").tolist():
        table.add_row(FASTEST if marks[index] else "", *map(escape, cells[index]))
    return table


def summary_table(result: Result) -> Table:
    """The table `sim run` prints: schedules side by side, fastest first and marked ★.

    Ties keep the scenario's order; the article's figure is beside each.
    """
    title = f"{result.scenario.name}: {result.scenario.description}".rstrip(": ")
    table = Table(title=escape(title))  # names and descriptions are text, never markup
    makespans = result.summary["makespan_s"].to_numpy()
    return _fastest_first(table, SUMMARY_HEADER, summary_cells(result), makespans)


def closed_forms(result: Result) -> str | None:
    """The exact formulas' makespans, one line under the table (None where there is none).

    They agree with the simulation; a difference (float rounding at most) is shown.
    """
    shown = []
    for row in result.summary.itertuples(index=False):
        if np.isnan(row.closed_form_s):
            continue
        exact, simulated = row.closed_form_s, row.makespan_s
        agree = abs(exact - simulated) <= 1e-9 * max(1.0, abs(exact))
        differs = "" if agree else f" (simulated {format_seconds(simulated)})"
        shown.append(f"{row.schedule} {format_seconds(exact)}{differs}")
    return f"closed form: {', '.join(shown)}" if shown else None


def replications_table(summary: pd.DataFrame, title: str) -> Table:
    """Per schedule, the spread of the makespan and mean game time over replications.

    Fastest mean first and marked, as in `summary_table`.
    """
    n = int(summary["replications"].iloc[0]) if len(summary) else 0
    table = Table(
        title=escape(f"{title}: {n} replications, seed {int(summary['seed'].iloc[0])}"),
        caption="seconds; means over the replications, ± the 95 % confidence interval",
        box=box.SIMPLE_HEAVY,
        collapse_padding=True,
        pad_edge=False,
    )
    cells = replication_cells(summary)
    return _fastest_first(table, REPLICATION_HEADER, cells, summary["makespan_s"].to_numpy())


def replication_cells(summary: pd.DataFrame) -> list[tuple[str, ...]]:
    """The replications table as text, one row per schedule (columns: REPLICATION_HEADER)."""
    rows = []
    for row in summary.to_dict("records"):
        half = (row["makespan_ci_high_s"] - row["makespan_ci_low_s"]) / 2
        rows.append(
            (
                str(row["schedule"]),
                _compact(row["makespan_s"]),
                _compact(half),
                _compact(row["makespan_sd_s"]),
                _compact(row["makespan_p50_s"]),
                _compact(row["makespan_p95_s"]),
                _compact(row["mean_game_s"]),
                "—" if np.isnan(row["speedup"]) else f"{row['speedup']:.2f}×",
            )
        )
    return rows


def pivot_table(pivot: Pivot, title: str) -> Table:
    """A sweep's makespans: the first varied field down, the schedules across."""
    heading = f"{title}: makespan" + (f" at {pivot.title}" if pivot.title else "")
    table = Table(title=escape(heading))  # names and swept values are text, never markup
    table.add_column(escape(pivot.axis), justify="right")
    for schedule in pivot.schedules:
        table.add_column(escape(schedule), justify="right")
    for value, cells in pivot.rows:
        shown = []
        for cell in cells:
            if cell is None:
                shown.append("")
            elif math.isfinite(cell[1]) and cell[1] > 0:
                shown.append(f"{_compact(cell[0])} ± {_compact(cell[1])} s")
            else:
                shown.append(format_seconds(cell[0]))
        table.add_row(escape(str(value)), *shown)
    return table


def _compact(seconds: float) -> str:
    """A figure with a spread, to the precision it deserves: `43 174`, `55.3`, `0.123`."""
    if not math.isfinite(seconds):
        return "—"
    if abs(seconds) >= 100:
        return f"{round(seconds):,}".replace(",", " ")
    return f"{seconds:.1f}" if abs(seconds) >= 1 else f"{seconds:.3g}"


def explanations(result: Result) -> list[str]:
    """Plain sentences on why a simulated figure differs from the article's estimate
    (none for random durations: one replication's figure is not the one to explain)."""
    if result.scenario.random:
        return []
    return [text for trace in result.traces if (text := explain(trace))]


def explain(trace: Trace) -> str | None:
    """Why one schedule's simulated figure differs from the article's estimate, if it does;
    for threads under the GIL, that their figure is one draw of the OS's choices."""
    workload = trace.workload
    scenario = workload.scenario
    threaded = trace.schedule.threaded
    if threaded is not None and threaded.gil and trace.switches:
        times = f"{trace.switches:,}".replace(",", " ")
        return (
            f"{trace.schedule.label}: the GIL changed hands {times} times; who got it next was "
            "the OS's choice, drawn from the seed (--seed): another seed gives another "
            "interleaving and a slightly different makespan, and replications (-r) average them."
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
    if estimate > host_work * (1 + 1e-9):  # sums in another order may differ in the last bit
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


def _grouped(count: int) -> str:
    """`1250000` → `1 250 000`, as the seconds are shown."""
    return f"{count:,}".replace(",", " ")
