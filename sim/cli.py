"""The `sim` command: run, report, sweep, verify, list and validate scenarios;
record a program as one.

The only layer (with `sim.report`) that prints or writes files. Heavy imports
(pandas, the engine) happen inside the commands that need them, so `sim
--help` answers at once. Exit status: 0 ok, 1 a check failed, 2 bad input,
130 interrupted (Ctrl-C; 143 for SIGTERM), 70 a bug of ours.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from sim.errors import ScenarioError, one_line
from sim.limits import NO_BUDGET, Limits, parse_count, parse_size

__all__ = ["app", "main"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

EXIT_STATUS_HELP = (
    "Exit status:\n\n"
    "- **0** ok\n"
    "- **1** a check failed (verification or threshold)\n"
    "- **2** bad input: a scenario file, an option, an output folder\n"
    "- **130** interrupted by Ctrl-C; no partial files are left\n"
    "- **70** a bug in sim (SIM_DEBUG=1 shows the traceback)"
)

app = typer.Typer(
    help=(
        "How long does this work take synchronously, cooperatively (asyncio), with threads "
        "or with processes? Plays scenario files in virtual time.\n\n" + EXIT_STATUS_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
out = out_console = Console(highlight=False, soft_wrap=True, emoji=False)  # no `:100:` emoji
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

MaxEvents = Annotated[
    int,
    typer.Option(
        "--max-events",
        parser=parse_count,
        metavar="N",
        envvar="SIM_MAX_EVENTS",
        help="Refuse to play more step events than this, over all schedules, replications "
        "and points (1e9, 10**9 work).",
    ),
]
MaxFileSize = Annotated[
    int,
    typer.Option(
        "--max-file-size",
        parser=parse_size,
        metavar="SIZE",
        envvar="SIM_MAX_FILE_SIZE",
        help="Refuse scenario files larger than this (1MB, 500kB, 2000000).",
    ),
]
#: Defaults of the two, as text: `--help` shows them so, and the parsers read them.
EVENTS_DEFAULT = "1e8"
FILE_SIZE_DEFAULT = "1MB"


Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Change a scenario field without editing the file (repeatable): "
        "`players.amateur.count=48`, `host.count=2`, `unit=min`, `host_move=1` (every group).",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        min=0,
        help="Seed of every random stream (default: the file's `seed`).",
        show_default=False,
    ),
]
Replications = Annotated[
    int | None,
    typer.Option(
        "--replications",
        "-r",
        min=1,
        show_default=False,
        help="Play each point this many times on independent streams "
        "(default: the file's `replications`, else 1).",
    ),
]
Jobs = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        show_default=False,
        help="Processes to play replications and points on (default: all cores; "
        "1 plays them in this process).",
    ),
]
Dask = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="ADDRESS|local",
        show_default=False,
        help="Play on a Dask cluster: a scheduler address (tcp://host:8786), or `local` "
        "for a LocalCluster of --jobs workers.",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar (there is none when piped anyway).")
]
OutDir = Annotated[
    Path | None,
    typer.Option("--out", help="Write the files straight into this folder.", show_default=False),
]
Schedules = Annotated[
    list[str] | None,
    typer.Option("--schedule", help="Play only this schedule (repeatable; a label or a kind)."),
]


Steps = Annotated[
    bool | None,
    typer.Option(
        "--steps/--no-steps",
        help="Write steps.csv whatever its size / never. Default: only up to 250 000 rows.",
        show_default=False,
    ),
]
Parquet = Annotated[
    bool,
    typer.Option("--parquet", help="Write the steps table as steps.parquet (needs pyarrow)."),
]
NoPlots = Annotated[
    bool, typer.Option("--no-plots", help="Draw no pictures (timeline.png, sweep.png): faster.")
]
Trace = Annotated[
    bool,
    typer.Option(
        "--trace", help="Write trace.json whatever the run's size (default: up to 50 000 steps)."
    ),
]


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    out_dir: OutDir = None,
    schedule: Schedules = None,
    sets: Sets = None,
    seed: Seed = None,
    replications: Replications = None,
    jobs: Jobs = None,
    dask: Dask = None,
    quiet: Quiet = False,
    steps: Steps = None,
    parquet: Parquet = False,
    no_plots: NoPlots = False,
    trace: Trace = False,
    analytic_only: Annotated[
        bool,
        typer.Option(
            "--analytic-only",
            help="Print the closed forms and the article's estimates; simulate and write nothing.",
        ),
    ] = False,
    max_events: MaxEvents = EVENTS_DEFAULT,  # type: ignore[assignment]  # parsed
    max_file_size: MaxFileSize = FILE_SIZE_DEFAULT,  # type: ignore[assignment]  # parsed
) -> None:
    """Play a scenario under its schedules; print the table, write `results/<name>/`.

    Writes `summary.csv`, `replications.csv`, `games.csv` and `steps.csv` (columns in
    the README); a steps table over 250 000 rows only with `--steps` (CSV) or
    `--parquet`. With replications, `summary.csv` holds means, sd, 95 % CI, p50 and
    p95 over them, and `games.csv`/`steps.csv` show replication 1. Also
    `timeline.png` (unless `--no-plots`) and `trace.json` (Chrome trace format, for
    Perfetto; over 50 000 steps only with `--trace`), and `run.json` (when, with
    what, file hashes). The files appear together when the run is complete; a
    failed or interrupted run leaves the previous ones as they were. The folder
    is `results/` plus the name made safe for a file name, or `--out` exactly.

    Examples:

        sim run polgar

        sim run polgar --set players.amateur.count=48 --set host.count=2

        sim run polgar --set 'player_move={dist: lognormal, mean: 55s, sd: 20s}' -r 30 -j 2

        sim run scenarios/countasync.yaml --schedule cooperative --out /tmp/count

        sim run big.yaml --parquet --no-plots

        sim run big.yaml --analytic-only

        sim run huge.yaml --max-events 1e9
    """
    started = time.time()
    steps_choice = _steps_choice(steps, parquet)
    limits = Limits(max_file_bytes=max_file_size, max_events=max_events)
    document, overrides = _read(scenario, sets, limits)
    loaded = _checked(lambda: document.scenario([*overrides, *_given(seed, replications)]))
    chosen = _pick(loaded, schedule or [])
    if analytic_only:  # closed forms cost nothing, however many events a simulation takes
        from sim.analytic_report import analytic_notes, analytic_table

        _check_budget(document, loaded, chosen, NO_BUDGET)
        out.print(analytic_table(loaded, chosen))
        for sentence in analytic_notes(loaded, chosen):
            out.print(sentence, markup=False)
        return
    _check_budget(document, loaded, chosen, limits.max_events)
    _play(scenario, loaded, overrides, chosen, out_dir, jobs, dask, quiet, steps_choice,
          plots=not no_plots, trace=trace, source=document.source, started=started)  # fmt: skip


@app.command()
def report(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    out_dir: OutDir = None,
    schedule: Schedules = None,
    sets: Sets = None,
    seed: Seed = None,
    replications: Replications = None,
    jobs: Jobs = None,
    dask: Dask = None,
    quiet: Quiet = False,
    steps: Steps = None,
    parquet: Parquet = False,
    trace: Trace = False,
    max_events: MaxEvents = EVENTS_DEFAULT,  # type: ignore[assignment]  # parsed
    max_file_size: MaxFileSize = FILE_SIZE_DEFAULT,  # type: ignore[assignment]  # parsed
) -> None:
    """Play a scenario and write everything `sim run` writes plus `report.html`.

    The page is one self-contained file (pictures embedded, no network): the
    scenario, the summary table, why the figures come out as they do, the
    timeline, a close-up of the first rounds and, if `sim sweep` left a
    `sweep.png` in the folder, the sweep.

    Examples:

        sim report polgar

        sim report polgar --set players.amateur.count=48 --out /tmp/polgar48
    """
    started = time.time()
    steps_choice = _steps_choice(steps, parquet)
    limits = Limits(max_file_bytes=max_file_size, max_events=max_events)
    document, overrides = _read(scenario, sets, limits)
    loaded = _checked(lambda: document.scenario([*overrides, *_given(seed, replications)]))
    chosen = _pick(loaded, schedule or [])
    _check_budget(document, loaded, chosen, limits.max_events)
    _play(scenario, loaded, overrides, chosen, out_dir, jobs, dask, quiet, steps_choice,
          plots=True, trace=trace, page=document.source, source=document.source,
          started=started)  # fmt: skip


def _play(
    name: str,
    loaded,  # Scenario, imported lazily
    overrides: list,
    chosen: list | None,
    out_dir: Path | None,
    jobs: int | None,
    dask: str | None,
    quiet: bool,
    steps_choice,
    *,
    plots: bool,
    trace: bool,
    page: str | None = None,
    source: str | None = None,
    started: float | None = None,
) -> None:
    """Play, print and write: what `run` and `report` share. `page` is the scenario
    file to show on report.html (None: no page); `source` and `started` go to run.json."""
    from sim import report
    from sim.loader import decode
    from sim.pictures import Page, trace_note
    from sim.replications import frame, play_all, rows_of, summarize
    from sim.runner import run as run_scenario

    target = _target(loaded.name, out_dir)  # refused before playing, not after

    applied = "; ".join(override.text for override in overrides)
    count = loaded.replications
    try:  # replication 1: its games and steps are written
        result = run_scenario(loaded, chosen)
    except ScenarioError as error:  # a schedule too long to play: name the file
        from dataclasses import replace

        from sim.catalog import find

        where = str(find(name))
        _report_problems(ScenarioError([replace(p, source=where) for p in error.problems]))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if count > 1:
        with _runner(jobs, dask, count) as runner, _bar(count, loaded.name, quiet) as done:
            runs = play_all([loaded], chosen, runner, done)
    else:
        runs = frame(rows_of(result))
    summary = summarize(runs, ["schedule"], [loaded.seed], applied)
    if applied:
        out.print(f"with --set {applied}", markup=False)
    if count > 1:
        _print_wide(report.replications_table(summary, _title(loaded)))
        played = loaded.schedules if chosen is None else chosen
        if not loaded.random and not any(s.threaded and s.threaded.gil for s in played):
            out.print("durations are fixed, so every replication plays the same")
    else:
        _print_wide(report.summary_table(result))
    notes = [report.closed_forms(result), *report.explanations(result), *result.notes]
    for sentence in filter(None, notes):
        out.print(sentence, markup=False)
    if loaded.sweep:
        out.print(f"{loaded.name} has a sweep: block; `sim sweep {name}` plays it", markup=False)
    tables = {
        "summary.csv": summary,
        "replications.csv": runs.drop(columns="point"),
        "games.csv": result.games,
    }
    shown = None
    if page is not None:
        sweep_png = target / "sweep.png"
        shown = Page(
            source=Path(page).name,
            text=decode(Path(page).read_bytes(), page),  # as it was read: UTF-8 or with a BOM
            summary=summary,
            sweep_png=sweep_png.read_bytes() if sweep_png.is_file() else None,
        )
    written = _written(lambda: report.write_results(
        result, target, steps=steps_choice, tables=tables, plots=plots, trace=trace or None,
        page=shown, source=None if source is None else Path(source), started=started,
    ), target)  # fmt: skip
    out.print(f"wrote {', '.join(str(path) for path in written)}", markup=False)
    for note in (report.steps_note(result, steps_choice), trace_note(result, trace or None)):
        if note:
            out.print(note, markup=False)


@app.command()
def sweep(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            metavar="PATH=VALUES",
            help="A field and its values (repeatable; the grid is every combination): "
            "`1..48`, `0.5..2:0.5`, `50ms..200ms:50ms`, `1,5,10`, "
            "`[5, {dist: exponential, mean: 5}]`.",
        ),
    ] = None,
    out_dir: OutDir = None,
    schedule: Schedules = None,
    sets: Sets = None,
    seed: Seed = None,
    replications: Replications = None,
    jobs: Jobs = None,
    dask: Dask = None,
    quiet: Quiet = False,
    no_plots: NoPlots = False,
    max_events: MaxEvents = EVENTS_DEFAULT,  # type: ignore[assignment]  # parsed
    max_file_size: MaxFileSize = FILE_SIZE_DEFAULT,  # type: ignore[assignment]  # parsed
) -> None:
    """Play a scenario at every point of a grid; print a pivot, write `results/<name>/sweep.csv`.

    The grid comes from the file's `sweep:` block and `--vary` (which replaces the
    block's values for the same path). `sweep.csv` has one row per point and schedule:
    the varied values, then the summary columns; with replications also
    `sweep_replications.csv`, one row per point, replication and schedule. And
    `sweep.png` (unless `--no-plots`): makespan against the first varied field,
    per schedule, the closed form dashed, confidence bands with replications;
    `sim report` shows it.

    Examples:

        sim sweep polgar --vary players.amateur.count=1..48

        sim sweep polgar --vary players.amateur.count=1..48 --vary host_move=1,5,10

        sim sweep polgar-whatif --jobs 2

        sim sweep polgar-whatif --dask local
    """
    from sim import report, sweeps
    from sim.limits import sweep_too_much

    started = time.time()
    limits = Limits(max_file_bytes=max_file_size, max_events=max_events)
    document, overrides = _read(scenario, sets, limits)
    given = [*overrides, *_given(seed, replications)]
    base = _checked(lambda: document.scenario(given))
    grid = _checked(lambda: sweeps.axes(document, base, vary or []))
    if not grid:
        err.print("nothing to vary: give --vary PATH=VALUES or a `sweep:` block in the file")
        raise typer.Exit(EXIT_BAD_INPUT)
    points = _checked(lambda: sweeps.expand(document, given, grid))
    chosen = _pick(base, schedule or [])
    scenarios = [point.scenario for point in points]
    _checked(lambda: document.refuse_overruns(sweep_too_much(scenarios, max_events, chosen)))
    target = _target(base.name, out_dir)
    applied = "; ".join(override.text for override in overrides)
    total = sum(point.scenario.replications for point in points)
    with _runner(jobs, dask, total) as runner, _bar(total, base.name, quiet) as done:
        found = sweeps.play(points, chosen, runner, applied, done)
    if applied:
        out.print(f"with --set {applied}", markup=False)
    for pivot in sweeps.pivot(found):
        out.print(report.pivot_table(pivot, _title(base)))
    tables = {"sweep.csv": found.table}
    if total > len(points):
        tables["sweep_replications.csv"] = found.runs
    writers = {}
    if not no_plots:
        from sim.pictures import sweep_picture

        title = f"{base.name}: makespan against {found.axes[0]}"
        png = sweep_picture(found.table, found.axes, title)
        writers["sweep.png"] = lambda path: path.write_bytes(png)
    info = {
        "scenario": base.name,
        "seed": base.seed,
        "schedules": [schedule.label for schedule in chosen or base.schedules],
        "source": Path(document.source),
        "started": started,
    }
    written = _written(lambda: report.write_tables(
        tables, target, writers=writers, stale=["sweep.png"], info=info
    ), target)  # fmt: skip
    out.print(f"wrote {', '.join(str(path) for path in written)}", markup=False)


def _print_wide(table) -> None:
    """Piped or captured, as wide as the table needs rather than rich's 80 columns."""
    if not out.is_terminal:
        wide = out.options.update_width(400)
        out.width = max(out.width, out.measure(table, options=wide).maximum)
    out.print(table)


def _steps_choice(steps: bool | None, parquet: bool) -> str:
    """`--steps`, `--no-steps` and `--parquet` as one choice; contradictions are bad input."""
    if parquet:
        if steps is False:
            err.print("--parquet writes the steps table, --no-steps forbids it: give one")
            raise typer.Exit(EXIT_BAD_INPUT)
        from importlib.util import find_spec

        if find_spec("pyarrow") is None:  # checked before a long run, not after it
            err.print("--parquet needs pyarrow: pip install 'sim[parquet]'", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        return "parquet"
    return {None: "auto", True: "csv", False: "none"}[steps]


@app.command()
def guide(
    readme: Annotated[
        Path | None,
        typer.Option(help="Rewrite the section between the guide's markers in this file."),
    ] = None,
) -> None:
    """Which model should I use? Every model on cpu_bound, io_bound, blocking_call, polgar.

    Prints a Markdown table of makespans (fastest in bold) and the lesson of each row.

    Examples:

        sim guide

        sim guide --readme README.md
    """
    from sim.guide import guide as build
    from sim.guide import replace_section

    if readme is None:
        out.print(build(), markup=False)
        return
    try:
        text = readme.read_text(encoding="utf-8")
        replace_section(text, "")  # refuse a file without the markers before any work
    except (OSError, UnicodeDecodeError, ValueError) as error:
        err.print(f"{readme}: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    updated = replace_section(text, build())
    if updated != text:
        _write_atomically(readme, updated)
    out.print(f"{'updated' if updated != text else 'unchanged'} {readme}")


@app.command("list")
def list_scenarios() -> None:
    """Show the scenarios under scenarios/ with their descriptions.

    Example:

        sim list
    """
    from rich.table import Table

    from sim.catalog import available
    from sim.loader import load_file

    table = Table("name", "description", "games", "schedules")
    for name, path in available().items():
        try:
            scenario = load_file(path)
        except ScenarioError as error:
            table.add_row(
                escape(name), f"[red]invalid: {escape(str(error.problems[0]))}[/red]", "", ""
            )
            continue
        labels = ", ".join(schedule.label for schedule in scenario.schedules)
        table.add_row(escape(name), escape(scenario.description), str(scenario.games), labels)
    out.print(table)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files or names.")],
    sets: Sets = None,
    max_events: MaxEvents = EVENTS_DEFAULT,  # type: ignore[assignment]  # parsed
    max_file_size: MaxFileSize = FILE_SIZE_DEFAULT,  # type: ignore[assignment]  # parsed
) -> None:
    """Check scenario files without running them; exit 2 if any is invalid.

    A file's `sweep:` block is checked too: every point of its grid is validated.
    Each problem is one line: `file:line: field: what was expected`. The limits
    of `sim run` apply (file size, aliases, nesting, the event budget).

    Examples:

        sim validate scenarios/*.yaml

        sim validate polgar --set players.amateur.count=48
    """
    from sim.limits import sweep_too_much, too_much

    limits = Limits(max_file_bytes=max_file_size, max_events=max_events)
    bad = 0
    for name in files:
        try:
            document, overrides = _read(name, sets, limits, exit_on_error=False)
            scenario = document.scenario(overrides)
            document.refuse_overruns(too_much(scenario, max_events, repeats=scenario.replications))
            grid, points = [], []
            if scenario.sweep:  # sim.sweeps brings pandas: only for files that sweep
                from sim import sweeps

                grid = sweeps.axes(document, scenario, [])
                points = sweeps.expand(document, overrides, grid) if grid else []
            scenarios = [point.scenario for point in points]
            document.refuse_overruns(sweep_too_much(scenarios, max_events))
        except ScenarioError as error:
            bad += 1
            _report_problems(error)
            continue
        swept = f", a sweep of {len(points)} points" if grid else ""
        summary = f"ok {name}: {scenario.games} games, {scenario.step_count} steps{swept}"
        out.print(summary, markup=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def record(
    command: Annotated[
        list[str], typer.Argument(help="The program, after `--`: python myapp.py [args].")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="Scenario file to write.", show_default="scenarios/<stem>.yaml"
        ),
    ] = None,
    deterministic: Annotated[
        bool, typer.Option("--deterministic", help="Write each step's mean, not its distribution.")
    ] = False,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="A group per task with its own durations: replays the recorded run."
        ),
    ] = False,
    threshold: Annotated[
        str, typer.Option("--threshold", help="Flag steps that held the loop at least this long.")
    ] = "50ms",
    name: Annotated[
        str | None, typer.Option("--name", help="Scenario name.", show_default="the script's stem")
    ] = None,
    max_values: Annotated[
        int, typer.Option("--max-values", min=2, help="Most values kept per distribution.")
    ] = 200,
) -> None:
    """Run an asyncio program under a recording event loop; write it as a scenario.

    Every task becomes a player (tasks of one coroutine function form a group); its
    life is cut into host steps (its coroutine ran), wait steps (suspended, not
    ready) and `block` steps (a blocking call inside a step). Steps that held the
    loop for `--threshold` or more are flagged. The program's output passes through;
    what was recorded is printed after it. A program that runs until stopped (a
    server) is recorded until Ctrl-C.

    Examples:

        sim record -o scenarios/crawler.yaml -- python examples/crawler.py --pages 100

        sim record --deterministic -- python -m mypackage.server --once
    """
    import tempfile

    from sim.paths import slug
    from sim.record.child import NotPython, recording_command, run_recording
    from sim.record.output import NothingRecorded, report_lines, scenario_text, write_atomically
    from sim.record.program import INTERRUPTED, load_raw
    from sim.units import parse_duration

    try:
        seconds = parse_duration(threshold)
    except ValueError as error:
        err.print(f"--threshold: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    with tempfile.TemporaryDirectory(prefix="sim-record-") as folder:
        raw_path = Path(folder) / "recording.json"
        try:
            child = recording_command(command, raw_path, seconds)
        except NotPython as error:
            err.print(f"sim record: {error}", markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        status = run_recording(child)
        raw = load_raw(raw_path) if raw_path.exists() else None
        if status == INTERRUPTED and raw is not None:
            err.print("sim record: the program was interrupted; writing what it ran until then")
        elif status != 0:
            err.print(f"sim record: the program exited with status {status}; nothing written")
            raise typer.Exit(1)
    program = child[child.index("--raw") + 4 :]
    stem = program[1].rsplit(".", 1)[-1] if program[0] == "-m" else Path(program[0]).stem
    try:
        text, transcript = scenario_text(
            raw, name or stem, deterministic=deterministic, exact=exact, max_values=max_values
        )
    except NothingRecorded as error:
        err.print(f"sim record: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except ScenarioError as error:  # our own output refused: a bug, said plainly
        err.print("sim record: the recorded scenario does not validate:", markup=False)
        _report_problems(error)
        raise typer.Exit(1) from None
    target = out if out is not None else Path("scenarios") / f"{slug(stem)}.yaml"
    write_atomically(target, text)
    for line in report_lines(transcript, text):
        out_console.print(line, markup=False)
    out_console.print(f"wrote {target}; next: sim run {target}", markup=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files, made from the models `sim` validates with.

    Editors with the YAML language server check scenario files while you type
    once the file's first line names the schema (see the README).

    Example:

        sim schema > scenario.schema.json
    """
    import json

    from sim.schema import scenario_schema

    typer.echo(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))


@app.command()
def verify(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    schedule: Annotated[
        list[str] | None,
        typer.Option("--schedule", help="Check only this schedule or model (repeatable)."),
    ] = None,
    tie_rule: Annotated[
        bool,
        typer.Option(
            "--tie-rule",
            help="Hand asyncio's hosts out by the tie rule, not in asyncio.Semaphore's order.",
        ),
    ] = False,
    real: Annotated[
        bool, typer.Option("--real", help="Play for real on the wall clock instead.")
    ] = False,
    scale: Annotated[
        float | None,
        typer.Option(help="With --real: divide every duration by this (> 0). [default: 100]"),
    ] = None,
    repeat: Annotated[
        int | None,
        typer.Option(help="With --real: runs per model; the median counts. [default: 3]", min=1),
    ] = None,
    replications: Annotated[
        int,
        typer.Option(help="With --real: engine runs averaged for schedules with chance.", min=1),
    ] = 20,
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="With --real: exit 1 if a relative error exceeds this (0.1 = 10 %).", min=0
        ),
    ] = None,
    sets: Sets = None,
    seed: Seed = None,
) -> None:
    """Check the engine against Python itself.

    Without `--real`: plays the games as coroutines on a real asyncio loop whose
    clock is fast-forwarded (looptime) and compares every game's end with the
    engine's, exactly (to 1e-9 s); exit 1 naming the first differing game.

    With `--real`: plays the scenario for real in each execution model
    (synchronous, cooperative, threaded, parallel), every duration divided by
    `--scale`, and sets the median makespan × scale beside the engine's.

    Examples:

        sim verify polgar

        sim verify countasync --schedule cooperative --tie-rule

        sim verify countasync --real --scale 10 --repeat 5

        sim verify polgar --real --scale 1000 --schedule cooperative --tolerance 0.1

        sim verify polgar --set players.amateur.count=48 --set host.count=2

    Random durations are replication 1's draws (of `--seed`), the same on both sides.
    """
    document, overrides = _read(scenario, sets)
    loaded = _checked(lambda: document.scenario([*overrides, *_given(seed, None)]))
    _check_budget(document, loaded, None, Limits().max_events)
    if real:
        if tie_rule:
            _bad_option("--tie-rule: only without --real")
        if scale is not None and not 0 < scale < float("inf"):
            _bad_option(f"--scale: expected a number > 0, got {scale:g}")
        scale = 100.0 if scale is None else scale
        _verify_real(loaded, schedule or [], scale, repeat or 3, replications, tolerance)
        return
    for option, value in {"--scale": scale, "--repeat": repeat, "--tolerance": tolerance}.items():
        if value is not None:
            _bad_option(f"{option}: only with --real")
    _verify_virtual(loaded, schedule or [], tie_rule)


def _bad_option(message: str) -> NoReturn:
    err.print(message, markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _verify_virtual(scenario, names: list[str], tie_rule: bool) -> None:
    from sim.runner import workload_of
    from sim.verify import report
    from sim.verify.compare import against_asyncio
    from sim.verify.virtual import REPLAYABLE

    chosen = _pick(scenario, names) or list(scenario.schedules)
    workload = workload_of(scenario)  # random durations: those of replication 1
    rows = against_asyncio(workload, chosen, tie_rule)
    skipped = [s.label for s in chosen if s.kind not in REPLAYABLE]
    out.print(report.agreement_table(scenario, rows, skipped, tie_rule))
    problems = report.disagreements(scenario, rows)
    for sentence in problems:
        err.print(sentence, markup=False)
    if problems:
        raise typer.Exit(1)
    if rows:
        how = " (hosts by the tie rule)" if tie_rule else ""
        out.print(
            f"every game ends at the same instant, to 1e-9 s, in the engine and on asyncio{how}"
        )


def _verify_real(scenario, names, scale, repeat, replications, tolerance) -> None:
    from sim.runner import workload_of
    from sim.verify import report
    from sim.verify.wallclock import check, models_of

    try:
        models = models_of(scenario, names)
    except ValueError as error:
        err.print(f"--schedule: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    def progress(model, number, run) -> None:
        seconds = report.figure(run.makespan)
        err.print(f"{model.label}: run {number}/{repeat} took {seconds} s", markup=False)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    rows = check(workload_of(scenario), models, scale, repeat, replications, progress)
    out.print(report.real_table(scenario, rows))
    for note in report.real_notes(scenario, rows, sys.getswitchinterval(), load):
        out.print(note, markup=False)
    if tolerance is not None:
        off = [row for row in rows if row.error is not None and abs(row.error) > tolerance]
        for row in off:
            err.print(
                f"{row.model.label}: real {report.figure(row.measured)} s is "
                f"{row.error:+.1%} off the simulated {report.figure(row.simulated)} s "
                f"(tolerance {tolerance:.1%})",
                markup=False,
            )
        if off:
            raise typer.Exit(1)


def _load(scenario: str, exit_on_error: bool = True):  # -> Scenario, imported lazily
    """The scenario as its file has it, no overrides, within the default limits."""
    from sim.limits import too_much

    document, _ = _read(scenario, None, None, exit_on_error)

    def checked():  # -> Scenario
        loaded = document.scenario()
        document.refuse_overruns(too_much(loaded, Limits().max_events))
        return loaded

    return _checked(checked) if exit_on_error else checked()


def _read(
    scenario: str,
    sets: list[str] | None,
    limits: Limits | None = None,
    exit_on_error: bool = True,
):
    """The scenario's document (read within `limits`) and the parsed `--set` overrides."""
    from sim.catalog import find
    from sim.loader import read_file
    from sim.overrides import parse

    try:
        return read_file(find(scenario), limits), [parse(text) for text in sets or []]
    except ScenarioError as error:
        if not exit_on_error:
            raise
        _report_problems(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _check_budget(document, scenario, schedules: list | None, max_events: int | float) -> None:
    """Refuse, before playing, a run over the event budget (replications included)."""
    from sim.limits import too_much

    overruns = too_much(scenario, max_events, schedules, repeats=scenario.replications)
    _checked(lambda: document.refuse_overruns(overruns))


def _target(name: str, out_dir: Path | None) -> Path:
    """`--out` exactly as given, else `results/<slug>`; exit 2 if it cannot be written."""
    from sim.paths import OutputError, check_out, results_dir

    try:
        return results_dir(name) if out_dir is None else check_out(out_dir)
    except OutputError as error:
        message = f"--out: {error}" if out_dir is not None else str(error)
        err.print(message, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _written(write, target: Path) -> list[Path]:  # a thunk writing results → their paths
    """Write, or exit 2 naming the folder if the file system refuses."""
    try:
        return write()
    except OSError as error:
        err.print(f"cannot write results to {target}: {error.strerror or error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _checked(make):  # a thunk that may raise ScenarioError → its value, or exit 2
    try:
        return make()
    except ScenarioError as error:
        _report_problems(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _given(seed: int | None, replications: int | None) -> list:
    """`--seed` and `--replications` as overrides: after `--set`, before a sweep's values."""
    from sim.overrides import Override

    given = {"seed": seed, "replications": replications}
    return [Override(key, value, f"--{key}") for key, value in given.items() if value is not None]


@contextmanager
def _runner(jobs: int | None, dask: str | None, items: int):
    from sim.execute import ExecutorError, executor

    with ExitStack() as stack:
        try:
            runner = stack.enter_context(executor(jobs, dask, items))
        except ExecutorError as error:
            err.print(str(error), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        yield runner


def _bar(total: int, name: str, quiet: bool):
    from sim.progress import progress

    return progress(err, total, name, quiet)


def _title(scenario) -> str:
    return f"{scenario.name}: {scenario.description}".rstrip(": ")


def _pick(scenario, names: list[str]) -> list | None:
    """Schedules named on the command line: a label from the file, else a kind by name."""
    from sim.schedules import SCHEDULE_KINDS, Schedule

    if not names:
        return None
    own = {schedule.label: schedule for schedule in scenario.schedules}
    chosen = []
    for name in names:
        if name in own:
            chosen.append(own[name])
        elif name in SCHEDULE_KINDS:
            chosen.append(Schedule.of(name))
        else:
            expected = ", ".join(dict.fromkeys([*own, *SCHEDULE_KINDS]))
            message = f"--schedule: unknown schedule {name!r}; expected one of: {expected}"
            err.print(one_line(message), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
    return chosen


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step: a crash leaves the old file or the new one, never half."""
    import tempfile

    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as temporary:
        temporary.write(text)
    os.replace(temporary.name, path)


def _report_problems(error: ScenarioError) -> None:
    for problem in error.problems:
        err.print(str(problem), markup=False)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. A BaseException of our own, so that no handler on the way
    (the CLI library's among them) turns it into another exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main() -> None:
    """Console entry point: exit statuses as documented; no traceback unless SIM_DEBUG is set.

    An interrupt unwinds like an exception, so every staging folder on the way
    is removed before the process exits with 128 + the signal's number.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        app()
    except (Interrupted, KeyboardInterrupt) as stop:
        err.print("interrupted")
        sys.exit(128 + stop.signum if isinstance(stop, Interrupted) else EXIT_INTERRUPTED)
    except Exception as error:  # a bug of ours, not bad input
        if os.environ.get("SIM_DEBUG"):
            raise
        message = f"internal error: {type(error).__name__}: {error} (SIM_DEBUG=1 shows where)"
        err.print(one_line(message), markup=False)
        sys.exit(EXIT_INTERNAL)
