"""The `sim` command: run, verify, list and validate scenarios; print their schema.

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
out = Console(highlight=False, soft_wrap=True, emoji=False)  # `x.yaml:100:` is no emoji
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

MaxEvents = Annotated[
    int,
    typer.Option(
        "--max-events",
        parser=parse_count,
        metavar="N",
        envvar="SIM_MAX_EVENTS",
        help="Refuse scenarios whose run plays more step events than this (1e9, 10**9 work).",
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
    max_events: MaxEvents = "1e8",  # type: ignore[assignment]  # parsed by parse_count
    max_file_size: MaxFileSize = "1MB",  # type: ignore[assignment]  # parsed by parse_size
) -> None:
    """Play a scenario under its schedules; print the table, write `results/<name>/`.

    Writes `summary.csv`, `games.csv` and `steps.csv` (columns in the README);
    a steps table over 250 000 rows only with `--steps` (CSV) or `--parquet`;
    and `run.json` (when, with what, file hashes). The files appear together
    when the run is complete; a failed or interrupted run leaves the previous
    ones as they were. The folder is `results/` plus the name made safe for a
    file name, or `--out` exactly as given.

    Examples:

        sim run polgar

        sim run scenarios/countasync.yaml --schedule cooperative --out /tmp/count

        sim run big.yaml --parquet

        sim run big.yaml --analytic-only

        sim run huge.yaml --max-events 1e9
    """
    started = time.time()
    steps_choice = _steps_choice(steps, parquet)
    # closed forms cost nothing, however many events a simulation would take
    budget = NO_BUDGET if analytic_only else max_events
    limits = Limits(max_file_bytes=max_file_size, max_events=budget)
    source, loaded = _find_and_load(scenario, limits)
    chosen = _pick(loaded, schedule or [])
    if analytic_only:
        from sim.analytic_report import analytic_notes, analytic_table

        out.print(analytic_table(loaded, chosen))
        for sentence in analytic_notes(loaded, chosen):
            out.print(sentence, markup=False)
        return
    from sim import report
    from sim.runner import run as run_scenario

    if chosen is not None:
        _check_budget(source, loaded, chosen, limits)
    target = _target(loaded.name, out_dir)
    result = run_scenario(loaded, chosen)
    out.print(report.summary_table(result))
    for sentence in filter(None, [report.closed_forms(result), *report.explanations(result)]):
        out.print(sentence, markup=False)
    try:
        written = report.write_results(
            result, target, steps=steps_choice, source=source, started=started
        )
    except OSError as error:
        err.print(f"cannot write results to {target}: {error.strerror or error}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    out.print(f"wrote {', '.join(str(path) for path in written)}", markup=False)
    note = report.steps_note(result, steps_choice)
    if note:
        out.print(note, markup=False)


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
    max_events: MaxEvents = "1e8",  # type: ignore[assignment]  # parsed by parse_count
    max_file_size: MaxFileSize = "1MB",  # type: ignore[assignment]  # parsed by parse_size
) -> None:
    """Check scenario files without running them; exit 2 if any is invalid.

    Each problem is one line: `file:line: field: what was expected`. The
    limits of `sim run` apply (file size, aliases, nesting, the event budget).

    Example:

        sim validate scenarios/*.yaml
    """
    limits = Limits(max_file_bytes=max_file_size, max_events=max_events)
    bad = 0
    for name in files:
        try:
            _, scenario = _find_and_load(name, limits, exit_on_error=False)
        except ScenarioError as error:
            bad += 1
            _report_problems(error)
            continue
        out.print(f"ok {name}: {scenario.games} games, {scenario.step_count} steps", markup=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


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


def _load(scenario: str, exit_on_error: bool = True, limits: Limits | None = None):  # -> Scenario
    return _find_and_load(scenario, limits, exit_on_error)[1]


def _find_and_load(scenario: str, limits: Limits | None = None, exit_on_error: bool = True):
    """The scenario's file and its validated Scenario (imported lazily); exit 2 if bad."""
    from sim.catalog import find
    from sim.loader import load_file

    try:
        path = find(scenario)
        return path, load_file(path, limits)
    except ScenarioError as error:
        if not exit_on_error:
            raise
        _report_problems(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _check_budget(source: Path, scenario, schedules: list, limits: Limits) -> None:
    """The event budget again, for the schedules picked on the command line."""
    from sim.limits import too_much
    from sim.loader import problem_at

    overruns = too_much(scenario, limits.max_events, schedules)
    if overruns:
        _report_problems(ScenarioError([problem_at(source, o.loc, o.message) for o in overruns]))
        raise typer.Exit(EXIT_BAD_INPUT)


def _target(name: str, out_dir: Path | None) -> Path:
    """`--out` exactly as given, else `results/<slug>`; exit 2 if it cannot be written."""
    from sim.paths import OutputError, check_out, results_dir

    try:
        return results_dir(name) if out_dir is None else check_out(out_dir)
    except OutputError as error:
        err.print(f"--out: {error}" if out_dir is not None else str(error), markup=False)
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
            message = f"--schedule: unknown schedule {name!r}; expected one of: {expected}"
            err.print(one_line(message), markup=False)
            raise typer.Exit(EXIT_BAD_INPUT)
    return chosen


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
