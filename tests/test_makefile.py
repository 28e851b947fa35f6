"""The Makefile compiles sim's modules after an edit, before anything runs `sim`: where
PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile them at every start."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(target: str, edited: str | None = None) -> list[str]:
    """The commands `make target` would run (nothing is run), were `edited` just saved."""
    saved = ["--what-if", edited] if edited else []
    done = subprocess.run(
        ["make", "--dry-run", *saved, target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("target", ["simulate", "test", "bench-instant"])
def test_an_edited_module_is_compiled_before_sim_runs(target):
    commands = planned(target, "sim/engine/eventloop.py")
    compiling = [i for i, line in enumerate(commands) if "-m compileall -q sim" in line]
    assert compiling, commands
    running = next(
        i
        for i, line in enumerate(commands)
        if line.startswith(".venv/bin/")
        and ("sim run" in line or "pytest" in line or "bench/instant.py" in line)
    )
    assert compiling[0] < running


def test_only_sim_s_own_sources_are_its_bytecode_s_prerequisites():
    """Saving a file outside `sim/` plans what nothing saved plans: no compiling."""
    assert planned("simulate", "README.md") == planned("simulate")
