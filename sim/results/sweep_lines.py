"""A sweep's schedules followed across its points: one column of the pivot, one line of
the picture, per schedule, also where the sweep varies one of its parameters.

A schedule's label carries its parameters (`threaded(threads=4)`), so a sweep of
`schedules.threaded.threads` gives another label at every point: a column or a line
each, one figure in it. Named without the parameters the sweep varies (`threaded`),
they are one schedule again. `sweep.csv` keeps every label as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.scenario.schedules import SCHEDULE_KINDS, label_parts

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["by_schedule"]

_INDEX = re.compile(r"\[([^\]]*)\]")


def by_schedule(table: pd.DataFrame, axes: Sequence[str]) -> pd.DataFrame:
    """`table` (one row per point and schedule) with each `schedule` named without the
    parameters `axes` vary; as it is where that would make two schedules of a point one."""
    varied = _varied(axes)
    if not varied or "schedule" not in table:
        return table
    names = [_without(str(label), varied) for label in table["schedule"]]
    renamed = table.assign(schedule=names)
    if renamed.duplicated([*axes, "schedule"]).any():
        return table
    return renamed


def _varied(axes: Sequence[str]) -> dict[str, set[str]]:
    """Per schedule kind, the parameters the swept paths set: `schedules.threaded.threads`
    and `schedules[2].threaded.threads` both set `threaded`'s `threads`."""
    varied: dict[str, set[str]] = {}
    for axis in axes:
        segments = _INDEX.sub(r".\1", axis).split(".")
        if len(segments) >= 3 and segments[0] == "schedules" and segments[-2] in SCHEDULE_KINDS:
            varied.setdefault(segments[-2], set()).add(segments[-1])
    return varied


def _without(label: str, varied: dict[str, set[str]]) -> str:
    """`threaded(threads=4, gil=false)` without `threads`: `threaded(gil=false)`."""
    parts = label_parts(label)
    if parts is None or parts[0] not in varied:
        return label
    kind, settings = parts
    kept = [s for s in settings if s.partition("=")[0].strip() not in varied[kind]]
    return f"{kind}({', '.join(kept)})" if kept else kind
