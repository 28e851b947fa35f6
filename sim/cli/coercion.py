"""The command line's values as Python values, without building a pydantic validator
for each option.

typer converts every option's value, given or default, through a pydantic
`TypeAdapter` it builds on first use: importing pydantic and building the adapters of
one command cost 0.05 s and more, a third of what `sim list` took in all. The
values `sim` declares are plain (text, digits, a parser's text, lists of text), and
each is converted here as typer would. Anything else, and anything that would be
refused, goes to typer's own conversion, so that errors read the same.

A typer without that conversion (its older versions, on click) keeps its own.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup

__all__ = ["PlainCommand", "PlainGroup", "plain"]


class Plain:
    """One parameter's conversion: plain values here, the rest by typer's own."""

    def __init__(self, param: Any) -> None:
        self.param = param
        self.typers: Any = None  # typer's conversion, built when first needed

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """`value` as typer's conversion would give it (None: the option's absence)."""
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        converted = self._plain(value, many)
        if converted is not None:
            return converted
        if self.typers is None:
            from typer._coercion import build_runtime_param

            self.typers = build_runtime_param(self.param.type_descriptor)
        return self.typers.coerce(value, param=param, ctx=ctx)

    def _plain(self, value: Any, many: bool) -> Any:
        """The converted value, or None where typer's conversion must decide."""
        descriptor = self.param.type_descriptor
        info = descriptor.parameter_info
        annotation = descriptor.annotation
        if many:
            texts = isinstance(value, (list, tuple)) and all(type(v) is str for v in value)
            return list(value) if texts and annotation == list[str] and not info.parser else None
        if info.parser is not None:
            try:
                return info.parser(value)
            except Exception:  # typer's conversion calls it again and words the error
                return None
        if annotation is str and type(value) is str:
            return value
        if annotation is int and info.clamp is not True:
            number = _digits(value)
            if number is not None and _within(number, info.min, info.max):
                return number
        return None


def _digits(value: Any) -> int | None:
    """A count written in ASCII digits only (what pydantic reads the same), else None."""
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _within(number: int, low: float | None, high: float | None) -> bool:
    return (low is None or number >= low) and (high is None or number <= high)


def plain(params: list) -> list:
    """`params`, each converting its plain values here (see `Plain`)."""
    for param in params:
        if getattr(param, "_runtime_param", False) is None and hasattr(param, "type_descriptor"):
            param._runtime_param = Plain(param)
    return params


class PlainCommand(TyperCommand):
    """A command whose parameters convert plain values without pydantic."""

    def get_params(self, ctx: Any) -> list:
        return plain(super().get_params(ctx))


class PlainGroup(TyperGroup):
    """The group (`sim --help`) likewise."""

    def get_params(self, ctx: Any) -> list:
        return plain(super().get_params(ctx))
