"""Where scenarios live: a path as given, or a name under a `scenarios/` folder.

Names are looked up in `./scenarios/` first (the user's own), then in the
folder shipped beside the package, so `sim run polgar` works from anywhere
in a checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.scenario.errors import Problem, ScenarioError, named

__all__ = ["available", "find", "scenario_dirs"]

_SUFFIXES = (".yaml", ".yml")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def scenario_dirs() -> list[Path]:
    """Folders searched for scenario names, most local first."""
    candidates = [Path.cwd() / "scenarios", Path(__file__).resolve().parents[2] / "scenarios"]
    found: list[Path] = []
    for folder in candidates:
        if folder.is_dir() and all(folder.resolve() != seen.resolve() for seen in found):
            found.append(folder)
    return found


def available() -> dict[str, Path]:
    """Every scenario name and its file; a local file shadows a shipped one."""
    names: dict[str, Path] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.iterdir()):
            if path.suffix in _SUFFIXES and path.is_file():
                names.setdefault(path.stem, path)
    return dict(sorted(names.items()))


def find(scenario: str) -> Path:
    """The file meant by `scenario`: an existing path, else a name under scenarios/."""
    path = Path(scenario)
    if path.is_file():
        return path
    if _NAME.match(scenario) and path.suffix not in _SUFFIXES:
        for folder in scenario_dirs():
            for suffix in _SUFFIXES:
                candidate = folder / f"{scenario}{suffix}"
                if candidate.is_file():
                    return candidate
    names = ", ".join(available()) or "none found"
    message = f"no scenario file or name {named(scenario)}; available: {names}"
    raise ScenarioError([Problem(scenario, None, "", message)])
