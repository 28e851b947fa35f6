"""Result folders that hold a whole run or the previous one, never a mix or a part.

A run's files are written into a hidden staging folder inside the target (the
same file system, so a rename is atomic), then renamed into place with Ctrl-C
held off for those few microseconds, `run.json` last. A run that fails or is
interrupted removes its staging folder; one killed outright (SIGKILL) leaves
it behind, hidden, and the next run into the same folder removes it. The
files already in place are untouched until the new ones are complete.

Files are not fsynced: that guards against the machine crashing, not the
process, and costs milliseconds per file on a busy disk. Results are
deterministic, so what a crash loses, a re-run restores byte for byte.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sim.output.run_json import NAME as RUN_INFO

__all__ = ["PREFIX", "Staging", "remove_orphans", "write_atomically"]

#: Staging folders are `<out>/.sim-partial-<pid>-<random>/`.
PREFIX = ".sim-partial-"
#: Published after every other file: its presence says the set is complete.
LAST = RUN_INFO


class Staging:
    """`with Staging(out) as staged:` write into `staged.folder`; on success all move to `out`.

    `stale` names files of an earlier run that this one replaces by nothing
    (steps.parquet when steps.csv is written now): they go in the same step.
    """

    def __init__(self, out: Path, stale: Iterable[str] = ()) -> None:
        self.out = out
        self.stale = tuple(stale)
        self.folder = out / PREFIX  # set on entry
        self.published: list[Path] = []

    def __enter__(self) -> Staging:
        self.out.mkdir(parents=True, exist_ok=True)
        remove_orphans(self.out)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=self.out))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.published = _publish(self.folder, self.out, self.stale)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def remove_orphans(out: Path) -> list[Path]:
    """Remove staging folders in `out` left by runs that are no longer alive."""
    removed = []
    for path in out.glob(f"{PREFIX}*"):
        pid = path.name.removeprefix(PREFIX).split("-", 1)[0]
        if path.is_dir() and not path.is_symlink() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or not ours to judge: leave its folder
    return True


def _publish(folder: Path, out: Path, stale: tuple[str, ...] = ()) -> list[Path]:
    """Rename every staged file into `out`, remove `stale` ones, `run.json` last.

    Interrupts are held meanwhile, so Ctrl-C cannot land between two renames.
    """
    staged = sorted(
        (path for path in folder.rglob("*") if path.is_file()),
        key=lambda path: (path.name == LAST, path.relative_to(folder).parts),
    )
    published = []
    with _interrupts_held():
        for name in stale:
            (out / name).unlink(missing_ok=True)
        for path in staged:
            target = out / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            published.append(target)
    return published


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Defer Ctrl-C and SIGTERM to the end of the block, then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in held}
    for signum in held:
        signal.signal(signum, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


def write_atomically(path: Path, text: str) -> None:
    """One file replaced in one step, through a temporary file in the same folder: a
    crash leaves the old file or the new one, never half, and no temporary behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(staging, "x", encoding="utf-8") as file:
            file.write(text)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
