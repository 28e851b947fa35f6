"""`sim watch`: play a scenario, and again every time its file is saved.

The edit–run loop of exploring what-ifs: change a count or a time in the
file, save, and the table and each schedule's makespan, against the version
before, are on screen while the editor still has focus. A save that breaks
the file shows the usual one-line error and the watch goes on; the results
folder keeps the last complete run (each run's files appear together). A watch
whose stdout is gone (a closed pipe, a full disk) ends after its run, as `sim
run` would.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sim.cli.console import checked, out, stdout_failed
from sim.cli.options import NoPlots, PlayOptions
from sim.cli.running import play_and_write

__all__ = ["changes", "watch"]

#: How long a burst of file events (an editor's write, rename and touch) is gathered
#: before playing, in milliseconds: the run starts well within the 0.3 s a save allows.
DEBOUNCE_MS = 50


def watch(options: PlayOptions, no_plots: NoPlots = False) -> None:
    """Play a scenario, then play it again on every save of its file, with each schedule's
    makespan against the version before. Ctrl-C stops (exit 130).

    Options work as in `sim run`; the scenario must be a file (a name under
    scenarios/ is found as `sim run` finds it).

    Examples:

        sim watch scenarios/polgar.yaml

        sim watch polgar --schedule cooperative --no-plots
    """
    from watchfiles import watch as saves

    from sim.scenario.catalog import find

    path = checked(lambda: find(options.scenario)).resolve()  # a file there is to watch
    before = _play(options, not no_plots, None)
    _watching(path)
    for events in saves(path.parent, debounce=DEBOUNCE_MS, step=DEBOUNCE_MS):
        if not any(Path(changed).resolve() == path for _change, changed in events):
            continue  # another file of the folder
        before = _play(options, not no_plots, before) or before
        _watching(path)


def _watching(path: Path) -> None:
    """Say so; or, when nobody can read it any more (a closed pipe, a full disk), stop:
    the last run's files are complete, and the exit status says why (141, 74)."""
    out.print(f"watching {path} (Ctrl-C stops)", markup=False)
    out.file.flush()
    if stdout_failed():
        raise typer.Exit(0)


def _play(
    options: PlayOptions, plots: bool, before: dict[str, float] | None
) -> dict[str, float] | None:
    """One run as `sim run` does it, each makespan's change printed under the table
    before the files are written; None when the file is not valid now (said already)."""

    def answered(now: dict[str, float]) -> None:
        for line in changes(before, now):
            out.print(line, markup=False)

    try:
        return play_and_write(options.again(), None, False, False, plots=plots, answered=answered)
    except typer.Exit:  # bad input: its one line is said; the next save plays again
        return None


def changes(before: dict[str, float] | None, now: dict[str, float] | None) -> list[str]:
    """Per schedule in both runs: `label: 3 655 s → 7 255 s (+98.5 %)`."""
    from sim.scenario.units import format_seconds

    if not before or not now:
        return []
    lines = []
    for label, seconds in now.items():
        if label not in before:
            continue
        was = before[label]
        change = f" ({(seconds - was) / was * 100:+.1f} %)" if was else ""
        lines.append(f"{label}: {format_seconds(was)} → {format_seconds(seconds)}{change}")
    return lines
