"""The garbage collector of the command: fewer passes, but the usual ones while it plays.

`sim` allocates a few hundred thousand objects that live to the end: modules,
classes, numpy's and pydantic's tables, the scenario's validators, matplotlib's
once the table is printed. With the default thresholds (a pass over the young
objects every 700 allocations, over all of them every 100 passes) the collector walks
them again and again and frees nearly nothing: 0.035 s before `sim run polgar`'s
table, 0.09 s in the whole command, 0.19 s in a sweep of 48 points. So the command
collects its young objects every 100 000 allocations (`starting`), except while it
plays (`playing`): there the engine makes and drops its objects under the usual
thresholds, as the API's callers have them, and what was made before is frozen out
of every later pass (`gc.freeze`: the permanent generation, which also keeps forked
workers from copying the pages the collector would touch).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["STARTING", "playing", "starting"]

#: Allocations between two passes over the young objects, outside the play.
STARTING = 100_000

_usual: tuple[int, ...] | None = None  # the thresholds while playing; None: never changed
_depth = 0  # plays under way (a sweep's workers, and the play inside them)


def starting() -> None:
    """Pass over the young objects every `STARTING` allocations (outside `playing`)."""
    global _usual
    if _usual is None:
        _usual = gc.get_threshold()
        gc.set_threshold(STARTING, *_usual[1:])


@contextmanager
def playing() -> Iterator[None]:
    """The usual thresholds for the block, what exists before it frozen; nothing to do
    where `starting` was not called (the API, the tests)."""
    global _depth
    if _usual is None:
        yield
        return
    if _depth == 0:
        gc.freeze()
        gc.set_threshold(*_usual)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.set_threshold(STARTING, *_usual[1:])
