"""PyYAML's safe loader with limits on nesting depth and on what aliases expand to.

PyYAML composes an alias as the very node its anchor names, so nine lines of
"billion laughs" compose in a millisecond into a graph that expands to 10⁹
strings, and the bill comes later, when validation walks it. Here each node
learns its expanded size as it is composed (an alias adds the size of the node
it repeats), so the document is refused the moment the expansion passes the
limit, long before anything walks it. An alias to a node still being composed
(a node that contains itself) is refused too, and so is nesting deeper than the
limit, before Python's recursion limit is anywhere near.

Events come from libyaml's parser where PyYAML was built with it (ten times
faster, and iterative, so no depth of brackets can exhaust the C stack); the
composing, and so every check above, stays in Python either way.

YAML 1.1, which PyYAML speaks, reads some plain numbers otherwise than people
do: `010` is 8 (octal) and `1:30` is 90 (base 60). The loader refuses them
(`surprise` says why), rather than hand on a number nobody meant.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

from sim.scenario.errors import shown
from sim.scenario.units import format_count

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

__all__ = [
    "FAST",
    "MAX_DEPTH",
    "MAX_NODES",
    "GuardedLoader",
    "LimitError",
    "PureGuardedLoader",
    "load",
    "surprise",
]

#: Mappings and lists inside each other (a step list is 4 deep).
MAX_DEPTH = 100
#: YAML values after expanding every alias.
MAX_NODES = 1_000_000


class LimitError(yaml.MarkedYAMLError):
    """The document asks for more than the limits allow; `problem_mark` says where."""


class _Guard:
    """Counts depth and expanded size while composing; pins constructor errors to lines."""

    max_depth: int
    max_nodes: int

    def _start_guard(self, max_depth: int, max_nodes: int) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self._depth = 0
        self._expanded = 0  # nodes composed so far, every alias counted in full
        self._sizes: dict[int, int] = {}  # id(node) → its expanded size, once complete

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:  # an unknown anchor is PyYAML's own error, below
                size = self._sizes.get(id(node))
                if size is None:
                    message = f"alias *{event.anchor} repeats a node that contains it"
                    raise LimitError(None, None, message, event.start_mark)
                self._grow(size, event.start_mark)
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        if self._depth >= self.max_depth:
            raise LimitError(None, None, f"nested more than {self.max_depth} levels deep", mark)
        self._depth += 1
        before = self._expanded
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._grow(1, mark)
        self._sizes[id(node)] = self._expanded - before
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's constructors, with their bare errors pinned to the node's line.

        `!!int` with 5 000 digits, `!!bool maybe` or `!!timestamp 2001-13-45`
        fail inside PyYAML with a ValueError or a KeyError, not a YAML error.
        """
        if isinstance(node, yaml.ScalarNode):
            odd = surprise(node)
            if odd is not None:
                raise ConstructorError(None, None, odd, node.start_mark)
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as error:  # the constructors' own failures are about the value
            value = shown(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            message = f"cannot read {value} as {node.tag}: {error}"
            raise ConstructorError(None, None, message, node.start_mark) from None

    def _grow(self, size: int, mark: yaml.Mark) -> None:
        self._expanded += size
        if self._expanded > self.max_nodes:
            limit = format_count(self.max_nodes)
            message = f"more than {limit} values once aliases are expanded (an alias bomb?)"
            raise LimitError(None, None, message, mark)


class PureGuardedLoader(_Guard, yaml.SafeLoader):
    """The guarded loader on PyYAML's pure-Python scanner and parser."""

    def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
        super().__init__(text)
        self._start_guard(max_depth, max_nodes)

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        """Refuse `[[[[…` while scanning: the Python scanner keeps a pending key per open
        bracket and rescans them all for every token, which costs time before any
        node is composed."""
        if self.flow_level >= self.max_depth:
            message = f"nested more than {self.max_depth} levels deep"
            raise LimitError(None, None, message, self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


if CParser is not None:

    class GuardedLoader(_Guard, Composer, CParser, SafeConstructor, Resolver):
        """The guarded loader on libyaml's parser; Python's composer, so the guard holds."""

        def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_guard(max_depth, max_nodes)

else:  # pragma: no cover - PyYAML without libyaml
    GuardedLoader = PureGuardedLoader  # type: ignore[misc,assignment]

#: True when events come from libyaml.
FAST = CParser is not None


def load(text: str, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """One YAML document, guarded as a file is; raises `yaml.YAMLError` (LimitError too)."""
    loader = GuardedLoader(text, max_depth, max_nodes)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
#: What YAML 1.1 reads as octal: a leading zero and more digits (`010`, `-007`, `0_10`).
_OCTAL = re.compile(r"[-+]?0[0-7_]+")


def surprise(node: yaml.ScalarNode) -> str | None:
    """Why a number YAML 1.1 resolved is not what it looks like (`010`, `1:30`), or None."""
    if node.tag not in (_INT, _FLOAT) or node.style:  # quoted: text (plain is '' in libyaml)
        return None
    text = node.value
    written = text if len(text) <= 30 else text[:30] + "…"
    if node.tag == _INT and _OCTAL.fullmatch(text):
        reading = f" {int(text.replace('_', ''), 8)}" if len(text) <= 30 else ""
        return (
            f"{written} has a leading zero, so YAML 1.1 reads it as the octal number{reading}; "
            "write the number without the zero, or quote it if it is text"
        )
    if ":" in text:  # sexagesimal
        reading = f" {_base_60(text)}" if len(text) <= 30 else ""
        return (
            f"{written} is base 60 to YAML 1.1, read as{reading or ' one number'}; "
            "write the number itself, or quote it if it is text"
        )
    return None


def _base_60(text: str) -> int | float:
    """`1:30` → 90, `-1:00:01.5` → -3601.5: how YAML 1.1 reads a sexagesimal number."""
    sign = -1 if text.startswith("-") else 1
    value: int | float = 0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + (float(part) if "." in part else int(part))
    return sign * value
