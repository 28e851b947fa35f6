"""Where the commands print, and how they stop: the two consoles and the exit statuses.

Bad input ends a command with one line per problem on stderr and status 2,
never a traceback; every command says so through these few functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from sim.scenario.errors import ScenarioError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "bad_input",
    "checked",
    "err",
    "out",
    "played",
    "report_problems",
    "title",
]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

out = Console(highlight=False, soft_wrap=True, emoji=False)  # no `:100:` emoji
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

T = TypeVar("T")


def report_problems(error: ScenarioError) -> None:
    for problem in error.problems:
        err.print(str(problem), markup=False)


def bad_input(message: str) -> NoReturn:
    """Say what was wrong on one line of stderr and exit 2."""
    err.print(message, markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def checked(make: Callable[[], T]) -> T:
    """`make()`, or exit 2 with a line for each problem of the ScenarioError it raises."""
    try:
        return make()
    except ScenarioError as error:
        report_problems(error)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def played(play: Callable[[], T]) -> T:
    """`play()`, or exit 1 with the report of the deadlock it ran into: the scenario is
    valid, but under that schedule some games wait for ever."""
    from sim.engine.deadlock import Deadlock  # here: the engine is no import of `sim --help`

    try:
        return play()
    except Deadlock as deadlock:
        err.print(str(deadlock), markup=False)
        raise typer.Exit(EXIT_CHECK_FAILED) from None


def title(scenario) -> str:  # a Scenario, imported lazily
    return f"{scenario.name}: {scenario.description}".rstrip(": ")
