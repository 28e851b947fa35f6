"""`run.json`: what a run was made from and when, kept apart from its results.

The CSVs hold only what the scenario, the seed and the version determine, so
two runs give byte-identical tables that diff cleanly in a repository.
Everything that differs from run to run (clock times, the machine, library
versions) goes here instead, with a SHA-256 of each result file, so a reader
can check that the files beside it belong to this run.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["NAME", "run_info", "write"]

NAME = "run.json"
_LIBRARIES = ("numpy", "pandas", "simpy", "pydantic", "pyyaml")


def run_info(
    *,
    scenario: str,
    seed: int,
    schedules: list[str],
    files: dict[str, Path],
    source: Path | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """The record of one run; `started` is a `time.time()` taken when the command began."""
    finished = time.time()
    began = finished if started is None else started
    return {
        "sim": _version("sim"),
        "scenario": {
            "name": scenario,
            "file": None if source is None else str(source),
            "sha256": None if source is None else _sha256(source),
        },
        "seed": seed,
        "schedules": schedules,
        "started_utc": _utc(began),
        "finished_utc": _utc(finished),
        "wall_s": round(finished - began, 3),
        "python": platform.python_version(),
        "platform": _platform(),
        "libraries": {name: _version(name) for name in _LIBRARIES},
        "files": {
            name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
            for name, path in sorted(files.items())
        },
    }


def write(folder: Path, **info: Any) -> Path:
    """Write `run.json` into `folder` for the result files already there."""
    files = {
        str(path.relative_to(folder)): path
        for path in folder.rglob("*")
        if path.is_file() and path.name != NAME
    }
    path = folder / NAME
    record = run_info(files=files, **info)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


@cache  # reads the interpreter's binary to find the C library: slow, and never changes
def _platform() -> str:
    return platform.platform()


@cache  # scans site-packages
def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
