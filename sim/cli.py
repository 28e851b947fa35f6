"""The `sim` command: run, report, verify, list and validate scenarios.

The only layer (with `sim.report`) that prints or writes files. Heavy imports
(pandas, the engine) happen inside the commands that need them, so `sim
--help` answers at once. Exit status: 0 ok, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sim.errors import ScenarioError

__all__ = ["app", "main"]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    help=(
        "How long does this work take synchronously, cooperatively (asyncio), with threads "
        "or with processes? Plays scenario files in virtual time.\n\n"
        "Exit status: 0 ok, 2 bad input (scenario, option), 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Write the files straight into this folder.", show_default=False),
]
ScheduleOption = Annotated[
    list[str] | None,
    typer.Option("--schedule", help="Play only this schedule (repeatable; a label or a kind)."),
]
TraceOption = Annotated[
    bool,
    typer.Option(
        "--trace",
        help="Write trace.json even for a big run (by default only up to 50 000 steps).",
    ),
]


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    out_dir: OutOption = None,
    schedule: ScheduleOption = None,
    no_plots: Annotated[
        bool, typer.Option("--no-plots", help="Do not draw timeline.png (faster).")
    ] = False,
    trace: TraceOption = False,
) -> None:
    """Play a scenario under its schedules; print the table, write `results/<name>/`.

    Writes `summary.csv`, `games.csv` and `steps.csv` (columns in the README),
    `timeline.png` (unless `--no-plots`) and `trace.json` (Chrome trace format,
    for Perfetto; for big runs only with `--trace`).

    Examples:

        sim run polgar

        sim run scenarios/countasync.yaml --schedule cooperative --out /tmp/count
    """
    _play(scenario, out_dir, schedule, plots=not no_plots, trace=trace)


@app.command()
def report(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    out_dir: OutOption = None,
    schedule: ScheduleOption = None,
    trace: TraceOption = False,
) -> None:
    """Play a scenario and write everything `sim run` writes plus `report.html`.

    The page is one self-contained file (pictures embedded, no network): the
    scenario, the summary table, why the figures come out as they do, the
    timeline and, if `sim sweep` left a `sweep.png` in the folder, the sweep.

    Examples:

        sim report polgar

        sim report scenarios/countasync.yaml --out /tmp/count
    """
    _play(scenario, out_dir, schedule, plots=True, trace=trace, page=True)


def _play(
    scenario: str,
    out_dir: Path | None,
    schedule: list[str] | None,
    *,
    plots: bool,
    trace: bool,
    page: bool = False,
) -> None:
    """Load, play, print and write: what `run` and `report` share."""
    from sim import report
    from sim.catalog import find
    from sim.runner import run as run_scenario

    loaded = _load(scenario)
    result = run_scenario(loaded, _pick(loaded, schedule or []))
    out.print(report.summary_table(result))
    for sentence in report.explanations(result):
        out.print(sentence)
    target = out_dir if out_dir is not None else Path("results") / _slug(loaded.name)
    source = None
    sweep_png = None
    if page:
        path = find(scenario)
        source = (path.name, path.read_text(encoding="utf-8"))
        sweep = target / "sweep.png"
        sweep_png = sweep.read_bytes() if sweep.is_file() else None
    written = report.write_results(
        result, target, plots=plots, trace=trace or None, report_source=source, sweep_png=sweep_png
    )
    out.print(f"wrote {', '.join(str(path) for path in written)}")


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
            table.add_row(name, f"[red]invalid: {error.problems[0]}[/red]", "", "")
            continue
        labels = ", ".join(schedule.label for schedule in scenario.schedules)
        table.add_row(name, scenario.description, str(scenario.games), labels)
    out.print(table)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files or names.")],
) -> None:
    """Check scenario files without running them; exit 2 if any is invalid.

    Example:

        sim validate scenarios/*.yaml
    """
    bad = 0
    for name in files:
        try:
            scenario = _load(name, exit_on_error=False)
        except ScenarioError as error:
            bad += 1
            _report_problems(error)
            continue
        out.print(f"ok {name}: {scenario.games} games, {scenario.step_count} steps")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def verify(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    schedule: Annotated[
        list[str] | None,
        typer.Option("--schedule", help="Check only this schedule or model (repeatable)."),
    ] = None,
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

        sim verify countasync --real --scale 10 --repeat 5

        sim verify polgar --real --scale 1000 --schedule cooperative --tolerance 0.1
    """
    loaded = _load(scenario)
    if not real:
        given = {"--scale": scale, "--repeat": repeat, "--tolerance": tolerance}
        for option, value in given.items():
            if value is not None:
                err.print(f"{option}: only with --real")
                raise typer.Exit(EXIT_BAD_INPUT)
        _verify_virtual(loaded, schedule or [])
    elif scale is not None and not 0 < scale < float("inf"):
        err.print(f"--scale: expected a number > 0, got {scale:g}")
        raise typer.Exit(EXIT_BAD_INPUT)
    else:
        scale = 100.0 if scale is None else scale
        _verify_real(loaded, schedule or [], scale, repeat or 3, replications, tolerance)


def _verify_virtual(scenario, names: list[str]) -> None:
    from sim.engine import play
    from sim.verify import report
    from sim.verify.compare import compare
    from sim.verify.virtual import REPLAYABLE, replay
    from sim.workload import Workload

    chosen = _pick(scenario, names) or list(scenario.schedules)
    workload = Workload.of(scenario)
    rows = [compare(play(workload, s), replay(workload, s)) for s in chosen if s.kind in REPLAYABLE]
    skipped = [s.label for s in chosen if s.kind not in REPLAYABLE]
    out.print(report.agreement_table(scenario, rows, skipped))
    problems = report.disagreements(scenario, rows)
    for sentence in problems:
        err.print(sentence, markup=False)
    if problems:
        raise typer.Exit(1)
    if rows:
        out.print("every game ends at the same instant, to 1e-9 s, in the engine and on asyncio")


def _verify_real(scenario, names, scale, repeat, replications, tolerance) -> None:
    import sys

    from sim.verify import report
    from sim.verify.wallclock import check, models_of
    from sim.workload import Workload

    try:
        models = models_of(scenario, names)
    except ValueError as error:
        err.print(f"--schedule: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    def progress(model, number, run) -> None:
        seconds = report.figure(run.makespan)
        err.print(f"{model.label}: run {number}/{repeat} took {seconds} s", markup=False)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    rows = check(Workload.of(scenario), models, scale, repeat, replications, progress)
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
    from sim.catalog import find
    from sim.loader import load_file

    try:
        return load_file(find(scenario))
    except ScenarioError as error:
        if not exit_on_error:
            raise
        _report_problems(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None


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
            err.print(f"--schedule: unknown schedule {name!r}; expected one of: {expected}")
            raise typer.Exit(EXIT_BAD_INPUT)
    return chosen


def _slug(name: str) -> str:
    """A scenario name as a single safe folder name."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip(".-")
    return cleaned or "scenario"


def _report_problems(error: ScenarioError) -> None:
    for problem in error.problems:
        err.print(str(problem), markup=False)


def main() -> None:
    """Console entry point: no traceback reaches the user unless SIM_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # a bug of ours, not bad input
        if os.environ.get("SIM_DEBUG"):
            raise
        err.print(f"internal error: {type(error).__name__}: {error} (SIM_DEBUG=1 shows where)")
        sys.exit(1)
