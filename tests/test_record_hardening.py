"""`sim record` stopped, misused and surprised: the user's program and files come first.

- A signal to `sim` alone stops the program it records (Ctrl-C, then SIGTERM, then
  SIGKILL), writes what ran and exits 130 or 143; a Ctrl-C typed at the terminal,
  which reaches the program too, is not sent to it a second time.
- An existing scenario file is never replaced without `--force`.
- The program's own exit status is passed on; no such program is bad input.
- A program that forks before `asyncio.run` is recorded in the process started.

Every test that starts processes has a hard timeout, and kills what it started if
the timeout strikes, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.record.child import recording_command
from sim.record.program import load_raw
from tests.conftest import ROOT

#: Seconds any one process of these tests may take before the test fails.
TIMEOUT = 60

ASYNC_LOOP = """
    import asyncio, os

    async def tick():
        while True:
            await asyncio.sleep(0.005)

    async def main():
        print("ready", os.getpid(), flush=True)
        await asyncio.gather(tick(), tick())

    asyncio.run(main())
"""

PLAIN_LOOP = """
    import os, time

    def work():
        time.sleep(0.005)

    print("ready", os.getpid(), flush=True)
    while True:
        work()
"""


def program(folder: Path, body: str, name: str = "prog.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def sim_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "sim", *map(str, args)]


def ready_pid(process: subprocess.Popen) -> int:
    """The pid the program prints once it runs (its output passes through `sim`)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    assert ready, "the program never said it was ready"
    line = process.stdout.readline()
    assert line.startswith("ready"), line
    return int(line.split()[1])


def gone(pid: int) -> bool:
    """The process has ended: it no longer exists, or is a zombie waiting to be reaped
    (an orphan's reaper may take its time)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def stop_if_running(pid: int) -> None:
    if not gone(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("body", "signum", "status"),
    [
        (ASYNC_LOOP, signal.SIGTERM, 143),
        pytest.param(PLAIN_LOOP, signal.SIGINT, 130, marks=pytest.mark.wallclock),
    ],
    ids=["asyncio-SIGTERM", "plain-SIGINT"],
)
def test_a_signal_to_sim_alone_stops_the_program_and_writes_what_ran(
    tmp_path, body, signum, status
):
    """Before: SIGTERM left the program running, adopted by init, and wrote nothing;
    SIGINT was ignored. Now the program is stopped, reaped, and what it ran is written."""
    out = tmp_path / "out.yaml"
    command = sim_command("record", "-o", out, "--", sys.executable, program(tmp_path, body))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid, _, stderr = signalled(process, signum, after=0.2)  # a few steps recorded
    assert process.returncode == status, stderr
    assert gone(pid), "the recorded program outlived sim"
    assert f"interrupted ({signal.Signals(signum).name}): the program was stopped" in stderr
    assert "Traceback" not in stderr
    assert sim.from_yaml(out.read_text()).players


def signalled(process: subprocess.Popen, signum: int, after: float = 0.0) -> tuple:
    """Once the program `process` records is ready (and `after` seconds more), send
    `signum` to `process` alone; the program's pid, and what `process` printed. Nothing
    is left running, whatever happens."""
    pid = -1
    try:
        pid = ready_pid(process)
        time.sleep(after)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
        if pid > 0:
            stop_if_running(pid)
    return pid, stdout, stderr


def runner_code(tmp_path: Path, body: str, grace: float | None = None) -> str:
    """Python that records `body` as a program through `run_recording` (with `grace`, if
    given) and prints how it ended; the raw recording goes to `tmp_path / "raw.json"`."""
    raw = tmp_path / "raw.json"
    child = recording_command([sys.executable, str(program(tmp_path, body))], raw, 0.05)
    graced = "" if grace is None else f", grace={grace!r}"
    return (
        "from pathlib import Path; from sim.record.child import run_recording\n"
        f"ended = run_recording({child!r}, Path({str(raw)!r}){graced})\n"
        "print('ended', ended.status, ended.stopped, flush=True)\n"
    )


def recording_child(tmp_path: Path, body: str, grace: float) -> subprocess.Popen:
    """`run_recording` with a short grace, in a process of its own that the test signals."""
    code = runner_code(tmp_path, body, grace=grace)
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


STUBBORN = """
    import os, signal, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    {more}

    def work():
        time.sleep(0.005)

    print("ready", os.getpid(), flush=True)
    while True:
        work()
"""


@pytest.mark.parametrize(
    ("more", "status", "written"),
    [
        ("", 143, True),  # SIGTERM after the grace: unwinds as SystemExit(143), kept
        ("signal.signal(signal.SIGTERM, signal.SIG_IGN)", 137, False),  # SIGKILL after two
    ],
    ids=["ignores-SIGINT", "ignores-both"],
)
def test_a_program_that_ignores_ctrl_c_is_terminated_then_killed(tmp_path, more, status, written):
    process = recording_child(tmp_path, STUBBORN.format(more=more), grace=0.3)
    pid, stdout, _ = signalled(process, signal.SIGTERM)
    assert stdout.split() == ["ended", str(status), str(int(signal.SIGTERM))]
    assert gone(pid)
    assert (tmp_path / "raw.json").exists() is written


CLEAN_UP = """
    import os, signal, time
    count = 0

    def on_int(signum, frame):
        global count
        count += 1
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_int)

    def work():
        time.sleep(0.005)

    print("ready", os.getpid(), flush=True)
    try:
        while True:
            work()
    except KeyboardInterrupt:
        time.sleep(0.5)  # a clean-up that a second SIGINT would cut short
        print("cleaned up after", count, "SIGINT", flush=True)
        raise
"""


def test_sigint_to_sim_alone_is_passed_on_once(tmp_path):
    """Before, `sim record` ignored SIGINT sent to it alone: the program ran on."""
    process = recording_child(tmp_path, CLEAN_UP, grace=5.0)
    pid, stdout, _ = signalled(process, signal.SIGINT, after=0.1)
    assert stdout.splitlines() == ["cleaned up after 1 SIGINT", "ended 130 2"]
    assert (tmp_path / "raw.json").exists() and gone(pid)


def test_ctrl_c_at_the_terminal_reaches_the_program_once(tmp_path):
    """The terminal sends Ctrl-C to the whole foreground process group: the program has
    it already, so `sim` does not send another, which would cut its clean-up short."""
    code = runner_code(tmp_path, CLEAN_UP)
    pid, terminal = pty.fork()
    if pid == 0:  # the child: on a terminal of its own, in its foreground process group
        try:
            os.chdir(ROOT)
            os.execv(sys.executable, [sys.executable, "-c", code])
        finally:
            os._exit(127)
    output = b""
    deadline = time.monotonic() + TIMEOUT
    try:
        typed = False
        while time.monotonic() < deadline:  # until the terminal closes
            ready, _, _ = select.select([terminal], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the terminal closed: it has exited
                    break
                if not chunk:
                    break
                output += chunk
            if not typed and b"ready" in output:
                time.sleep(0.1)
                os.write(terminal, b"\x03")  # Ctrl-C, typed
                typed = True
        waited, status = os.waitpid(pid, os.WNOHANG)
        while waited == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
            waited, status = os.waitpid(pid, os.WNOHANG)
        if waited == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"it did not exit: {output.decode(errors='replace')}")
    finally:
        os.close(terminal)
    text = output.decode(errors="replace")
    assert "cleaned up after 1 SIGINT" in text
    assert "ended 130 2" in text and os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "raw.json").exists()


# --- files ----------------------------------------------------------------------------

OWN = "# My own scenario, with comments.\nname: polgar  # keep me\nplayers: []\n"


@pytest.mark.parametrize("how", [[], ["-o", "scenarios/polgar.yaml"]], ids=["default", "-o"])
def test_an_existing_scenario_file_is_never_replaced_without_force(tmp_path, monkeypatch, how):
    """`sim record -- python polgar.py` once replaced the shipped scenarios/polgar.yaml."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    mine = tmp_path / "scenarios" / "polgar.yaml"
    mine.write_bytes(OWN.encode())
    script = program(tmp_path, "open('ran', 'w').close()\n", "polgar.py")
    result = CliRunner().invoke(app, ["record", *how, "--", sys.executable, str(script)])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message == (
        "sim record: scenarios/polgar.yaml exists; write elsewhere with -o PATH, or replace "
        "it with --force; nothing was run"
    )
    assert mine.read_bytes() == OWN.encode()
    assert not (tmp_path / "ran").exists()


def test_force_replaces_it(tmp_path):
    out = tmp_path / "polgar.yaml"
    out.write_text(OWN)
    body = "import asyncio\nasync def main():\n    await asyncio.sleep(0.01)\nasyncio.run(main())\n"
    script = program(tmp_path, body, "polgar.py")
    command = ["record", "--force", "-o", str(out), "--", sys.executable, str(script)]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Recorded by `sim record`")


def test_python_m_sim_record_refuses_an_existing_file_too(tmp_path):
    out = tmp_path / "x.yaml"
    out.write_text(OWN)
    script = program(tmp_path, "open('ran', 'w').close()\n")
    done = subprocess.run(
        [sys.executable, "-m", "sim.record", "-o", str(out), str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"sim record: {out} exists; write elsewhere with -o PATH, or replace it with "
        "--force; nothing was run"
    ]
    assert out.read_text() == OWN and not (tmp_path / "ran").exists()


# --- the program's status, a program that is not there ----------------------------------


def test_the_program_s_own_exit_status_is_passed_on(tmp_path):
    """It exits 3 after some work: written as far as it ran, marked partial, status 3."""
    script = program(
        tmp_path,
        """
        import sys, time

        def fetch():
            time.sleep(0.002)

        for _ in range(3):
            fetch()
        sys.exit(3)
        """,
    )
    out = tmp_path / "x.yaml"
    result = CliRunner().invoke(app, ["record", "-o", str(out), "--", sys.executable, str(script)])
    assert result.exit_code == 3
    assert "exited with status 3" in result.stderr
    assert out.read_text().startswith("# Partial: the program exited with status 3")


@pytest.mark.parametrize(
    ("program_args", "message"),
    [
        (["missing.py"], "sim record: no such file: missing.py; expected a Python script to run"),
        (["-m", "no_such_module_here"], "sim record: No module named no_such_module_here"),
    ],
)
def test_no_such_program_is_bad_input_and_writes_nothing(
    tmp_path, monkeypatch, capfd, program_args, message
):
    """Before: a missing script was `recorded` (the recorder's own calls) and written,
    marked partial, exit 1."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "x.yaml"
    command = ["record", "-o", str(out), "--", sys.executable, *program_args]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    said = (result.stderr + capfd.readouterr().err).strip().splitlines()  # the child's too
    assert len(said) == 1 and said[0].startswith(message), said
    assert not out.exists()


def test_python_m_sim_record_with_no_such_script_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "sim.record", "-o", str(tmp_path / "x.yaml"), "missing.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["sim record: no such file: missing.py; nothing was run"]
    assert not (tmp_path / "x.yaml").exists()


def test_sigterm_to_the_program_unwinds_it_and_its_loop_is_kept(tmp_path):
    """SIGTERM's default ends the process on the spot, with nothing written; under the
    recorder it unwinds as SystemExit(143), asyncio closes the loop, the recording is kept."""
    script = program(
        tmp_path,
        """
        import asyncio, os, signal

        async def main():
            for _ in range(5):
                await asyncio.sleep(0.005)
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(10)

        asyncio.run(main())
        """,
    )
    raw = tmp_path / "raw.json"
    done = subprocess.run(
        [sys.executable, "-m", "sim.record", "--raw", str(raw), str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 143, done.stderr
    (main,) = load_raw(raw).tasks
    assert main.function == "main" and len(main.steps) == 6  # the last one ended by SIGTERM


# --- a program that forks ----------------------------------------------------------------

FORKS = """
    import asyncio, os, sys

    async def copy_work():
        await asyncio.sleep(0.3)  # ends after the parent: its writing would come last

    async def parent_work():
        await asyncio.sleep(0.01)

    pid = os.fork()
    if pid == 0:
        asyncio.run(copy_work())
    else:
        with open(sys.argv[1], "w") as file:
            file.write(str(pid))
        asyncio.run(parent_work())
"""


def test_a_program_that_forks_before_asyncio_run_is_recorded_in_its_parent(tmp_path):
    """Both processes run a loop; before, each wrote its own recording to the same file
    and the last to end won: here the copy's. Now the copy writes nothing."""
    raw = tmp_path / "raw.json"
    copy_pid = tmp_path / "copy.pid"
    script = program(tmp_path, FORKS)
    done = subprocess.run(
        [sys.executable, "-m", "sim.record", "--raw", str(raw), str(script), str(copy_pid)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    pid = int(copy_pid.read_text())
    deadline = time.monotonic() + TIMEOUT
    while not gone(pid) and time.monotonic() < deadline:  # not our child: poll its end
        time.sleep(0.02)
    assert gone(pid)
    recording = load_raw(raw)
    assert [task.function for task in recording.tasks] == ["parent_work"]
    assert recording.forks == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy.pid", "prog.py", "raw.json"]


@pytest.mark.wallclock  # a whole `sim record`, its check run included: about 2 s
def test_the_fork_is_said(tmp_path, monkeypatch):
    """`sim record` says the copy was not recorded."""
    monkeypatch.chdir(tmp_path)
    script = program(tmp_path, FORKS)
    out = tmp_path / "forks.yaml"
    command = ["record", "-o", str(out), "--", sys.executable, str(script), "copy.pid"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert (
        "note: the program forked 1 time(s) outside its event loop: only the process "
        "that was started is recorded" in result.stdout
    )
    pid = int((tmp_path / "copy.pid").read_text())
    deadline = time.monotonic() + TIMEOUT
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_the_fork_count_travels_in_the_raw_recording(tmp_path):
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"program": "p", "loop_s": 0, "wall_s": 0, "threshold": 0.05,
                               "loops": 1, "tasks": [], "forks": 2}))  # fmt: skip
    assert load_raw(raw).forks == 2
