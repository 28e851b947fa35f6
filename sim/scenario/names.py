"""Names a scenario gives things: how long they may be, which characters they may hold.

The scenario's, the host's and every group's name are free text from a file
anyone may have written, and they are printed in tables, drawn in pictures and
written into every trace. So a name is at most `MAX_NAME` characters (a longer
one is a mistake, and would cost the pictures seconds to lay out), and holds no
character that would change how the text around it reads: no control
character (a line break, an escape) and no bidirectional formatting character
(U+202E turns the rest of a line around). Where a picture has less room than
that, `clipped` shortens a name for its label.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from sim.scenario.frozen import fail

__all__ = ["BIDI_CONTROLS", "MAX_NAME", "Label", "Text", "clipped", "refused_character"]

#: Longest name, in characters: a label, not a paragraph.
MAX_NAME = 200
#: Unicode's bidirectional formatting characters: embeddings, overrides, isolates and
#: marks. Text holding them can display in another order than it is stored.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Characters that end a line without being control characters (U+0085 is one).
_LINE_SEPARATORS = frozenset("\u2028\u2029")


def refused_character(text: str, line_breaks: bool = False) -> str | None:
    """The first character `text` may not hold, described; None when it has none.

    `line_breaks` lets tab and newline through (a description may span lines).
    """
    for char in text:
        code = ord(char)
        if char in BIDI_CONTROLS:
            return f"the bidirectional formatting character U+{code:04X}"
        if line_breaks and char in "\t\n":
            continue
        if char in _LINE_SEPARATORS:
            return f"the line separator U+{code:04X}"
        if code < 0x20 or 0x7F <= code < 0xA0:
            return f"the control character U+{code:04X}"
    return None


def _plain_name(text: str) -> str:
    bad = refused_character(text)
    if bad is not None:
        fail(f"a name holds {bad}; names may not hold control or bidirectional characters")
    return text


def _plain_text(text: str) -> str:
    bad = refused_character(text, line_breaks=True)
    if bad is not None:
        fail(f"the text holds {bad}, which could change how the line around it reads")
    return text


#: The characters `refused_character` refuses, as a JSON Schema (ECMA-262) class for
#: editors; `_TEXT_CHARACTERS` lets tab and newline through.
_REFUSED = r"\u000b-\u001f\u007f-\u009f\u2028\u2029" + "".join(
    f"\\u{ord(char):04x}" for char in sorted(BIDI_CONTROLS)
)
_NAME_CHARACTERS = rf"^[^\u0000-\u000a{_REFUSED}]*$"
_TEXT_CHARACTERS = rf"^[^\u0000-\u0008{_REFUSED}]*$"

#: A name: 1 to MAX_NAME characters, none a control or bidirectional formatting one.
Label = Annotated[
    str,
    Field(min_length=1, max_length=MAX_NAME, json_schema_extra={"pattern": _NAME_CHARACTERS}),
    AfterValidator(_plain_name),
]
#: Free text printed beside names (a description): line breaks allowed, no other controls.
Text = Annotated[
    str, Field(json_schema_extra={"pattern": _TEXT_CHARACTERS}), AfterValidator(_plain_text)
]


def clipped(text: str, chars: int) -> str:
    """`text` in at most `chars` characters: its start and its end around an ellipsis.

    The end is kept because it tells players apart: `a-very-l…name-12` in 16.
    """
    if len(text) <= chars:
        return text
    tail = (chars - 1) // 2
    return text[: chars - 1 - tail] + "…" + (text[-tail:] if tail else "")
