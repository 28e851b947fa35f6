"""The `sim` command: run, report, sweep, watch, verify, list and validate
scenarios; record a program as one.

The only layer that prints; files are written by `sim.output`, which the
commands call. Heavy imports (pandas, the engine) happen inside the commands
that need them, so `sim --help` answers at once. Exit status: 0 ok, 1 a check failed, 2 bad input,
130 interrupted (Ctrl-C; 143 for SIGTERM), 70 a bug of ours.

One module a command family (`running`: run and report; `sweeping`,
`watching`, `verifying`, `recording`; `info`: list, validate, schema, guide) and the
parts they share: `options`, `loading`, `writing`, `workers`, `console`, `coercion` (the
options' values), `numpy_import` (how numpy is imported) and `collector` (the garbage collector).
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import NoReturn

import typer

from sim.cli import collector
from sim.cli.coercion import PlainCommand, PlainGroup
from sim.cli.console import EXIT_INTERNAL, EXIT_INTERRUPTED, err, exit_status, guarded_streams
from sim.cli.info import guide, list_scenarios, schema, validate
from sim.cli.options import play_options
from sim.cli.recording import RECORD_SETTINGS, record
from sim.cli.running import report, run
from sim.cli.sweeping import sweep
from sim.cli.verifying import verify
from sim.cli.watching import watch
from sim.scenario.errors import one_line

__all__ = ["app", "main"]

EXIT_STATUS_HELP = (
    "Exit status:\n\n"
    "- **0** ok\n"
    "- **1** a check failed (verification or threshold), or the games deadlocked\n"
    "- **2** bad input: a scenario file, an option, an output folder\n"
    "- **130** interrupted by Ctrl-C; no partial files are left\n"
    "- **141** stdout was a closed pipe, **74** stdout refused the output (a full disk); "
    "the files are written all the same\n"
    "- **70** a bug in sim (SIM_DEBUG=1 shows the traceback)"
)

app = typer.Typer(
    cls=PlainGroup,
    help=(
        "How long does this work take synchronously, cooperatively (asyncio), with threads "
        "or with processes? Plays scenario files in virtual time.\n\n" + EXIT_STATUS_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
# In this order in `sim --help`; the three that play take their shared options as one.
# Values are converted by `coercion` (typer's own conversion only for the rest).
app.command(cls=PlainCommand)(play_options(run))
app.command(cls=PlainCommand)(play_options(report))
app.command(cls=PlainCommand)(play_options(sweep))
app.command(cls=PlainCommand)(play_options(watch))
app.command(cls=PlainCommand)(guide)
app.command("list", cls=PlainCommand)(list_scenarios)
app.command(cls=PlainCommand)(validate)
app.command(cls=PlainCommand, context_settings=RECORD_SETTINGS)(record)
app.command(cls=PlainCommand)(schema)
app.command(cls=PlainCommand)(verify)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. A BaseException of our own, so that no handler on the way
    (the CLI library's among them) turns it into another exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The process whose handlers `main` set: a process forked from it inherits them.
_handling_pid: int | None = None


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """Raise `Interrupted` in the process that set the handler; a process forked from it
    (a worker) dies of the signal as by default instead: an exception raised in a
    worker's own machinery can leave its locks held and the whole play hanging."""
    if os.getpid() != _handling_pid:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise Interrupted(signum)


def _alone() -> bool:
    """No other thread, no child process, no Dask client, no profiler or tracer (cProfile,
    coverage) that writes its findings at exit: nothing that exit must wait for."""
    import threading

    multiprocessing = sys.modules.get("multiprocessing")
    return (
        sys.getprofile() is None
        and sys.gettrace() is None
        and threading.active_count() == 1
        and (multiprocessing is None or not multiprocessing.active_children())
        and "distributed" not in sys.modules
    )


def _leave(status: int | str | None) -> NoReturn:
    """Exit with `status`, skipping the interpreter's teardown where nothing needs it.

    Once a command has printed and written everything, freeing each module of numpy,
    pandas and matplotlib one by one takes a tenth of a second, the longest step of
    some commands. Where the command left no other thread, no child process and no
    Dask client behind, output is flushed and the process ends at once; anything else
    exits the usual way, running what it registered to run at exit.
    """
    if _alone() and (status is None or isinstance(status, int)):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(status)  # the usual way says what it can
        os._exit(status or 0)
    sys.exit(status)


def main() -> None:
    """Console entry point: exit statuses as documented; no traceback unless SIM_DEBUG is set.

    An interrupt unwinds like an exception, so every staging folder on the way
    is removed before the process exits with 128 + the signal's number.
    """
    global _handling_pid
    collector.starting()  # fewer passes of the garbage collector until the play
    _handling_pid = os.getpid()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        with guarded_streams():  # the CLI library's own help and usage lines too
            app()
    except SystemExit as done:  # the command's status, or a failed stdout's (141, 74)
        _leave(exit_status(done.code))
    except (Interrupted, KeyboardInterrupt) as stop:
        err.print("interrupted")
        sys.exit(128 + stop.signum if isinstance(stop, Interrupted) else EXIT_INTERRUPTED)
    except Exception as error:  # a bug of ours, not bad input
        if os.environ.get("SIM_DEBUG"):
            raise
        message = f"internal error: {type(error).__name__}: {error} (SIM_DEBUG=1 shows where)"
        err.print(one_line(message), markup=False)
        sys.exit(EXIT_INTERNAL)
