"""A progress bar for long work, on a terminal only.

Shown on stderr when it is a terminal and the user did not ask for quiet;
piped or redirected output gets nothing extra. The bar counts runs (one
replication of one grid point), with their rate and the time left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich.progress only where a bar is drawn: piped, there is none
    from rich.console import Console
    from rich.progress import Progress, Task
    from rich.text import Text

__all__ = ["progress"]


@contextmanager
def progress(
    console: Console, total: int, label: str, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; draw a bar meanwhile if `console` is a terminal and not `quiet`."""
    if quiet or not console.is_terminal or total <= 1:
        yield lambda _n: None
        return
    bar = _bar(console)
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _bar(console: Console) -> Progress:
    """Runs done of all, their rate, the time taken and the time left."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Runs per second, once there is a rate to show."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            shown = "" if speed is None else f"{speed:,.1f} runs/s"
            return Text(shown, style="progress.data.speed")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
