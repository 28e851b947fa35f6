"""numpy imported with its BLAS on one thread.

numpy's wheels bring OpenBLAS, which starts a thread per core as numpy is
imported. `sim` does no linear algebra, so those threads only cost: on two cores
they take about 40 ms of CPU during the import, as much as the rest of numpy's
import, and slow it down when the other core is busy. OpenBLAS reads
`OPENBLAS_NUM_THREADS` once, when it loads, so the variable is set for the import
alone and taken back at once: the programs `sim` starts (`sim record`'s) get the
environment they were given. A value the user set is kept.
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_numpy"]

_VARIABLE = "OPENBLAS_NUM_THREADS"


def import_numpy() -> None:
    """Import numpy (once) with OpenBLAS on one thread, unless the user chose otherwise."""
    if "numpy" in sys.modules:
        return
    chosen = _VARIABLE in os.environ
    if not chosen:
        os.environ[_VARIABLE] = "1"
    try:
        import numpy  # noqa: F401
    finally:
        if not chosen:
            del os.environ[_VARIABLE]
