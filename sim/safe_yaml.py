"""PyYAML's safe loader with limits on nesting depth and on what aliases expand to.

PyYAML composes an alias as the very node its anchor names, so nine lines of
"billion laughs" compose in a millisecond into a graph that expands to 10⁹
strings, and the bill comes later, when validation walks it. Here each node
learns its expanded size as it is composed (an alias adds the size of the node
it repeats), so the document is refused the moment the expansion passes the
limit, long before anything walks it. An alias to a node still being composed
(a node that contains itself) is refused too, and so is nesting deeper than the
limit, before Python's recursion limit is anywhere near.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent

from sim.errors import shown

__all__ = ["GuardedLoader", "LimitError"]


class LimitError(yaml.MarkedYAMLError):
    """The document asks for more than the limits allow; `problem_mark` says where."""


class GuardedLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that counts depth and expanded size while composing."""

    def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
        super().__init__(text)
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
                    raise LimitError(
                        None,
                        None,
                        f"alias *{event.anchor} repeats a node that contains it",
                        event.start_mark,
                    )
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

        `!!int` with 5 000 digits, `!!timestamp 2001-13-45` or `!!float x` fail
        inside PyYAML with a ValueError or worse, not a YAML error.
        """
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as error:  # the constructors' own failures are about the value
            value = shown(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            raise ConstructorError(
                None, None, f"cannot read {value} as {node.tag}: {error}", node.start_mark
            ) from None

    def _grow(self, size: int, mark: yaml.Mark) -> None:
        self._expanded += size
        if self._expanded > self.max_nodes:
            raise LimitError(
                None,
                None,
                f"more than {self.max_nodes:,} values once aliases are expanded "
                "(an alias bomb?)".replace(",", " "),
                mark,
            )
