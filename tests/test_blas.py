"""numpy imported by the command with OpenBLAS on one thread (`sim.cli.blas`), the
environment left as it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Prints the variable after the import, and the threads of the process (Linux lists them).
CODE = (
    "import os\n"
    "from sim.cli.blas import import_numpy\n"
    "import_numpy()\n"
    "import numpy\n"
    "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n"
)


def _after_import(**variables: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"} | variables
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="threads listed by Linux only")
def test_numpy_comes_with_one_blas_thread_and_the_variable_is_taken_back():
    """One thread in all (the main one), and no variable left for the programs that
    `sim` starts to inherit."""
    assert _after_import() == ["None", "1"]


def test_a_value_the_user_set_is_kept():
    assert _after_import(OPENBLAS_NUM_THREADS="2")[0] == "2"
