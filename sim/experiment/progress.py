"""A progress bar for long work, on a terminal only.

Shown on stderr when it is a terminal and the user did not ask for quiet;
piped or redirected output gets nothing extra. The bar counts runs (one
replication of one grid point), with their rate and the time left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["progress"]


class _Rate(ProgressColumn):
    """Runs per second, once there is a rate to show."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} runs/s", style="progress.data.speed")


@contextmanager
def progress(
    console: Console, total: int, label: str, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; draw a bar meanwhile if `console` is a terminal and not `quiet`."""
    if quiet or not console.is_terminal or total <= 1:
        yield lambda _n: None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        _Rate(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
