"""`sim record`: run a Python program, recording what its time was; write it as a scenario."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, bad_input, err, report_problems
from sim.cli.console import out as stdout
from sim.scenario.errors import ScenarioError

__all__ = ["RECORD_SETTINGS", "record"]

#: The program's own arguments pass through, options included.
RECORD_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def record(
    command: Annotated[
        list[str],
        typer.Argument(
            help="The program, after `--`: python myapp.py [args]; a script alone runs on "
            "this sim's Python."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="Scenario file to write.", show_default="scenarios/<stem>.yaml"
        ),
    ] = None,
    deterministic: Annotated[
        bool, typer.Option("--deterministic", help="Write each step's mean, not its distribution.")
    ] = False,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="A group per task with its own durations: replays the recorded run."
        ),
    ] = False,
    threshold: Annotated[
        str, typer.Option("--threshold", help="Flag steps that held the loop at least this long.")
    ] = "50ms",
    name: Annotated[
        str | None, typer.Option("--name", help="Scenario name.", show_default="the script's stem")
    ] = None,
    max_values: Annotated[
        int, typer.Option("--max-values", min=2, help="Most values kept per distribution.")
    ] = 200,
    task: Annotated[
        list[str] | None,
        typer.Option(
            "--task",
            help="A program that is not asyncio: each call of this function (name, qualname "
            "or module:qualname) is one game. Repeatable.",
            show_default="the function called most often with the most waiting inside it",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the scenario file if it exists.")
    ] = False,
) -> None:
    """Run a Python program, recording what its time was; write it as a scenario.

    An asyncio program: every task becomes a player (tasks of one coroutine function
    form a group); its life is cut into host steps (its coroutine ran), wait steps
    (suspended, not ready) and `block` steps (a blocking call inside a step). Steps
    that held the loop for `--threshold` or more are flagged.

    A synchronous or threaded program: each call of the `--task` function (or of the
    one chosen, which is said), each thread's run and each work item of a thread pool
    is a player, the main thread outside them another; Python on the CPU is host,
    blocking calls are waits, C code that releases the GIL is native. The scenario
    lists the program's own schedule first and the rewrites after it (asyncio, a
    thread pool, processes), and the table of their makespans is printed.

    The program's output passes through; what was recorded is printed after it. An
    existing scenario file is replaced only with `--force`. A program that runs until
    stopped (a server) is recorded until Ctrl-C. Ctrl-C or SIGTERM to `sim` stops the
    program (Ctrl-C, then SIGTERM, then SIGKILL, 5 s apart), writes what it ran and
    exits 130 or 143. A program that fails is written as far as it ran, marked
    partial, and its exit status is `sim record`'s.

    Examples:

        sim record -o scenarios/crawler.yaml -- python examples/crawler.py --pages 100

        sim record --task fetch_page -- python examples/sync_fetcher.py

        sim record --deterministic -- python -m mypackage.server --once

        sim record examples/pipeline.py
    """
    import tempfile

    from sim.output.destination import slug
    from sim.record.call_transcript import NothingCalled
    from sim.record.child import (
        NotPython,
        missing_script,
        program_stem,
        python_command,
        recording_command,
        run_recording,
    )
    from sim.record.program import INTERRUPTED, TERMINATED, load_raw
    from sim.record.scenario_file import (
        NothingRecorded,
        marked_partial,
        report_lines,
        scenario_text,
        write_atomically,
    )
    from sim.scenario.units import parse_duration

    try:
        seconds = parse_duration(threshold)
    except ValueError as error:
        bad_input(f"--threshold: {error}")
    command = python_command(command)
    try:
        missing = missing_script(command)
    except NotPython as error:
        bad_input(f"sim record: {error}")
    if missing is not None:
        bad_input(f"sim record: no such file: {missing}; expected a Python script to run")
    stem = program_stem(command)
    target = out if out is not None else Path("scenarios") / f"{slug(stem)}.yaml"
    if os.path.lexists(target) and not force:
        bad_input(f"sim record: {_taken(target)}; nothing was run")
    with tempfile.TemporaryDirectory(prefix="sim-record-") as folder:
        raw_path = Path(folder) / "recording.json"
        child = recording_command(command, raw_path, seconds, tuple(task or ()))
        try:
            ended = run_recording(child, raw_path)
        except OSError as error:  # no such interpreter, or not one we may run
            bad_input(f"sim record: cannot start {command[0]}: {error.strerror or error}")
        raw = load_raw(raw_path) if raw_path.exists() else None
    status, stopped = ended.status, ended.stopped
    # sim itself was signalled: 128 + the signal, once what ran is written
    leaving = 128 + stopped if stopped else status
    if raw is None:
        if status == EXIT_BAD_INPUT and not stopped:  # the recorder said why: nothing ran
            raise typer.Exit(EXIT_BAD_INPUT)
        how = "was stopped" if stopped else f"exited with status {status}"
        err.print(f"sim record: the program {how} before its recording was kept; nothing "
                  "written", markup=False)  # fmt: skip
        raise typer.Exit(leaving or EXIT_CHECK_FAILED)
    failed = not stopped and status not in (0, INTERRUPTED, TERMINATED)
    how = _how_it_stopped(status, stopped)
    if how is not None:
        err.print(f"sim record: {how}; writing what it ran until then", markup=False)
    try:
        text, transcript = scenario_text(
            raw, name or stem, deterministic=deterministic, exact=exact, max_values=max_values
        )
    except NothingCalled as error:
        bad_input(f"sim record: {error}")
    except NothingRecorded as error:
        if failed or stopped:
            how = "was stopped" if stopped else f"exited with status {status}"
            err.print(f"sim record: the program {how}; nothing written")
            raise typer.Exit(leaving) from None
        bad_input(f"sim record: {error}")
    except ScenarioError as error:  # our own output refused: a bug, said plainly
        err.print("sim record: the recorded scenario does not validate:", markup=False)
        report_problems(error)
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    if failed:
        text = marked_partial(text, raw, f"the program exited with status {status}")
    try:
        write_atomically(target, text, replace=force)
    except FileExistsError:  # made while the program ran
        bad_input(f"sim record: {_taken(target)}; it was made while the program ran")
    for line in report_lines(transcript, text):
        stdout.print(line, markup=False)
    if raw.forks and raw.calls is None:
        stdout.print(
            f"note: the program forked {raw.forks} time(s) outside its event loop: only the "
            "process that was started is recorded (a copy that ran a loop of its own is not)",
            markup=False,
        )
    if failed:
        err.print(
            f"sim record: the program exited with status {status}: {target} holds what it "
            "ran until then, marked partial"
        )
        raise typer.Exit(status)
    stdout.print(f"wrote {target}; next: sim run {target}", markup=False)
    if stopped:
        raise typer.Exit(leaving)


def _how_it_stopped(status: int, stopped: int | None) -> str | None:
    """A program that was stopped, not one that failed or ended: said how."""
    from sim.record.program import INTERRUPTED, TERMINATED

    if stopped:
        return f"interrupted ({signal.Signals(stopped).name}): the program was stopped"
    if status == INTERRUPTED:
        return "the program was interrupted"
    if status == TERMINATED:
        return "the program was terminated (SIGTERM)"
    return None


def _taken(target: Path) -> str:
    return f"{target} exists; write elsewhere with -o PATH, or replace it with --force"
