"""Import what this process will need after a play, while other processes play.

While a process pool or a Dask cluster plays a sweep's points, this process only
waits for results; what it does after them (scipy's t quantile for the confidence
intervals, matplotlib for the picture) is about a second of importing on one core,
which would otherwise run alone after the play, with the other cores idle. A
background thread imports it during the play instead. Not when the play runs in
this process: there the thread would only take turns with it for the GIL.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

__all__ = ["AFTER_PLAY", "PICTURES", "preload"]

#: What summarizing replications needs (Student's t quantile).
AFTER_PLAY = ("scipy.special",)
#: What drawing a picture needs (the figure and its PNG writer).
PICTURES = ("matplotlib.figure", "matplotlib.backends.backend_agg")


def preload(modules: Iterable[str]) -> threading.Thread:
    """Start importing `modules` in a daemon thread; the thread, already started.

    A module that fails to import is left alone: the import that needs it raises
    later, in its own place, with its own message.
    """
    names = tuple(modules)

    def load() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # reported where the module is really needed
                continue

    thread = threading.Thread(target=load, name="sim-preload", daemon=True)
    thread.start()
    return thread
