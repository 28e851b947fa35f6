"""Result folders that hold a whole run or the previous one, never a mix or a part,
and never lose a file that sim did not write.

A run's files are written into a hidden staging folder inside the target,
`.sim-partial-<pid>-…/` (the same file system, so a rename is atomic). Then
they are published, with the folder locked against other publishers
(`flock`, which a reader may take too) and with Ctrl-C and SIGTERM held off:

1. A file of the same name as a new one that sim did not write, or that
   changed since (no record in the folder lists it with its hash:
   `run_json.owned`), stops the publish unless `force`; nothing else in
   the folder is ever replaced or removed.
2. The staging folder is renamed `.sim-publishing-<pid>-…/`, with a journal
   of what goes: from that instant the new run replaces the old one.
3. The old record (`run.json`) goes first, then the files of the earlier run
   that this one does not write (its own, by their hashes); then the new
   files are renamed into place, the record last.

A run that fails or is interrupted before step 2 removes its staging folder.
One killed outright (SIGKILL) leaves it behind, hidden: if it was still
staging, the next run into the folder removes it; if it was publishing, the
next run finishes that publish first. So no one ever finds the old record
beside new files: the folder holds a whole run with its record, or a run
being moved in and no record yet.

Files are not fsynced: that guards against the machine crashing, not the
process, and costs milliseconds per file on a busy disk. Results are
deterministic, so what a crash loses, a re-run restores byte for byte.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sim.output import run_json
from sim.output.destination import OutputError
from sim.scenario.errors import one_line

__all__ = [
    "LOCK_WAIT_S",
    "PREFIX",
    "PUBLISHING",
    "Foreign",
    "Staging",
    "locked",
    "refuse_foreign",
    "remove_orphans",
    "write_atomically",
]

#: Staging folders are `<out>/.sim-partial-<pid>-<random>/`.
PREFIX = ".sim-partial-"
#: A staging folder whose files are being moved into place: `<out>/.sim-publishing-<pid>-…/`.
PUBLISHING = ".sim-publishing-"
#: In a publishing folder: the records it replaces and the earlier files it removes.
JOURNAL = ".journal.json"
#: How long a publish waits for another process's lock on the folder, in seconds.
LOCK_WAIT_S = 30.0
#: Files named in a refusal; the rest are counted.
NAMED = 5


class Foreign(OutputError):
    """A publish would replace files that sim did not write, or that changed since it did."""

    def __init__(self, out: Path, names: list[str]) -> None:
        self.names = names
        shown = names[:NAMED] + ([f"{len(names) - NAMED} more"] if len(names) > NAMED else [])
        listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
        them = "it" if len(names) == 1 else "them"
        super().__init__(
            f"{one_line(str(out))} holds {listed}, which sim did not write or which changed "
            f"since it did: --force replaces {them}, or choose another folder with --out"
        )


class Staging:
    """`with Staging(out) as staged:` write into `staged.folder`; on success all move to `out`.

    `stale` names files of an earlier run that this one replaces by nothing
    (steps.parquet when steps.csv is written now): they go in the same step
    if a record in `out` says sim wrote them. `force` replaces files of the
    new files' names that sim did not write; without it they stop the publish
    (`Foreign`).
    """

    def __init__(self, out: Path, stale: Iterable[str] = (), *, force: bool = False) -> None:
        self.out = out
        self.stale = tuple(stale)
        self.force = force
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
                self.published = _publish(self.folder, self.out, self.stale, self.force)
        finally:  # gone already once publishing began; a publish cut short is finished later
            shutil.rmtree(self.folder, ignore_errors=True)


def refuse_foreign(out: Path, names: Iterable[str], *, force: bool = False) -> None:
    """Raise `Foreign` if publishing `names` into `out` would replace files sim did not
    write: called before a long run, so that it is refused before it is played. A publish
    into `out` killed midway is finished first, so its files count as sim's."""
    if not out.is_dir():
        return
    with locked(out):
        _recover(out)
        _refuse(out, list(names), force)


def remove_orphans(out: Path) -> list[Path]:
    """Clear what runs that are no longer alive left in `out`: a staging folder is removed
    (that run never began to publish), a publishing one is finished (it had)."""
    with locked(out):
        return _recover(out)


@contextmanager
def locked(out: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold `out`'s lock: exclusive while publishing; `shared` for a reader who wants one
    whole run (`flock -s DIR command` from a shell). Waits at most `LOCK_WAIT_S`; a file
    system without locks (some network ones) is used unlocked."""
    try:
        import fcntl
    except ImportError:  # no flock here: publishers are not kept apart
        yield
        return
    descriptor = os.open(out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(descriptor, mode)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputError(
                        f"{one_line(str(out))}: another process has held its lock for "
                        f"{LOCK_WAIT_S:g} s (a sim publishing there, or a reader); "
                        "try again once it is done"
                    ) from None
                time.sleep(0.01)
            except OSError:  # ENOLCK, EOPNOTSUPP, EBADF: this file system takes no locks
                break
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _recover(out: Path) -> list[Path]:
    """`remove_orphans` with the lock held."""
    handled = []
    for path in sorted(out.glob(".sim-p*")):
        for prefix in (PREFIX, PUBLISHING):
            if path.name.startswith(prefix):
                pid = path.name.removeprefix(prefix).split("-", 1)[0]
                break
        else:
            continue
        if not path.is_dir() or path.is_symlink() or not pid.isdigit() or _alive(int(pid)):
            continue
        if prefix == PREFIX:
            shutil.rmtree(path, ignore_errors=True)
        else:
            with _interrupts_held():
                _move_in(path, out)
        handled.append(path)
    return handled


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or not ours to judge: leave its folder
    return True


def _refuse(out: Path, names: list[str], force: bool) -> None:
    """Raise if `names` cannot all be published into `out`: one is a folder there, or
    (unless `force`) a file that sim did not write."""
    present = [name for name in names if os.path.lexists(out / name)]
    for name in present:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            raise OutputError(
                f"{one_line(str(path))} is a folder where a file of the run goes: "
                "move it, or choose another folder with --out"
            )
    mine = run_json.owned(out, present)
    foreign = [name for name in present if name not in mine]
    if foreign and not force:
        raise Foreign(out, foreign)


def _publish(
    folder: Path, out: Path, stale: tuple[str, ...] = (), force: bool = False
) -> list[Path]:
    """Move every staged file into `out`, the earlier run's `stale` files out, records last.

    With `out` locked, so that two publishers never interleave; interrupts are held
    from the commit (the rename to `.sim-publishing-…`) to the end, so Ctrl-C cannot
    land between two renames.
    """
    new = [path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()]
    with locked(out):
        _recover(out)
        _refuse(out, new, force)
        gone = run_json.owned(out, [name for name in stale if name not in new])
        journal = {"records": [n for n in new if n in run_json.RECORDS], "remove": sorted(gone)}
        (folder / JOURNAL).write_text(json.dumps(journal), encoding="utf-8")
        with _interrupts_held():
            moving = folder.rename(out / f"{PUBLISHING}{folder.name.removeprefix(PREFIX)}")
            return _move_in(moving, out)


def _move_in(folder: Path, out: Path) -> list[Path]:
    """Publish the committed `folder`: the old records it replaces and the earlier files its
    journal names go, then every file moves in, records last. Run again after it was cut
    short, it goes on where it stopped."""
    journal_path = folder / JOURNAL
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal = {}
    for name in _plain(journal.get("records")):
        if (folder / name).is_file():  # not moved in yet: the record it replaces goes first
            (out / name).unlink(missing_ok=True)
    for name in _plain(journal.get("remove")):
        (out / name).unlink(missing_ok=True)
    staged = sorted(
        (path for path in folder.rglob("*") if path.is_file() and path != journal_path),
        key=lambda path: (path.name in run_json.RECORDS, path.relative_to(folder).parts),
    )
    published = []
    for path in staged:
        target = out / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        published.append(target)
    shutil.rmtree(folder, ignore_errors=True)
    return published


def _plain(names: object) -> list[str]:
    """The journal's names that are plain file names of the folder itself: a journal is a
    file in the folder like any other, and must not reach outside it."""
    if not isinstance(names, list):
        return []
    return [
        name
        for name in names
        if isinstance(name, str) and name and "/" not in name and "\\" not in name
        if not name.startswith(".") and "\0" not in name
    ]


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


def _link(staging: Path, path: Path) -> None:
    """`staging` at `path` unless the name is taken (FileExistsError): a hard link, made
    or refused in one step; on a file system without links, checked and then renamed."""
    try:
        os.link(staging, path)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(staging, path)


def write_atomically(path: Path, text: str, *, replace: bool = True) -> None:
    """One file written in one step, through a temporary file in the same folder: a
    crash leaves the old file or the new one, never half, and no temporary behind.

    With `replace=False` an existing file is never replaced, not even one made a moment
    before: the file is linked into place, which fails if the name is taken
    (`FileExistsError`), where a check before the write would leave a gap."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(staging, "x", encoding="utf-8") as file:
            file.write(text)
        if replace:
            os.replace(staging, path)
        else:
            _link(staging, path)
    finally:
        staging.unlink(missing_ok=True)
