"""numpy imported by the command with OpenBLAS on one thread and no huge pages asked
for (`sim.cli.numpy_import`), the environment left as it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = ("OPENBLAS_NUM_THREADS", "NUMPY_MADVISE_HUGEPAGE")

#: Prints both variables after the import, the threads of the process (Linux lists
#: them) and whether numpy asks for huge pages.
CODE = (
    "import os\n"
    "from sim.cli.numpy_import import import_numpy\n"
    "import_numpy()\n"
    "import numpy\n"
    "try:\n"
    "    from numpy._core.multiarray import _get_madvise_hugepage\n"
    "except ImportError:  # numpy 1\n"
    "    from numpy.core.multiarray import _get_madvise_hugepage\n"
    "print(*(os.environ.get(v) for v in "
    + repr(VARIABLES)
    + "), len(os.listdir('/proc/self/task')), _get_madvise_hugepage())\n"
)


def _after_import(**variables: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES} | variables
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="threads listed by Linux only")
def test_numpy_comes_with_one_blas_thread_no_huge_pages_and_the_variables_taken_back():
    """One thread in all (the main one), huge pages not asked for, and no variable left
    for the programs that `sim` starts to inherit."""
    assert _after_import() == ["None", "None", "1", "False"]


def test_values_the_user_set_are_kept():
    found = _after_import(OPENBLAS_NUM_THREADS="2", NUMPY_MADVISE_HUGEPAGE="1")
    assert found[:2] == ["2", "1"]
    if sys.platform == "linux":  # elsewhere numpy never asks
        assert found[3] == "True"
