"""Griffe extension: the doctest examples of `sim`'s docstrings shown as Python sessions.

The docstrings are prose in Markdown with doctest examples (`>>> ...` and the
output below), which the tests run. Markdown would read `>>>` as a quotation,
so each run of doctest lines, up to the next blank line, is wrapped in a
`pycon` code fence before the API reference renders it.
"""

from __future__ import annotations

from typing import Any

from griffe import Extension, Object

FENCE = "```"


class DoctestBlocks(Extension):
    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fenced(obj.docstring.value)


def fenced(text: str) -> str:
    """`text` with every doctest block (a `>>>` line up to a blank line) in a code fence."""
    lines, out, inside_fence = text.splitlines(), [], False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(FENCE):
            inside_fence = not inside_fence
        if inside_fence or not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        out += [f"{indent}{FENCE}pycon", *block, f"{indent}{FENCE}"]
    return "\n".join(out)
