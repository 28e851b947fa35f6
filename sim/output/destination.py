"""Where a run's results go: `results/<slug of the name>/`, or `--out` exactly.

A scenario's `name` is free text from a file that may come from anyone, so it
only ever becomes one plain folder name (`slug`), and the default folder must
lie inside `results/` once symlinks are followed: `../../etc`, `/abs/path`
and a planted `results/x -> /elsewhere` link all stay out. `--out` is the
user's own choice and is taken exactly as given.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

__all__ = ["RESULTS", "OutputError", "check_out", "results_dir", "slug"]

#: The folder under which `sim run` writes `<slug>/` when no `--out` is given.
RESULTS = Path("results")
#: Longest slug: well under every file system's 255-byte name limit.
MAX_SLUG = 80


class OutputError(Exception):
    """An output folder that cannot or must not be written; the message says why."""


def slug(name: str) -> str:
    """`name` as one safe folder name: ASCII letters, digits, `-`, `_`, `.`.

    Accents are dropped (`Polgár` → `Polgar`), every other run of characters
    becomes one `-`, and leading dots and dashes go, so no slug is `..`, hidden
    or an option. A name with nothing left becomes `scenario-<hash>`, distinct
    for distinct names.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text).strip(".-_")[:MAX_SLUG].rstrip(".-_")
    if cleaned:
        return cleaned
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"scenario-{digest}"


def results_dir(name: str, root: Path = RESULTS) -> Path:
    """`root/<slug>`, refused if a symlink would take it outside `root`."""
    target = root / slug(name)
    try:
        inside = not target.is_symlink() and target.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError) as error:  # a symlink loop, an unreadable folder
        raise OutputError(f"{target}: {error}") from None
    if not inside:
        raise OutputError(
            f"{target} is a link that leads outside {root}/; "
            "remove the link, or choose the folder with --out"
        )
    check_out(target)
    return target


def check_out(out: Path) -> Path:
    """`out` as given, if it can be a results folder: absent, or a folder."""
    if str(out) == "":
        raise OutputError("--out: expected a folder, got an empty path")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    return out
