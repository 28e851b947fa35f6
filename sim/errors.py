"""Problems with user input, each pinned to a file, a line and a field path.

The CLI prints `ScenarioError` as one line per problem and exits 2; nothing
else about bad input ever reaches the user.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "ScenarioError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: `source:line: path: message`."""

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
