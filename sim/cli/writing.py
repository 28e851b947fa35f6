"""Where results go and how they get there: the folder is refused before playing,
a file system's refusal is bad input naming the folder, and a single file is
replaced in one step.

`--out` is checked before anything is played: an empty name (which a path
library reads as `.`), a name or path longer than the file system takes, a
link that leads nowhere or round in a loop, the root of the file system, and
files there of the names the run writes that sim did not write (unless
`--force`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from sim.cli.console import bad_input

__all__ = ["NAME_MAX", "PATH_MAX", "target", "written"]

#: Longest file name and path Linux takes, in bytes (NAME_MAX and PATH_MAX).
NAME_MAX = 255
PATH_MAX = 4096
#: Room the files inside a results folder take below it: `.sim-publishing-<pid>-<random>/`
#: and the longest file name a run writes.
INSIDE = 64
#: Longest path a message names whole.
SHOWN_PATH = 200


def target(name: str, out_dir: str | None, writes: Iterable[str] = (), force: bool = False) -> Path:
    """`--out` exactly as given, else `results/<slug>`; exit 2 if it cannot be written, or
    if it holds files of the names in `writes` that sim did not write (unless `force`)."""
    from sim.output.destination import OutputError, check_out, results_dir
    from sim.output.staging import refuse_foreign

    option = "" if out_dir is None else "--out: "
    try:
        folder = results_dir(name) if out_dir is None else _given(out_dir)
        problem = _unreachable(folder)
        if problem:
            raise OutputError(problem)
        check_out(folder)
        refuse_foreign(folder, writes, force=force)
    except OutputError as error:
        bad_input(f"{option}{error}")
    except OSError as error:
        where = error.filename or out_dir or name
        bad_input(f"{option}{_shown(where)}: {error.strerror or error}")
    return folder


def written(write: Callable[[], list[Path]], target: Path) -> list[Path]:
    """`write()` (results → their paths), or exit 2 naming the folder if the file system
    refuses, or if files sim did not write appeared there while the run played."""
    from sim.output.destination import OutputError

    try:
        return write()
    except OutputError as error:
        bad_input(str(error))
    except OSError as error:
        bad_input(f"cannot write results to {_shown(target)}: {error.strerror or error}")


def _given(text: str) -> Path:
    """`--out` as a path, if the file system can take it: not empty, no name too long."""
    from sim.output.destination import OutputError

    if not text:  # Path("") is ".": the current folder, which nobody asked for
        raise OutputError("expected a folder, got an empty name")
    if "\0" in text:
        raise OutputError(f"{_shown(text)}: a path has no NUL character")
    longest = max((len(os.fsencode(part)) for part in Path(text).parts), default=0)
    if longest > NAME_MAX:
        raise OutputError(
            f"{_shown(text)}: a name of {longest} bytes; a file system takes at most {NAME_MAX}"
        )
    size = len(os.fsencode(text))
    if size > PATH_MAX - INSIDE:
        raise OutputError(
            f"{_shown(text)}: a path of {size} bytes; at most {PATH_MAX - INSIDE} leaves room "
            f"for the files inside it under the file system's {PATH_MAX}"
        )
    return Path(text)


def _unreachable(folder: Path) -> str | None:
    """Why `folder` cannot be made or written, found before playing: a link on the way that
    leads nowhere or loops, a file where a folder must be, the file system's root."""
    for part in (folder, *folder.parents):
        try:
            status = os.stat(part)  # through links
        except FileNotFoundError:
            if part.is_symlink():
                return (
                    f"{_shown(part)} is a link to {_shown(os.readlink(part))}, which does not "
                    "exist: create that folder, or choose another"
                )
            continue  # made when the results are written
        except OSError as error:
            if error.errno == errno.ELOOP:
                link = next(p for p in (*reversed(part.parents), part) if _loops(p))
                return f"{_shown(link)} is a link that leads round in a loop: choose a folder"
            return f"{_shown(part)}: {error.strerror}"
        if not stat.S_ISDIR(status.st_mode):
            return f"{_shown(part)} exists and is not a folder"
        if not os.access(part, os.W_OK | os.X_OK):
            return f"{_shown(part)} is a folder this user may not write in"
        break
    resolved = folder.resolve()
    if resolved == Path(resolved.anchor):
        return f"{_shown(folder)} is the root of the file system: choose a folder inside it"
    return None


def _loops(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _shown(path: str | os.PathLike[str]) -> str:
    """A path as a message names it: on one line, cut if absurdly long."""
    from sim.scenario.errors import one_line

    text = one_line(str(path))
    return text if len(text) <= SHOWN_PATH else f"{text[:SHOWN_PATH]}…({len(text)} characters)"
