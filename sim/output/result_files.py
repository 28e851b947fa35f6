"""The files of a run, written together: the CSVs, the steps table, the pictures, run.json.

Result files (CSVs, the steps table, the pictures of `sim.output.pictures`,
`trace.json` of `sim.output.chrome_trace`, the page of `sim.output.report_page`) are
written into a staging folder and moved into place only when all are complete
(`sim.output.staging`), so a failed, interrupted or killed run never leaves a
half-written file or mixes old and new files; a file that sim did not write is
never replaced without `force`, nor ever removed. The CSVs depend only on the
scenario, the seed and the version; clock times go to `run.json` (`sweep.json`
for a sweep, so that a sweep and a run share a folder).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sim.experiment.replications import Replicated
from sim.output import pictures, run_json
from sim.output.staging import Staging
from sim.results.columns import Columns, write_csv
from sim.results.result import Result
from sim.results.tables import step_chunks, step_column_chunks, step_count
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule
from sim.scenario.units import format_count

if TYPE_CHECKING:  # a single run is written without pandas; sweeps and pages need it
    import pandas as pd

    from sim.experiment.sweeps import Sweep
    from sim.output.report_page import Page

    #: A table of a file: plain columns, a DataFrame where pandas made it, or its CSV text.
    Table = Columns | pd.DataFrame | str

__all__ = [
    "STEPS_CSV_LIMIT",
    "STEP_FILES",
    "TRACE_STEP_LIMIT",
    "StepsChoice",
    "run_files",
    "run_tables",
    "steps_note",
    "steps_written",
    "sweep_files",
    "trace_note",
    "write_results",
    "write_sweep",
    "write_tables",
]

#: The steps table is written unasked (`--steps` not given) up to this many rows:
#: about 15 MB of CSV and a second or two of writing. Larger runs say so and skip it.
STEPS_CSV_LIMIT = 250_000
#: File name of the steps table in each format.
STEP_FILES = {"csv": "steps.csv", "parquet": "steps.parquet"}

#: Runs with more steps than this (all schedules together) get trace.json only when asked:
#: the trace costs about 300 bytes a step.
TRACE_STEP_LIMIT = 50_000
#: The files besides the tables a run may write; one it did not write this time is
#: removed, if the earlier run.json says sim wrote it.
OTHER_FILES = (*STEP_FILES.values(), "timeline.png", "trace.json", "report.html")
#: The tables `sim run` and `sim report` always write (`run_tables`).
RUN_TABLES = ("summary.csv", "replications.csv", "games.csv")

StepsChoice = Literal["auto", "csv", "parquet", "none"]


def write_results(
    result: Result,
    out: Path,
    steps: StepsChoice = "auto",
    tables: Mapping[str, Table] | None = None,
    *,
    plots: bool = True,
    trace: bool | None = None,
    page: Page | None = None,
    source: Path | None = None,
    started: float | None = None,
    force: bool = False,
) -> list[Path]:
    """Write summary.csv, games.csv, the steps table, the pictures and run.json into `out`:
    all of them or none.

    `steps`: "csv" or "parquet" write steps.csv or steps.parquet whatever their
    size, streamed chunk by chunk from the trace's columns; "none" writes no
    steps table; "auto" writes steps.csv up to `STEPS_CSV_LIMIT` rows. Then
    timeline.png unless `plots` is False; trace.json when `trace` is True, or when
    it is None and the run has at most `TRACE_STEP_LIMIT` steps; report.html when
    `page` is given. A steps file, picture, trace or page left by an earlier run
    and not written now is removed (if the earlier run.json lists it with its hash),
    so the folder never mixes two runs. `tables` replaces the default CSVs (summary,
    games). `force` replaces files of the same names that sim did not write; without
    it they are refused (`staging.Foreign`).
    `source` (the scenario file) and `started` (the `time.time()` the command
    began) only go into run.json.
    """
    if tables is None:
        tables = {"summary.csv": result.summary_columns, "games.csv": result.games_columns}
    steps_format = steps_written(result, steps)
    writers: dict[str, Callable[[Path], None]] = {}
    if steps_format is not None:
        write_steps = _STEP_WRITERS[steps_format]
        writers[STEP_FILES[steps_format]] = lambda path: write_steps(result, path)
    timeline = pictures.timeline_png(result) if plots or page else None
    if plots and timeline is not None:
        writers["timeline.png"] = _bytes(timeline)
    if _trace_written(result, trace):
        from sim.output import chrome_trace  # here: a sweep writes none

        writers["trace.json"] = functools.partial(chrome_trace.write, result.traces)
    if page is not None:
        from sim.output.report_page import report_page

        text = report_page(result, page, timeline, [*tables, *writers, "report.html"])
        writers["report.html"] = _bytes(text.encode("utf-8"))
    info = {
        "scenario": result.scenario.name,
        "seed": result.seed,
        "schedules": [trace.schedule.label for trace in result.traces],
        "source": source,
        "started": started,
    }
    return write_tables(tables, out, writers=writers, stale=OTHER_FILES, info=info, force=force)


def run_files(steps: StepsChoice, *, plots: bool, page: bool) -> list[str]:
    """The files `write_results` may write with these options: what the folder must not
    hold unless sim wrote it, checked before the run is played
    (`staging.refuse_foreign`). Whether "auto" writes steps.csv and whether
    trace.json is written depend on the run's size, so both count."""
    names = [*RUN_TABLES, "trace.json", run_json.NAME]
    if steps != "none":
        names.append(STEP_FILES["csv" if steps == "auto" else steps])
    if plots:
        names.append("timeline.png")
    if page:
        names.append("report.html")
    return names


def sweep_files(*, plots: bool) -> list[str]:
    """The files `write_sweep` may write (see `run_files`)."""
    names = ["sweep.csv", "sweep_replications.csv", run_json.SWEEP]
    return [*names, "sweep.png"] if plots else names


def run_tables(played: Replicated) -> dict[str, Table]:
    """The CSVs of `sim run` and `sim report`: summary.csv (the statistics over the
    replications), replications.csv and games.csv (replication 1's games)."""
    runs = played.runs
    if isinstance(runs, Columns):
        runs = Columns({k: v for k, v in runs.data.items() if k != "point"}, runs.rows)
    else:
        runs = runs.drop(columns="point")
    return {
        "summary.csv": played.summary,
        "replications.csv": runs,
        "games.csv": played.result.games_columns,
    }


def write_sweep(
    found: Sweep,
    out: Path,
    scenario: Scenario,
    schedules: Sequence[Schedule],
    *,
    plots: bool = True,
    source: Path | None = None,
    started: float | None = None,
    force: bool = False,
) -> list[Path]:
    """The folder of `sim sweep`: sweep.csv, sweep_replications.csv when a point has
    more than one replication, sweep.png unless `plots` is False, and sweep.json
    (a run.json of its own, so that the run.json of `sim run` in the same folder
    still describes that run). `scenario` is the file swept (with its `--set`
    overrides), for sweep.json; `force` as in `write_results`."""
    files: dict[str, Table] = {"sweep.csv": found.table}
    if len(found.played) > len(found.table):
        files["sweep_replications.csv"] = found.runs if found.runs_csv is None else found.runs_csv
    writers: dict[str, Callable[[Path], None]] = {}
    if plots:
        title = f"{scenario.name}: makespan against {found.axes[0]}"
        png = pictures.sweep_picture(found.table, found.axes, title)
        writers["sweep.png"] = _bytes(png)
    info = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "schedules": [schedule.label for schedule in schedules],
        "source": source,
        "started": started,
    }
    stale = ["sweep.png", "sweep_replications.csv"]
    return write_tables(
        files, out, writers=writers, stale=stale, info=info, record=run_json.SWEEP, force=force
    )


def write_tables(
    tables: Mapping[str, Table],
    out: Path,
    writers: Mapping[str, Callable[[Path], None]] | None = None,
    stale: Iterable[str] = (),
    info: Mapping[str, object] | None = None,
    record: str = run_json.NAME,
    force: bool = False,
) -> list[Path]:
    """Write each table as CSV (each writer's file, and the record) into `out`: all or none.

    Everything goes into a staging folder inside `out` first and is moved in
    only when complete (`sim.output.staging`); files named in `stale` that this run
    did not write are removed in the same step if sim wrote them, so the folder
    never mixes two runs. `info` is what the record (`record`: run.json) keeps
    beside the files' hashes; `force` replaces files of the same names that sim
    did not write.
    """
    writers = writers or {}
    names = [*tables, *writers]
    stale = [name for name in stale if name not in names]
    with Staging(out, stale=stale, force=force) as staged:
        for name, table in tables.items():
            _write_table(table, staged.folder / name)
        for name, write in writers.items():
            write(staged.folder / name)
        if info is not None:
            run_json.write(staged.folder, record, **info)
    return staged.published


def steps_written(result: Result, steps: StepsChoice) -> str | None:
    """The format the steps table is written in ("csv", "parquet"), or None if it is not."""
    if steps == "auto":
        return "csv" if step_count(result.traces) <= STEPS_CSV_LIMIT else None
    return None if steps == "none" else steps


def steps_note(result: Result, steps: StepsChoice) -> str | None:
    """Why there is no steps table, when the size limit left it out."""
    rows = step_count(result.traces)
    if steps != "auto" or rows <= STEPS_CSV_LIMIT:
        return None
    return (
        f"steps table not written: {format_count(rows)} rows, over the "
        f"{format_count(STEPS_CSV_LIMIT)} written unasked; --steps writes steps.csv, "
        "--parquet steps.parquet"
    )


def trace_note(result: Result, trace: bool | None) -> str | None:
    """Why there is no trace.json, when the size limit left it out."""
    if trace is not None or _trace_written(result, trace):
        return None
    return (
        f"trace.json not written: {format_count(step_count(result.traces))} steps, over the "
        f"{format_count(TRACE_STEP_LIMIT)} written unasked; --trace writes it"
    )


def _trace_written(result: Result, trace: bool | None) -> bool:
    """trace.json is written when asked (`trace` True), or unasked up to `TRACE_STEP_LIMIT`."""
    return bool(trace) or (trace is None and step_count(result.traces) <= TRACE_STEP_LIMIT)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _write_table(table: Table, path: Path) -> None:
    """`table` as CSV: its text as it is, a DataFrame of plain columns as Columns (the same
    text, sooner)."""
    if isinstance(table, str):
        with path.open("w", encoding="utf-8", newline="") as file:
            file.write(table)
        return
    plain = table if isinstance(table, Columns) else Columns.of_frame(table)
    if plain is None:
        table.to_csv(path, index=False, lineterminator="\n")
        return
    with path.open("w", encoding="utf-8", newline="") as file:
        write_csv(file, plain)


def _write_steps_csv(result: Result, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        for index, chunk in enumerate(step_column_chunks(result.traces)):
            write_csv(file, chunk, header=index == 0)


def _write_steps_parquet(result: Result, path: Path) -> None:
    import pyarrow as pa  # optional (`pip install sim[parquet]`); heavy, so only here
    import pyarrow.parquet as pq

    writer = None
    try:
        for chunk in step_chunks(result.traces):
            batch = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()


_STEP_WRITERS = {"csv": _write_steps_csv, "parquet": _write_steps_parquet}
