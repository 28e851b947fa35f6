"""`sim sweep`: play a scenario at every point of a grid of what-ifs.

Its options shared with `run` arrive as one `PlayOptions` (`sim.cli` registers
it through `play_options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import bad_input, checked, out, played, title
from sim.cli.options import NoPlots, PlayOptions
from sim.cli.writing import written

__all__ = ["sweep"]

#: What prints the pivots: imported after the play, or while the workers play it.
TABLES = "sim.results.console_tables"


def sweep(
    *,
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
    options: PlayOptions,
    no_plots: NoPlots = False,
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
    from sim.experiment import sweeps
    from sim.experiment.preload import AFTER_PLAY, PICTURES
    from sim.output import result_files
    from sim.scenario.limits import sweep_too_much

    read = options.read()
    document, base = read.document, read.scenario
    grid = checked(lambda: sweeps.axes(document, base, vary or []))
    if not grid:
        bad_input("nothing to vary: give --vary PATH=VALUES or a `sweep:` block in the file")
    points = checked(lambda: sweeps.expand(document, read.given, grid))
    chosen = options.pick(base)
    scenarios = [point.scenario for point in points]
    checked(lambda: document.refuse_overruns(sweep_too_much(scenarios, options.max_events, chosen)))
    target = options.target(base.name, result_files.sweep_files(plots=not no_plots))
    total = sum(point.scenario.replications for point in points)
    then = ("pandas", *AFTER_PLAY, TABLES, *(() if no_plots else PICTURES))  # the merging's, first
    with options.workers(total, base.name, then) as (executor, done):
        found = played(lambda: sweeps.play(points, chosen, executor, read.applied, done))
    from sim.results import console_tables  # imported while the workers played (`then`)

    if read.applied:
        out.print(f"with --set {read.applied}", markup=False)
    for pivot in console_tables.pivots(found.table, found.axes):
        out.print(console_tables.pivot_table(pivot, title(base)))
    files = written(lambda: result_files.write_sweep(
        found, target, base, chosen or base.schedules, plots=not no_plots,
        source=Path(document.source), started=options.started, force=options.force,
    ), target)  # fmt: skip
    out.print(f"wrote {', '.join(str(path) for path in files)}", markup=False)
