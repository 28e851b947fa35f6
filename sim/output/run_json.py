"""`run.json`: what a run was made from and when, kept apart from its results.

The CSVs hold only what the scenario, the seed and the version determine, so
two runs give byte-identical tables that diff cleanly in a repository.
Everything that differs from run to run (clock times, the machine, library
versions) goes here instead, with a SHA-256 of each result file, so a reader
can check that the files beside it belong to this run.

The same hashes say which files of a folder are sim's own (`owned`): sim
replaces or removes only those, never a file it did not write or one changed
since. `sim sweep` keeps its record in `sweep.json`, so a sweep and a run
share a folder without either record disowning the other's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import stat
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["NAME", "RECORDS", "SWEEP", "owned", "run_info", "write"]

NAME = "run.json"
#: The record of `sim sweep`'s files.
SWEEP = "sweep.json"
#: Every record a folder may hold, one a command: each lists that command's files.
RECORDS = (NAME, SWEEP)
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


def write(folder: Path, name: str = NAME, **info: Any) -> Path:
    """Write the record `name` (run.json) into `folder` for the result files already there."""
    files = {
        str(path.relative_to(folder)): path
        for path in folder.rglob("*")
        if path.is_file() and path.name != name
    }
    path = folder / name
    record = run_info(files=files, **info)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def owned(folder: Path, names: Iterable[str]) -> set[str]:
    """Those of `names` (relative to `folder`) that sim wrote there and nobody changed since:
    a record of sim's own, or a plain file that a record beside it lists with the file's
    size and SHA-256. A missing file is in no one's way, so it is not in the answer."""
    records = {record: _record_files(folder / record) for record in RECORDS}
    listed = {name: entry for files in records.values() for name, entry in (files or {}).items()}
    return {
        name
        for name in names
        if records.get(name) is not None  # a record is sim's if it reads as one
        or (isinstance(listed.get(name), dict) and _matches(folder / name, listed[name]))
    }


def _record_files(path: Path) -> dict[str, Any] | None:
    """The `files` of a record sim wrote, or None if `path` is none (absent, or someone's own)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "sim" not in record:
        return None
    files = record.get("files")
    return files if isinstance(files, dict) else None


def _matches(path: Path, entry: dict[str, Any]) -> bool:
    """`path` is a plain file of the size and SHA-256 `entry` gives (the size first: it is free)."""
    try:
        status = path.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(status.st_mode) or status.st_size != entry.get("bytes"):
        return False
    return _sha256_cached(path, status) == entry.get("sha256")


_HASHES: dict[tuple, str | None] = {}


def _sha256_cached(path: Path, status: os.stat_result) -> str | None:
    """One hash per version of a file: `sim watch` checks the same files on every save."""
    key = (str(path), status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    if key not in _HASHES:
        _HASHES[key] = _sha256(path)
    return _HASHES[key]


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


@cache
def _platform() -> str:
    """`platform.platform()`, which on Linux reads the interpreter's binary to find the C
    library (6 ms here); the C library says its own version at once where it can."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        libc = None
    if platform.system() != "Linux" or not libc:
        return platform.platform()
    system, release, machine = platform.system(), platform.release(), platform.machine()
    return f"{system}-{release}-{machine}-with-{libc.replace(' ', '')}"


@cache  # scans site-packages
def _version(name: str) -> str | None:
    from importlib import metadata  # here: every command imports this module, few write

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
