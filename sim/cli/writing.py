"""Where results go and how they get there: the folder is refused before playing,
a file system's refusal is bad input naming the folder, and a single file is
replaced in one step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.cli.console import bad_input

__all__ = ["target", "written"]


def target(name: str, out_dir: Path | None) -> Path:
    """`--out` exactly as given, else `results/<slug>`; exit 2 if it cannot be written."""
    from sim.output.destination import OutputError, check_out, results_dir

    try:
        return results_dir(name) if out_dir is None else check_out(out_dir)
    except OutputError as error:
        bad_input(f"--out: {error}" if out_dir is not None else str(error))


def written(write: Callable[[], list[Path]], target: Path) -> list[Path]:
    """`write()` (results → their paths), or exit 2 naming the folder if the file system refuses."""
    try:
        return write()
    except OSError as error:
        bad_input(f"cannot write results to {target}: {error.strerror or error}")
