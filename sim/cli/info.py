"""The commands that play nothing: `list`, `validate`, `schema` and `guide`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.console import EXIT_BAD_INPUT, bad_input, out, report_problems
from sim.cli.loading import read
from sim.cli.options import EVENTS_DEFAULT, FILE_SIZE_DEFAULT, MaxEvents, MaxFileSize, Sets
from sim.scenario.errors import ScenarioError
from sim.scenario.limits import Limits, sweep_too_much

__all__ = ["guide", "list_scenarios", "schema", "validate"]


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
    from sim.output.guide import guide as build
    from sim.output.guide import replace_section

    if readme is None:
        out.print(build(), markup=False)
        return
    try:
        text = readme.read_text(encoding="utf-8")
        replace_section(text, "")  # refuse a file without the markers before any work
    except (OSError, UnicodeDecodeError, ValueError) as error:
        bad_input(f"{readme}: {error}")
    updated = replace_section(text, build())
    if updated != text:
        from sim.output.staging import write_atomically

        write_atomically(readme, updated)
    out.print(f"{'updated' if updated != text else 'unchanged'} {readme}")


def list_scenarios() -> None:
    """Show the scenarios under scenarios/ with their descriptions.

    Each file's row is kept in the user's cache folder (`~/.cache/sim`, or
    `$XDG_CACHE_HOME/sim`, or `$SIM_CACHE_DIR`), keyed by the file's bytes, so files
    that did not change are not validated again.

    Example:

        sim list
    """
    from rich.table import Table

    from sim.scenario.catalog import available
    from sim.scenario.listing import listing

    table = Table("name", "description", "games", "schedules")
    for name, row in listing(available()).items():
        if row.problem is not None:
            table.add_row(escape(name), f"[red]invalid: {escape(row.problem)}[/red]", "", "")
            continue
        labels = ", ".join(row.schedules)
        table.add_row(escape(name), escape(row.description), str(row.games), labels)
    out.print(table)


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
    limits = Limits(max_file_bytes=max_file_size, max_events=max_events)
    bad = 0
    for name in files:
        try:
            document, overrides = read(name, sets, limits, exit_on_error=False)
            scenario = document.scenario(overrides)
            document.refuse_over_budget(scenario, max_events)
            grid, points = [], []
            if scenario.sweep:  # sim.experiment.sweeps brings pandas: only for files that sweep
                from sim.experiment import sweeps

                grid = sweeps.axes(document, scenario, [])
                points = sweeps.expand(document, overrides, grid) if grid else []
            scenarios = [point.scenario for point in points]
            document.refuse_overruns(sweep_too_much(scenarios, max_events))
        except ScenarioError as error:
            bad += 1
            report_problems(error)
            continue
        swept = f", a sweep of {len(points)} points" if grid else ""
        summary = f"ok {name}: {scenario.games} games, {scenario.step_count} steps{swept}"
        out.print(summary, markup=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def schema() -> None:
    """Print the JSON Schema of scenario files, made from the models `sim` validates with.

    Editors with the YAML language server check scenario files while you type
    once the file's first line names the schema (see docs/how-to/scenarios.md).

    Example:

        sim schema > scenario.schema.json
    """
    import json

    from sim.scenario.schema import scenario_schema

    typer.echo(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))
