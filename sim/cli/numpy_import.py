"""numpy imported for the command: OpenBLAS on one thread, and no huge pages asked for.

Two settings numpy reads once, as it is imported, and which only cost here:

- numpy's wheels bring OpenBLAS, which starts a thread per core as numpy is
  imported. `sim` does no linear algebra, so those threads only cost: on two cores
  they take about 40 ms of CPU during the import, as much as the rest of numpy's
  import, and slow it down when the other core is busy (`OPENBLAS_NUM_THREADS`);
- numpy asks the kernel for transparent huge pages for every array of 4 MB or more.
  Where the kernel then compacts memory to find them, as it does when asked (its
  `defrag` set to `madvise`, a common default), first touching a large array
  stalls: a 100 000-player `sim run` took 4.2–4.9 s asking, 3.8 s not
  (`NUMPY_MADVISE_HUGEPAGE`).

Each variable is set for the import alone and taken back at once: the programs
`sim` starts (`sim record`'s) get the environment they were given. A value the
user set is kept.
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_numpy"]

#: What numpy is imported with, where the user has not said otherwise.
_SETTINGS = {"OPENBLAS_NUM_THREADS": "1", "NUMPY_MADVISE_HUGEPAGE": "0"}


def import_numpy() -> None:
    """Import numpy (once) as `_SETTINGS` say, unless the user chose otherwise."""
    if "numpy" in sys.modules:
        return
    ours = [name for name in _SETTINGS if name not in os.environ]
    for name in ours:
        os.environ[name] = _SETTINGS[name]
    try:
        import numpy  # noqa: F401
    finally:
        for name in ours:
            del os.environ[name]
