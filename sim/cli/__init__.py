"""The `sim` command: run, report, sweep, watch, verify, list and validate
scenarios; record a program as one.

The only layer that prints; files are written by `sim.output`, which the
commands call. Heavy imports (pandas, the engine) happen inside the commands
that need them, so `sim --help` answers at once. Exit status: 0 ok, 1 a check failed, 2 bad input,
130 interrupted (Ctrl-C; 143 for SIGTERM), 70 a bug of ours.

One module a command family (`running`: run and report; `sweeping`,
`watching`, `verifying`, `recording`; `info`: list, validate, schema, guide) and the
parts they share: `options`, `loading`, `writing`, `workers`, `console`.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import typer

from sim.cli.console import EXIT_INTERNAL, EXIT_INTERRUPTED, err
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
# In this order in `sim --help`; the three that play take their shared options as one.
app.command()(play_options(run))
app.command()(play_options(report))
app.command()(play_options(sweep))
app.command()(play_options(watch))
app.command()(guide)
app.command("list")(list_scenarios)
app.command()(validate)
app.command(context_settings=RECORD_SETTINGS)(record)
app.command()(schema)
app.command()(verify)


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
