"""`sim run` and `sim report`: play a scenario, print its table, write its folder.

The two differ only in the page: `report` also writes `report.html` and
always draws the pictures it shows. Their shared options arrive as one
`PlayOptions` (`sim.cli` registers them through `play_options`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import EXIT_BAD_INPUT, bad_input, out, played, report_problems, title
from sim.cli.loading import check_budget
from sim.cli.options import NoPlots, PlayOptions, Read
from sim.cli.writing import written
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import NO_BUDGET

__all__ = ["play_and_write", "report", "run"]

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
Trace = Annotated[
    bool,
    typer.Option(
        "--trace", help="Write trace.json whatever the run's size (default: up to 50 000 steps)."
    ),
]
AnalyticOnly = Annotated[
    bool,
    typer.Option(
        "--analytic-only",
        help="Print the closed forms and the article's estimates; simulate and write nothing.",
    ),
]


def run(
    options: PlayOptions,
    steps: Steps = None,
    parquet: Parquet = False,
    no_plots: NoPlots = False,
    trace: Trace = False,
    analytic_only: AnalyticOnly = False,
) -> None:
    """Play a scenario under its schedules; print the table, write `results/<name>/`.

    Writes `summary.csv`, `replications.csv`, `games.csv` and `steps.csv` (columns in
    docs/reference/result-columns.md); a steps table over 250 000 rows only with `--steps` (CSV) or
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
    play_and_write(options, steps, parquet, trace, plots=not no_plots, analytic_only=analytic_only)


def report(
    options: PlayOptions,
    steps: Steps = None,
    parquet: Parquet = False,
    trace: Trace = False,
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
    play_and_write(options, steps, parquet, trace, plots=True, page=True)


def play_and_write(
    options: PlayOptions,
    steps: bool | None,
    parquet: bool,
    trace: bool,
    *,
    plots: bool,
    analytic_only: bool = False,
    page: bool = False,
    answered: Callable[[dict[str, float]], None] | None = None,
) -> dict[str, float] | None:
    """What `run` and `report` do: check everything, then play, print and write; each
    schedule's makespan (its mean over replications), or None when nothing was played.
    `answered` is given those makespans once the table is printed, before the files are
    written (`sim watch` prints their changes there)."""
    steps_choice = _steps_choice(steps, parquet)
    read = options.read()
    chosen = options.pick(read.scenario)
    if analytic_only:  # closed forms cost nothing, however many events a simulation takes
        from sim.results.analytic_only import analytic_notes, analytic_table

        check_budget(read.document, read.scenario, chosen, NO_BUDGET)
        out.print(analytic_table(read.scenario, chosen))
        for sentence in analytic_notes(read.scenario, chosen):
            out.print(sentence, markup=False)
        return None
    check_budget(read.document, read.scenario, chosen, options.max_events)
    return _play(
        options, read, chosen, steps_choice, plots=plots, trace=trace, page=page, answered=answered
    )


def _play(
    options: PlayOptions,
    read: Read,
    chosen: list | None,
    steps_choice: str,
    *,
    plots: bool,
    trace: bool,
    page: bool = False,
    answered: Callable[[dict[str, float]], None] | None = None,
) -> dict[str, float]:
    """Play, print and write; each schedule's makespan. With `page`, report.html shows the
    scenario file as it was read."""
    from sim.experiment.preload import AFTER_PLAY, PICTURES
    from sim.experiment.replications import replicate
    from sim.experiment.runs import run
    from sim.output import result_files
    from sim.output.bottleneck import bottleneck_note
    from sim.output.own_order import own_order_note
    from sim.results import console_tables, explanations

    loaded = read.scenario
    writes = result_files.run_files(steps_choice, plots=plots, page=page)
    target = options.target(loaded.name, writes)  # refused before playing, not after
    count = loaded.replications
    try:  # replication 1, here: its games and steps are written
        first = played(lambda: run(loaded, chosen))
    except ScenarioError as error:  # a schedule too long to play: name the file
        from dataclasses import replace

        where = read.document.source
        report_problems(ScenarioError([replace(p, source=where) for p in error.problems]))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if count > 1:
        then = (*AFTER_PLAY, *PICTURES) if plots else AFTER_PLAY
        with options.workers(count - 1, loaded.name, then) as (executor, done):
            replicated = played(lambda: replicate(first, chosen, executor, done, read.applied))
    else:
        replicated = replicate(first, chosen, overrides=read.applied)
    if read.applied:
        out.print(f"with --set {read.applied}", markup=False)
    if count > 1:
        _print_wide(console_tables.replications_table(replicated.summary, title(loaded)))
        schedules = loaded.schedules if chosen is None else chosen
        if not loaded.random and not any(s.threaded and s.threaded.gil for s in schedules):
            out.print("durations are fixed, so every replication plays the same")
    else:
        _print_wide(console_tables.summary_table(first))
    notes = [
        console_tables.closed_form_line(first),
        *explanations.explanations(first),
        own_order_note(first),
        bottleneck_note(first),
        *first.notes,
    ]
    for sentence in filter(None, notes):
        out.print(sentence, markup=False)
    if loaded.sweep:
        out.print(
            f"{loaded.name} has a sweep: block; `sim sweep {options.scenario}` plays it",
            markup=False,
        )
    makespans = replicated.makespans()
    if answered is not None:
        answered(makespans)
    out.file.flush()  # the answer on screen (or down a pipe) now; the files take longer
    source = Path(read.document.source)
    shown = None
    if page:
        from sim.output.report_page import page_for

        shown = page_for(source, replicated.summary_frame, target)
    files = written(lambda: result_files.write_results(
        first, target, steps_choice, result_files.run_tables(replicated), plots=plots,
        trace=trace or None, page=shown, source=source, started=options.started,
        force=options.force,
    ), target)  # fmt: skip
    out.print(f"wrote {', '.join(str(path) for path in files)}", markup=False)
    for note in (
        result_files.steps_note(first, steps_choice),
        result_files.trace_note(first, trace or None),
    ):
        if note:
            out.print(note, markup=False)
    return makespans


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
            bad_input("--parquet writes the steps table, --no-steps forbids it: give one")
        from importlib.util import find_spec

        if find_spec("pyarrow") is None:  # checked before a long run, not after it
            bad_input("--parquet needs pyarrow: pip install 'sim[parquet]'")
        return "parquet"
    return {None: "auto", True: "csv", False: "none"}[steps]
