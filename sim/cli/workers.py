"""What plays many replications or points: an executor (this process, a pool or
Dask) and a progress bar over it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from sim.cli import collector
from sim.cli.console import bad_input, err

__all__ = ["workers"]


@contextmanager
def workers(
    jobs: int | None, dask: str | None, total: int, name: str, quiet: bool, then: Sequence[str] = ()
) -> Iterator:
    """(executor, done) for `total` items: exit 2 if the executor cannot start; the bar
    closes before the executor does. While other processes play, the modules `then`
    (needed after the play) are imported here (`sim.experiment.preload`)."""
    from sim.experiment.executors import ExecutorError, InProcess, open_executor
    from sim.experiment.preload import preload
    from sim.experiment.progress import progress

    with ExitStack() as stack:
        stack.enter_context(collector.playing())  # the workers fork under the usual thresholds
        try:
            executor = stack.enter_context(open_executor(jobs, dask, total))
        except ExecutorError as error:
            bad_input(str(error))
        if then and not isinstance(executor, InProcess):
            preload(then)  # after the pool has forked: its workers never see this thread
        yield executor, stack.enter_context(progress(err, total, name, quiet))
