"""Run `python prog.py [args]` as given, recording, in the user's own interpreter.

`sim record -- python myapp.py` must record the program as the user runs it:
with their interpreter, their virtual environment, their interpreter options.
So the command is kept and only `-m sim.record --raw FILE` is slipped in
after the interpreter's own options; the recorder needs nothing but the
standard library there, and `PYTHONPATH` lets that interpreter find it.

The program is stopped when `sim` is: a signal to `sim` alone (`kill PID`)
is passed on as Ctrl-C, then, if the program is still running after
`GRACE_S`, as SIGTERM, and after as long again as SIGKILL; a further signal
to `sim` moves on at once. Once the program has ended and the recorder in
the child only writes what it ran (it says so with `ended_marker`), nothing
more is sent. A Ctrl-C typed at the terminal reached the program
as well (the terminal sends it to the whole foreground process group), so
that one is not sent twice: a second SIGINT would cut short the program's
own clean-up (asyncio takes it for "stop now"). While the program runs, the
two signals are blocked in `sim` and taken with `sigtimedwait`, whose
`si_code` tells the terminal's from another process's.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from sim.record.program import ended_marker

__all__ = [
    "GRACE_S",
    "Ended",
    "NotPython",
    "missing_script",
    "program_stem",
    "python_command",
    "recording_command",
    "run_recording",
]

#: Seconds a program is given to end after Ctrl-C, and again after SIGTERM, before the next.
GRACE_S = 5.0
#: How a program is asked to stop, one step after another.
_LADDER = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
#: The signals that stop `sim`; SIGCHLD wakes it when the program ends.
_STOPPING = (signal.SIGINT, signal.SIGTERM)
_WATCHED = {*_STOPPING, signal.SIGCHLD}
#: `si_code` of a signal the kernel sent: the terminal's Ctrl-C (Linux's SI_KERNEL).
_SI_KERNEL = 0x80

_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?(\.exe)?$")
#: Interpreter options that take a value (`-X dev`, `-W error`).
_WITH_VALUE = {"-X", "-W", "--check-hash-based-pycs"}


class NotPython(ValueError):
    """The command does not start a Python program the recorder can slip into."""


def python_command(command: list[str]) -> list[str]:
    """`command` with the interpreter in front where it starts with a script
    (`sim record app.py` is `sim record -- python app.py`, this `sim`'s own Python)."""
    if command and command[0].endswith(".py") and not _PYTHON.match(Path(command[0]).name):
        return [sys.executable, *command]
    return command


def recording_command(
    command: list[str], raw: Path, threshold: float, tasks: tuple[str, ...] = ()
) -> list[str]:
    """`python [opts] prog.py args` → `python [opts] -m sim.record --raw RAW prog.py args`."""
    options, program = _split(command)
    ours = ["-m", "sim.record", "--raw", str(raw), "--threshold", f"{threshold!r}"]
    for task in tasks:
        ours += ["--task", task]
    return [command[0], *options, *ours, *program]


def missing_script(command: list[str]) -> str | None:
    """The script the command runs, if there is no such file (None for `-m module`: the
    program's own interpreter looks it up)."""
    _, program = _split(command)
    if program[0] == "-m" or os.path.exists(program[0]):
        return None
    return program[0]


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


@dataclass(frozen=True)
class Ended:
    """How the recorded program ended."""

    status: int  # its exit status; 128 + N when signal N killed it
    stopped: int | None = None  # the signal that asked `sim` to stop, if one came


def run_recording(command: list[str], raw: Path, grace: float = GRACE_S) -> Ended:
    """Run it with this `sim` importable; the program's own output passes straight through.

    Ctrl-C and SIGTERM to `sim` stop the program (see the module's docstring; `raw`:
    the recording's file, as given to `recording_command`; `grace`: seconds between
    two steps), and are returned, not raised: what it ran until then is still to be
    written. Elsewhere than in the main thread, signals are left to the main thread.
    """
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    if threading.current_thread() is not threading.main_thread():  # signals are not ours
        return Ended(_status(subprocess.run(command, env=env, check=False).returncode))
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    try:
        child = subprocess.Popen(command, env=env, preexec_fn=_as_started)
        ended = _wait(child, grace, ended_marker(raw))
        late = _take_pending()  # came as the program ended: nothing left to stop
        return ended if ended.stopped or late is None else replace(ended, stopped=late)
    finally:
        _take_pending()
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _wait(child: subprocess.Popen, grace: float, writing: Path) -> Ended:
    """Wait for the program, stopping it step by step once `sim` is asked to stop, until
    the recorder says it is `writing` what the program ran."""
    stopped: int | None = None
    sent = 0  # steps of the ladder taken
    due = float("inf")  # when the next step is taken unless the program has ended
    while child.poll() is None:
        timeout = min(max(due - time.monotonic(), 0.0), 1.0)  # SIGCHLD wakes it sooner
        info = signal.sigtimedwait(_WATCHED, timeout)
        if child.poll() is not None:
            break
        if info is not None and info.si_signo == signal.SIGCHLD:
            continue
        if info is not None:
            stopped = stopped or info.si_signo
            if info.si_code == _SI_KERNEL and sent == 0 and info.si_signo == signal.SIGINT:
                sent, due = 1, time.monotonic() + grace  # the terminal's: the program has it
                continue
        elif time.monotonic() < due:
            continue
        if writing.exists():  # the program has ended; what it ran is being written
            due = float("inf")
        elif sent < len(_LADDER):
            child.send_signal(_LADDER[sent])
            sent += 1
            due = time.monotonic() + grace if sent < len(_LADDER) else float("inf")
    return Ended(_status(child.returncode), stopped)


def _status(returncode: int) -> int:
    """An exit status as a shell shows it: 128 + N for a process killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def _take_pending() -> int | None:
    """Take the watched signals still pending, so that none reaches `sim`'s handlers
    once they are unblocked; the first that asked `sim` to stop, if any."""
    first = None
    while (info := signal.sigtimedwait(_WATCHED, 0)) is not None:
        if first is None and info.si_signo in _STOPPING:
            first = info.si_signo
    return first


def _as_started() -> None:
    """In the child, before the program starts: the signals `sim` blocks unblocked (a
    blocked signal stays blocked across exec), Ctrl-C back to Python's default."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
