"""Run `python prog.py [args]` as given, recording, in the user's own interpreter.

`sim record -- python myapp.py` must record the program as the user runs it:
with their interpreter, their virtual environment, their interpreter options.
So the command is kept and only `-m sim.record --raw FILE` is slipped in
after the interpreter's own options; the recorder needs nothing but the
standard library there, and `PYTHONPATH` lets that interpreter find it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

__all__ = ["NotPython", "program_stem", "recording_command", "run_recording"]

_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?(\.exe)?$")
#: Interpreter options that take a value (`-X dev`, `-W error`).
_WITH_VALUE = {"-X", "-W", "--check-hash-based-pycs"}


class NotPython(ValueError):
    """The command does not start a Python program the recorder can slip into."""


def recording_command(
    command: list[str], raw: Path, threshold: float, tasks: tuple[str, ...] = ()
) -> list[str]:
    """`python [opts] prog.py args` → `python [opts] -m sim.record --raw RAW prog.py args`."""
    options, program = _split(command)
    ours = ["-m", "sim.record", "--raw", str(raw), "--threshold", f"{threshold!r}"]
    for task in tasks:
        ours += ["--task", task]
    return [command[0], *options, *ours, *program]


def program_stem(command: list[str]) -> str:
    """The name of what `command` runs: `crawler` for `python examples/crawler.py`,
    `server` for `python -m mypackage.server` (a recorded scenario's default name)."""
    _, program = _split(command)
    return program[1].rsplit(".", 1)[-1] if program[0] == "-m" else Path(program[0]).stem


def _split(command: list[str]) -> tuple[list[str], list[str]]:
    """The interpreter's own options, and the program with its arguments."""
    if not command or not _PYTHON.match(Path(command[0]).name):
        shown = " ".join(command) or "nothing"
        raise NotPython(
            f"expected a Python program, like `python myapp.py [args]` or "
            f"`python -m package [args]`, got: {shown}"
        )
    index = 1
    options: list[str] = []
    while index < len(command) and command[index].startswith("-") and command[index] != "-m":
        token = command[index]
        if token == "-c":
            raise NotPython("`python -c CODE` cannot be recorded: put the code in a file")
        options.append(token)
        if token in _WITH_VALUE and index + 1 < len(command):
            options.append(command[index + 1])
            index += 1
        index += 1
    program = command[index:]
    if not program or program == ["-m"]:
        raise NotPython("expected a script or `-m module` after the interpreter")
    return options, program


def run_recording(command: list[str]) -> int:
    """Run it with this `sim` importable; the program's own output passes straight through.

    Ctrl-C is the program's to handle (a server runs until stopped; its recording up to
    then is kept), so this process ignores it while the program runs.
    """
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(command, env=env, preexec_fn=_default_sigint)
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def _default_sigint() -> None:
    """In the child: Ctrl-C back to Python's default (an ignored signal would be inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
