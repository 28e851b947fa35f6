"""The recorder's hook through `sys.monitoring` (Python 3.12 and later) records what the
`sys.setprofile` hook records: the same games, the same kinds of step, the same waits.

The recorder runs inside the user's interpreter, so it is run here under every
Python 3.12 or later found on the machine (it needs only the standard library),
and under this suite's own Python, and the recordings are compared.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = r"""
import hashlib, json, socket, sys, threading, time
from sim.record.calls import CallRecorder, calls_to_json

def fetch(i):
    x = sum(range(20000))
    time.sleep(0.01)
    hashlib.sha256(b"x" * 1_000_000).digest()
    return x

def receive(sock):
    return sock.recv(16)          # a method descriptor's C call that waits

def main():
    for i in range(4):
        fetch(i)
    left, right = socket.socketpair()
    timer = threading.Timer(0.03, right.send, (b"late",))
    timer.start()
    receive(left)
    timer.join()

recorder = CallRecorder(("fetch", "receive"), __file__)
recorder.install()
try:
    main()
finally:
    recorder.uninstall()
data = calls_to_json(recorder.result())
print(json.dumps({"hook": data["hook"], "games": [[g[0], g[5]] for g in data["games"]]}))
"""


def _pythons() -> list[str]:
    """This Python, and every Python 3.12 or later that can be found."""
    found = [sys.executable]
    names = [shutil.which(f"python3.{minor}") for minor in range(12, 16)]
    home = os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")
    for path in [*names, *sorted(glob.glob(home))]:
        if path and path not in found and _version(path) >= (3, 12):
            found.append(path)
    return found


def _version(python: str) -> tuple[int, int]:
    try:
        done = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=20)  # fmt: skip
        major, minor = done.stdout.split()
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return (0, 0)


def _recorded(python: str, tmp_path: Path) -> dict:
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([python, str(script)], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _shape(recorded: dict) -> list[tuple[str, bool, bool]]:
    """Each game: its function, whether it has a native step, whether it has the 10 ms
    wait of its `time.sleep`. (Not every step: on a loaded machine an unknown C call
    that was preempted may add a short wait of its own.)"""
    return [
        (name, any(k == "native" and s > 0 for k, s in steps), ["wait", 0.01] in steps)
        for name, steps in recorded["games"]
    ]


PYTHONS = _pythons()


@pytest.mark.parametrize("python", PYTHONS, ids=[".".join(map(str, _version(p))) for p in PYTHONS])
def test_the_hook_records_calls_waits_and_native_steps(python, tmp_path):
    recorded = _recorded(python, tmp_path)
    newer = _version(python) >= (3, 12)
    assert recorded["hook"] == ("sys.monitoring" if newer else "sys.setprofile")
    games = _shape(recorded)
    assert [g for g in games if g[0] == "fetch"] == [("fetch", True, True)] * 4
    (received,) = [steps for name, steps in recorded["games"] if name == "receive"]
    waits = [seconds for kind, seconds in received if kind == "wait"]
    assert 0.02 <= max(waits) < 0.5  # the socket's wait, timed from its method's C call


@pytest.mark.skipif(len(PYTHONS) < 2, reason="no Python 3.12 or later on this machine")
def test_monitoring_and_setprofile_record_the_same_program_alike(tmp_path):
    shapes = {python: _shape(_recorded(python, tmp_path)) for python in PYTHONS}
    first = shapes[sys.executable]
    for python, shape in shapes.items():
        assert shape == first, python
