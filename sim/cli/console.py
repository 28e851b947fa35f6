"""Where the commands print, and how they stop: the two consoles and the exit statuses.

Bad input ends a command with one line per problem on stderr and status 2,
never a traceback; every command says so through these few functions.

Printing never stops a command: a closed pipe (`sim run polgar | head -1`) or
a full disk under stdout drops what is printed from then on, the command goes
on to write its files, and `exit_status` ends it with 141 (quietly, as any
program a closed pipe stops) or 74 (with one line on stderr).
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from sim.cli import collector
from sim.scenario.errors import ScenarioError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_BROKEN_PIPE",
    "EXIT_CANNOT_PRINT",
    "EXIT_CHECK_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "bad_input",
    "checked",
    "err",
    "exit_status",
    "guarded_streams",
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
#: 128 + SIGPIPE: what a shell reports for a program that a closed pipe stopped.
EXIT_BROKEN_PIPE = 141
#: sysexits' EX_IOERR (as 70 is its EX_SOFTWARE): stdout refused what was printed.
EXIT_CANNOT_PRINT = 74


class _Stream:
    """`sys.stdout` (or stderr) as the consoles print to it, but never raising: what a
    closed pipe or a full disk refuses is dropped, and the command goes on to write its
    files. Looked up on every call, so that a capture of sys.stdout is followed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.error: OSError | None = None
        self.target: IO[str] | None = None  # the stream it stands for, while it is sys's

    @property
    def stream(self) -> IO[str]:
        return self.target if self.target is not None else getattr(sys, self.name)

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                return self.stream.write(text)
            except OSError as error:
                self._lost(error)
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as error:
                self._lost(error)

    def __getattr__(self, name: str) -> Any:
        if name == "rich_proxied_file":  # rich would print to that file past this guard
            raise AttributeError(name)
        return getattr(self.stream, name)

    def _lost(self, error: OSError) -> None:
        """Print nowhere from now on; what Python still holds for the stream is flushed
        at exit to /dev/null too, rather than failing again with a message."""
        self.error = error
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self.stream.fileno())
            finally:
                os.close(null)
        except (OSError, ValueError):  # no file descriptor behind it (a captured stream)
            pass


_stdout, _stderr = _Stream("stdout"), _Stream("stderr")


@contextmanager
def guarded_streams() -> Iterator[None]:
    """For a whole command, `sys.stdout` and `sys.stderr` are the guarded streams too, so
    that what libraries print (the CLI library's help and usage lines) is dropped on a
    closed pipe or a full disk like the consoles' text, and the exit status says so."""
    saved = sys.stdout, sys.stderr
    _stdout.target, _stderr.target = saved
    sys.stdout, sys.stderr = _stdout, _stderr  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        _stdout.target = _stderr.target = None


out = Console(file=_stdout, highlight=False, soft_wrap=True, emoji=False)  # no `:100:` emoji
err = Console(file=_stderr, stderr=True, highlight=False, soft_wrap=True, emoji=False)


def stdout_failed() -> bool:
    """Has stdout refused what was printed (a closed pipe, a full disk)?"""
    return _stdout.error is not None


def exit_status(status: int | str | None) -> int | str | None:
    """The command's exit status `status`, unless it was 0 and stdout failed under it:
    then `EXIT_BROKEN_PIPE` for a closed pipe, quietly, and `EXIT_CANNOT_PRINT` with
    one line on stderr for any other refusal (a full disk)."""
    error = _stdout.error
    if error is None:
        return status
    if error.errno != errno.EPIPE:
        reason = error.strerror or str(error)
        err.print(f"cannot print: stdout: {reason} (files are written all the same)", markup=False)
    if status not in (0, None):
        return status
    return EXIT_BROKEN_PIPE if error.errno == errno.EPIPE else EXIT_CANNOT_PRINT


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
        with collector.playing():
            return play()
    except Deadlock as deadlock:
        err.print(str(deadlock), markup=False)
        raise typer.Exit(EXIT_CHECK_FAILED) from None


def title(scenario) -> str:  # a Scenario, imported lazily
    return f"{scenario.name}: {scenario.description}".rstrip(": ")
