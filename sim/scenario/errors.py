"""Problems with user input, each pinned to a file, a line and a field path.

The CLI prints `ScenarioError` as one line per problem and exits 2; nothing
else about bad input ever reaches the user. What a user wrote is echoed back
through `shown`, so a hostile value cannot break the one-line format or flood
the terminal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Problem", "ScenarioError", "named", "one_line", "shown"]

#: Longest piece of user text echoed in a message.
SHOWN_CHARS = 60


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: `source:line: path: message`."""

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return one_line(text)


class ScenarioError(Exception):
    """A scenario that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def one_line(text: str) -> str:
    """`text` with line breaks, control characters and lone surrogates escaped."""
    if text.isprintable():
        return text
    return "".join(
        char
        if char.isprintable()
        else char.encode("unicode_escape", "backslashreplace").decode()
        if not 0xD800 <= ord(char) <= 0xDFFF
        else f"\\u{ord(char):04x}"
        for char in text
    )


def shown(value: object) -> str:
    """A value from the file as a message quotes it: `"fast"`, `2.5`, cut after 60 chars."""
    if isinstance(value, str):
        text = one_line(value)
        if len(text) > SHOWN_CHARS:
            text = text[:SHOWN_CHARS] + f"…({len(value)} characters)"
        return f'"{text}"'
    if isinstance(value, int) and abs(value) >= 10**SHOWN_CHARS:  # repr() refuses 4 300+ digits
        return f"a number of {math.floor(math.log10(abs(value))) + 1} digits"
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def named(name: object) -> str:
    """A key or name from the file as a message quotes it: `'pro'`, cut after 60 chars."""
    if isinstance(name, str) and len(name) > SHOWN_CHARS:
        return repr(name[:SHOWN_CHARS]) + f"…({len(name)} characters)"
    return repr(name)
