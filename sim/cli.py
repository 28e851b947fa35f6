"""The `sim` command: run, list and validate scenarios.

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
) -> None:
    """Play a scenario under its schedules; print the table, write `results/<name>/`.

    Writes `summary.csv`, `games.csv` and `steps.csv` (columns in the README).

    Examples:

        sim run polgar

        sim run scenarios/countasync.yaml --schedule cooperative --out /tmp/count
    """
    from sim import report
    from sim.runner import run as run_scenario

    loaded = _load(scenario)
    try:
        result = run_scenario(loaded, _pick(loaded, schedule or []), seed=seed)
    except ScenarioError as error:  # a schedule too long to play
        _report_problems(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    table = report.summary_table(result)
    if not out.is_terminal:  # piped or captured: as wide as the table, not rich's 80 columns
        wide = out.options.update_width(400)
        out.width = max(out.width, out.measure(table, options=wide).maximum)
    out.print(table)
    for sentence in [*report.explanations(result), *result.notes]:
        out.print(sentence, markup=False)
    target = out_dir if out_dir is not None else Path("results") / _slug(loaded.name)
    written = report.write_results(result, target)
    out.print(f"wrote {', '.join(str(path) for path in written)}")


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
