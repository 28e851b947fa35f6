"""The `sim` command: run, verify, list and validate scenarios.

The only layer (with `sim.report`) that prints or writes files. Heavy imports
(pandas, the engine) happen inside the commands that need them, so `sim
--help` answers at once. Exit status: 0 ok, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

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


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name under scenarios/.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write the CSVs straight into this folder.", show_default=False),
    ] = None,
    schedule: Annotated[
        list[str] | None,
        typer.Option("--schedule", help="Play only this schedule (repeatable; a label or a kind)."),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(min=0, help="Seed of what is left to chance (who gets the GIL next)."),
    ] = 0,
    steps: Annotated[
        bool | None,
        typer.Option(
            "--steps/--no-steps",
            help="Write steps.csv whatever its size / never. Default: only up to 250 000 rows.",
            show_default=False,
        ),
    ] = None,
    parquet: Annotated[
        bool,
        typer.Option("--parquet", help="Write the steps table as steps.parquet (needs pyarrow)."),
    ] = False,
    analytic_only: Annotated[
        bool,
        typer.Option(
            "--analytic-only",
            help="Print the closed forms and the article's estimates; simulate and write nothing.",
        ),
    ] = False,
) -> None:
    """Play a scenario under its schedules; print the table, write `results/<name>/`.

    Writes `summary.csv`, `games.csv` and `steps.csv` (columns in the README);
    a steps table over 250 000 rows only with `--steps` (CSV) or `--parquet`.

    Examples:

        sim run polgar

        sim run scenarios/countasync.yaml --schedule cooperative --out /tmp/count

        sim run big.yaml --parquet

        sim run big.yaml --analytic-only
    """
    steps_choice = _steps_choice(steps, parquet)
    loaded = _load(scenario)
    chosen = _pick(loaded, schedule or [])
    if analytic_only:
        from sim.analytic_report import analytic_notes, analytic_table

        out.print(analytic_table(loaded, chosen))
        for sentence in analytic_notes(loaded, chosen):
            out.print(sentence)
        return
    from sim import report
    from sim.runner import run as run_scenario

    try:
        result = run_scenario(loaded, chosen, seed=seed)
    except ScenarioError as error:  # a schedule too long to play: name the file
        from dataclasses import replace

        from sim.catalog import find

        where = str(find(scenario))
        _report_problems(ScenarioError([replace(p, source=where) for p in error.problems]))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    table = report.summary_table(result)
    if not out.is_terminal:  # piped or captured: as wide as the table, not rich's 80 columns
        wide = out.options.update_width(400)
        out.width = max(out.width, out.measure(table, options=wide).maximum)
    out.print(table)
    notes = [report.closed_forms(result), *report.explanations(result), *result.notes]
    for sentence in filter(None, notes):
        out.print(sentence, markup=False)
    target = out_dir if out_dir is not None else Path("results") / _slug(loaded.name)
    written = report.write_results(result, target, steps=steps_choice)
    out.print(f"wrote {', '.join(str(path) for path in written)}")
    note = report.steps_note(result, steps_choice)
    if note:
        out.print(note)


def _steps_choice(steps: bool | None, parquet: bool) -> str:
    """`--steps`, `--no-steps` and `--parquet` as one choice; contradictions are bad input."""
    if parquet:
        if steps is False:
            err.print("--parquet writes the steps table, --no-steps forbids it: give one")
            raise typer.Exit(EXIT_BAD_INPUT)
        from importlib.util import find_spec

        if find_spec("pyarrow") is None:  # checked before a long run, not after it
            err.print("--parquet needs pyarrow: pip install 'sim[parquet]'")
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
    """
    loaded = _load(scenario)
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
    from sim.verify import report
    from sim.verify.compare import against_asyncio
    from sim.verify.virtual import REPLAYABLE
    from sim.workload import Workload

    chosen = _pick(scenario, names) or list(scenario.schedules)
    rows = against_asyncio(Workload.of(scenario), chosen, tie_rule)
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


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step: a crash leaves the old file or the new one, never half."""
    import tempfile

    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as temporary:
        temporary.write(text)
    os.replace(temporary.name, path)


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
