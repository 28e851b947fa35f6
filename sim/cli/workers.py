"""What plays many replications or points: an executor (this process, a pool or
Dask) and a progress bar over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sim.cli.console import bad_input, err

__all__ = ["workers"]


@contextmanager
def workers(jobs: int | None, dask: str | None, total: int, name: str, quiet: bool) -> Iterator:
    """(runner, done) for `total` items: exit 2 if the executor cannot start; the bar
    closes before the executor does."""
    from sim.execute import ExecutorError, executor
    from sim.progress import progress

    with ExitStack() as stack:
        try:
            runner = stack.enter_context(executor(jobs, dask, total))
        except ExecutorError as error:
            bad_input(str(error))
        yield runner, stack.enter_context(progress(err, total, name, quiet))
