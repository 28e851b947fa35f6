"""What `sim list` shows of each scenario file, remembered between runs.

Listing validates every file, and validating needs numpy and pydantic: about a
tenth of a second of imports before the first file is read, for a listing that
is the same as last time unless a file (or the code that validates it) changed.
So each file's row is kept in a small cache under the user's cache folder
(`$XDG_CACHE_HOME/sim`, else `~/.cache/sim`), keyed by the file's bytes and by the
validating code itself; a row is remade only when its key is new. The cache is
only ever an answer the validation would give: a missing, unreadable or
unwritable cache is silently the slow path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Listed", "cache_file", "listing"]

#: Rows kept at most; the least recently made go first.
_KEPT = 500


@dataclass(frozen=True)
class Listed:
    """One file's row: its description, games and schedules, or why it is invalid."""

    description: str = ""
    games: int | None = None
    schedules: tuple[str, ...] = ()
    problem: str | None = None


def cache_file() -> Path:
    """Where the rows are kept (`SIM_CACHE_DIR` moves it, as tests do)."""
    base = os.environ.get("SIM_CACHE_DIR")
    if base:
        return Path(base) / "listing.json"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "sim" / "listing.json"


def listing(files: Mapping[str, Path]) -> dict[str, Listed]:
    """Each named file's row, from the cache where its key is known, else validated."""
    cache = cache_file()
    known = _read(cache)
    code = _code_key()
    rows: dict[str, Listed] = {}
    made = False
    for name, path in files.items():
        try:
            data = path.read_bytes()
        except OSError as error:
            rows[name] = Listed(problem=f"{path}: {error.strerror or error}")
            continue
        key = hashlib.sha256(code + str(path).encode() + b"\0" + data).hexdigest()
        kept = known.get(key)
        row = _from_json(kept) if kept is not None else None
        if row is None:
            row, made = _validated(path), True
            known[key] = asdict(row)
        rows[name] = row
    if made:
        _write(cache, dict(list(known.items())[-_KEPT:]))
    return rows


def _validated(path: Path) -> Listed:
    from sim.scenario.errors import ScenarioError
    from sim.scenario.loader import load_file

    try:
        scenario = load_file(path)
    except ScenarioError as error:
        return Listed(problem=str(error.problems[0]))
    labels = tuple(schedule.label for schedule in scenario.schedules)
    return Listed(scenario.description, scenario.games, labels)


def _code_key() -> bytes:
    """What the rows depend on besides the file: the validating code (this package's
    sources, by size and time: a new version or an edit makes every row again)."""
    folder = Path(__file__).resolve().parent
    parts = []
    for source in sorted(folder.glob("*.py")):
        stat = source.stat()
        parts.append(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts).encode()


def _from_json(kept: object) -> Listed | None:
    try:
        row = Listed(**kept)  # type: ignore[arg-type]
    except TypeError:
        return None
    ok = isinstance(row.description, str) and isinstance(row.schedules, list | tuple)
    return Listed(row.description, row.games, tuple(row.schedules), row.problem) if ok else None


def _read(cache: Path) -> dict:
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _write(cache: Path, known: dict) -> None:
    """Replace the cache in one rename; a folder that cannot be written is left alone."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=cache.parent, prefix=".listing-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(known, file)
        os.replace(name, cache)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
