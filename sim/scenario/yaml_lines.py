"""A scenario file's bytes → YAML data and the line of every key and item.

The reading half of `sim.scenario.loader`, the half that trusts nothing: bytes are
decoded with their bad byte's line named, YAML is parsed by the guarded
loader (`sim.scenario.guarded_yaml`: safe tags only, depth and alias expansion limited),
and text no field may hold (control characters, lone surrogates) is refused.
Every problem names the file and a line. A `--set` value is read the same way
(`parse_value`), so no value escapes a limit by coming from the command line.

YAML 1.1, which PyYAML speaks, reads some plain numbers otherwise than people
do: `010` is 8 (octal), `1:30` is 90 (base 60). Both are refused, with the
reading YAML would have made. A merge key (`<<: *base`) copies a mapping's
keys, the mapping's own keys winning; merging a list of mappings that share a
key is refused, since YAML tools disagree on which of them wins.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Collection
from typing import Any

import yaml

from sim.scenario.errors import SHOWN_CHARS, Problem, ScenarioError, shown
from sim.scenario.guarded_yaml import FAST, GuardedLoader, LimitError, surprise
from sim.scenario.limits import Limits
from sim.scenario.units import format_count

__all__ = ["Loc", "decode", "parse", "parse_value", "path_text"]

#: Where a value sits: keys and list indexes from the top of the document.
Loc = tuple[str | int, ...]

_UTF16_32 = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(raw: bytes, source: str = "<bytes>") -> str:
    """A scenario file's bytes as text: UTF-8, or UTF-16/32 when a byte order mark says so.

    A byte that is not valid text is reported at its line and column.
    """
    encoding = "utf-8-sig"
    if raw.startswith(_UTF16_32):
        encoding = "utf-32" if raw.startswith(_UTF16_32[:2]) else "utf-16"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        byte = raw[error.start : error.start + 1].hex()
        message = (
            f"not {encoding.removesuffix('-sig').upper()} text: byte 0x{byte} at column {column}"
        )
        raise ScenarioError([Problem(source, line, "", message)]) from None


def parse(
    text: str, source: str, limits: Limits, fields: Collection[str] = ()
) -> tuple[Any, dict[Loc, int]]:
    """Safe-load the document and note the line of every mapping key and item.

    `fields`: the keys a document is meant to hold. A mapping holding none of them
    (nor a near miss) is some other file, refused in one line that quotes nothing
    from it: a readable file is not echoed line by line because it was named.
    """
    return _load(text, source, limits, fields=fields, value=False)


def parse_value(text: str, source: str, limits: Limits) -> Any:
    """One value as YAML reads it (an override's, a sweep's), with every guard of a file."""
    return _load(text, source, limits, fields=(), value=True)[0]


def _load(
    text: str, source: str, limits: Limits, fields: Collection[str], value: bool
) -> tuple[Any, dict[Loc, int]]:
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    loader = None
    try:
        loader = GuardedLoader(text, limits.max_depth, limits.max_nodes)
        node = loader.get_single_node()
        if fields and isinstance(node, yaml.MappingNode):
            _refuse_other_files(node, fields, source)
        if node is not None:  # before constructing: merge keys (`<<`) rewrite the nodes
            _note_lines(node, (), lines, problems, source, set(), value)
        if problems:
            raise ScenarioError(problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as error:  # a character YAML refuses outright
        what = f"character {shown(chr(error.character))} (U+{error.character:04X}) is not allowed"
        line = _line_at(text, error.position)
        raise ScenarioError([Problem(source, line, "", f"not valid YAML: {what}")]) from None
    except LimitError as error:
        line = _mark_line(error.problem_mark, text)
        raise ScenarioError([Problem(source, line, "", f"refused: {error.problem}")]) from None
    except yaml.MarkedYAMLError as error:
        line = _mark_line(error.problem_mark or error.context_mark, text)
        if "maximum nesting depth" in str(error.problem):  # libyaml's own limit, at 1 000
            message = f"refused: nested more than {limits.max_depth} levels deep"
            raise ScenarioError([Problem(source, line, "", message)]) from None
        what = " ".join(part for part in (error.context, error.problem) if part)
        raise ScenarioError([Problem(source, line, "", f"not valid YAML: {what}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(source, None, "", f"not valid YAML: {error}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


def _refuse_other_files(node: yaml.MappingNode, fields: Collection[str], source: str) -> None:
    """Refuse a mapping with no key that is one of `fields`, in any case, or close to one."""
    keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
    known = {field.lower() for field in fields}
    if not keys or any(key.strip().lower() in known for key in keys):
        return  # `{}`, or keys that are lists: the fields' own checks word it better
    near = [key[:40].strip().lower() for key in keys[:100]]  # bounded: a file may hold 10⁶
    if any(difflib.get_close_matches(key, known, n=1, cutoff=0.7) for key in near):
        return
    message = (
        "expected a mapping with at least `players:`, got a mapping of "
        f"{format_count(len(keys))} key{'' if len(keys) == 1 else 's'}, "
        "none of them a scenario field"
    )
    raise ScenarioError([Problem(source, node.start_mark.line + 1, "", message)])


def _mark_line(mark: yaml.Mark | None, text: str) -> int | None:
    """A mark's line, counted from 1; libyaml marks the end of a file one line past it."""
    return None if mark is None else min(mark.line + 1, max(1, len(text.splitlines())))


def _line_at(text: str, position: int) -> int:
    """The line of a reader error's position: a byte offset for libyaml, else a character's."""
    if FAST:
        return text.encode("utf-8", "surrogatepass").count(b"\n", 0, position) + 1
    return text.count("\n", 0, position) + 1


def _note_lines(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[Problem],
    source: str,
    seen: set[int],
    value: bool = False,
) -> None:
    """Record `loc → line` for the tree under `node`; each node once (aliases are shared).

    Also refuses text that no field may hold: control characters and lone
    surrogates (from escapes like `"\\e"` or `"\\ud800"`), which would garble the
    terminal or fail to be written; numbers YAML 1.1 reads otherwise than people
    do; and merges whose result depends on the tool. A document that is one scalar
    is checked only when it is a `value` (a file must be a mapping, said later).
    """
    lines.setdefault(loc, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode) and (loc or value):
        bad = _unprintable(node.value)
        if bad:
            message = f"text holds {bad}, which no field accepts"
            problems.append(Problem(source, node.start_mark.line + 1, path_text(loc), message))
        odd = surprise(node)
        if odd:
            problems.append(Problem(source, node.start_mark.line + 1, path_text(loc), odd))
    elif isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key, str):  # a list or mapping as a key: construction says why
                continue
            bad = _unprintable(key)
            if bad:
                line = key_node.start_mark.line + 1
                problems.append(Problem(source, line, path_text(loc), f"a key holds {bad}"))
            if key in keys:
                line = key_node.start_mark.line + 1
                problems.append(Problem(source, line, path_text((*loc, key)), "appears twice"))
            keys.add(key)
            if key_node.tag == _MERGE:
                line = key_node.start_mark.line + 1
                own = {k.value for k, _ in node.value if k.tag != _MERGE}
                _refuse_ambiguous_merge(value_node, own, (loc, line), problems, source)
            lines.setdefault((*loc, key), key_node.start_mark.line + 1)
            _note_lines(value_node, (*loc, key), lines, problems, source, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _note_lines(item, (*loc, index), lines, problems, source, seen)


_MERGE = "tag:yaml.org,2002:merge"


def _refuse_ambiguous_merge(
    node: yaml.Node,
    own: set[str],
    where: tuple[Loc, int],
    problems: list[Problem],
    source: str,
) -> None:
    """`<<: [*a, *b]` where `a` and `b` share a key the mapping does not set itself: the
    YAML 1.1 merge rules let the first win, PyYAML the last; refused, not read either way."""
    if not isinstance(node, yaml.SequenceNode):
        return
    loc, line = where
    seen: set[str] = set()
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            continue  # PyYAML refuses it while constructing
        keys = {key.value for key, _ in item.value if isinstance(key, yaml.ScalarNode)} - own
        for key in sorted(keys & seen):
            message = (
                "two merged mappings (`<<: [...]`) both give this key, and YAML tools "
                "disagree on which wins; give it once, or set it in the mapping itself"
            )
            problems.append(Problem(source, line, path_text((*loc, key)), message))
        seen |= keys


def _unprintable(text: str) -> str | None:
    """The first control character (tab and newline aside) or lone surrogate, described."""
    if text.isprintable():
        return None
    for char in text:
        code = ord(char)
        if char in "\t\n" or char.isprintable():
            continue
        if 0xD800 <= code <= 0xDFFF:
            return f"a lone surrogate (U+{code:04X})"
        if code < 0x20 or 0x7F <= code < 0xA0:
            return f"the control character U+{code:04X}"
    return None


def path_text(loc: Loc) -> str:
    """`players[0].host_move`: a location as messages write it (a long key cut short)."""
    text = ""
    for part in loc:
        part = '""' if part == "" else part  # an empty key still shows where it is
        if isinstance(part, str) and len(part) > SHOWN_CHARS:  # a key of a megabyte
            part = part[:SHOWN_CHARS] + "…"
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
