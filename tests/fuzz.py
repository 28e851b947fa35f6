"""Hostile scenario files, made reproducibly from a seed.

`mutants(seed, n)` yields `n` files as bytes, each a good scenario with two or
three mutations applied: to its data (wrong types, missing and extra fields,
huge, negative and non-finite numbers, unicode, deep nesting) or to its text
(binary junk, truncation, YAML tags such as `!!python/object`, numbers YAML 1.1
reads oddly such as `010`, anchors, merge keys and alias bombs, broken
indentation, BOMs and line endings). A plain
`random.Random(seed)` drives it all, so a failing file can be made again from
its seed and index alone.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from typing import Any

import yaml

__all__ = ["BASES", "alias_bomb", "deep_nesting", "mutants"]

#: Good scenarios to start from: every field, both spellings of a round, random
#: durations with replications, a sweep block, and games that share (a resource, an
#: executor, a bounded queue and its consumers, a gather) under every schedule.
BASES: tuple[str, ...] = (
    "name: polgar\ndescription: Judit\nunit: s\nhost:\n  name: Judit\n  count: 1\n"
    "players:\n  - name: amateur\n    count: 3\n    moves: 2\n    host_move: 5\n"
    "    player_move: 55\nschedules: [synchronous, cooperative]\n",
    "name: countasync\nhost:\n  name: event loop\nplayers:\n  - name: count\n    count: 3\n"
    "    steps:\n      - host: 0\n      - wait: 1s\n      - host: 0\n",
    "unit: ms\nhost: {count: 2}\nplayers:\n  - {name: a, count: 2, moves: 2, host_move: 250,"
    ' player_move: "1s"}\n  - {count: 1, steps: [{wait: 5}, {host: 1.5}]}\n'
    "schedules:\n  - cooperative\n  - {synchronous: {}}\n",
    "players:\n  - host_move: 1\n",
    "name: noisy\nseed: 3\nreplications: 2\nplayers:\n  - name: p\n    count: 2\n    moves: 2\n"
    "    host_move: {dist: exponential, mean: 1s}\n"
    "    player_move: {dist: lognormal, mean: 5, sd: 2}\n",
    "players:\n  - name: amateur\n    count: 2\n    host_move: 5\n    player_move: 55\n"
    "sweep:\n  players.amateur.count: 1..3\n  host_move: [1, 2]\n",
    "name: shared\nunit: ms\nresources: {db: 2}\nexecutors: {pool: 2}\n"
    "queues: {jobs: {maxsize: 2}}\nplayers:\n  - name: page\n    count: 3\n    moves: 2\n"
    "    steps:\n      - with: db\n        steps: [{wait: 4}]\n"
    "      - with: pool\n        steps: [{host: 1}, {wait: 3}]\n"
    "      - gather: {count: 2, steps: [{wait: 2}, {host: 1}]}\n      - put: jobs\n"
    "  - name: worker\n    count: 2\n    serves: jobs\n    steps: [{wait: 3}, {host: 1}]\n"
    "schedules: [cooperative, {cooperative: {order: asyncio}}, synchronous, threaded, parallel]\n",
)

HOSTILE_SCALARS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    -(10**9),
    2**63,
    10**30,
    10**300,
    0.5,
    -0.0,
    1e308,
    -1e308,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    " ",
    "5 s",
    "-5s",
    "1e999s",
    "5 fortnights",
    "nan",
    "∞",
    "Judit 🏆",
    "名前",
    "\u202eevil",
    "a\u2066b\u2069",
    "a\u0000b",
    "line\nbreak",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows",
    "[red]markup[/]",
    "\x1b[31mred",
    "x" * 5000,
    "y" * 201,
)

#: Text that YAML reads as something other than plain data, or refuses.
TAGS: tuple[str, ...] = (
    '!!python/object/apply:os.system ["echo hi"]',
    "!!python/object:os.system {}",
    "!!python/name:os.system",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "!!set {a, b}",
    "!!omap [a: 1, b: 2]",
    "!!pairs [a: 1]",
    '!!int "seven"',
    '!!float "x"',
    "!!bool maybe",
    "!!null x",
    "!!str 5",
    "!custom 5",
    "!<tag:yaml.org,2002:int> 0x1F",
    "0x1F",
    "0o17",
    "1_000",
    "+.inf",
    ".NaN",
    "2001-01-01",
    "*undefined",
    "9" * 5000,
    "010",
    "-007",
    "1:30",
    "1:30.5",
)


def alias_bomb(levels: int = 9, width: int = 10, field: str = "description") -> str:
    """The "billion laughs": `width ** levels` strings from a file of a few hundred bytes."""
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"{field}: *a{levels}")
    lines.append("players: [{host_move: 1}]")
    return "\n".join(lines) + "\n"


def deep_nesting(depth: int, flow: bool = True) -> str:
    """`players` nested `depth` lists deep, in flow or block style."""
    if flow:
        return "players: " + "[" * depth + "1" + "]" * depth + "\n"
    return (
        "players:\n" + "".join("  " * i + "-\n" for i in range(1, depth)) + "  " * depth + "- 1\n"
    )


# -- mutations of the data ------------------------------------------------------------


def _paths(data: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _hostile(rng: random.Random) -> Any:
    choice = rng.random()
    if choice < 0.7:
        return rng.choice(HOSTILE_SCALARS)
    if choice < 0.8:
        return [rng.choice(HOSTILE_SCALARS) for _ in range(rng.randint(0, 3))]
    if choice < 0.9:
        return {rng.choice(["host", "wait", "name", "x", 1, "count"]): rng.choice(HOSTILE_SCALARS)}
    nested: Any = rng.choice(HOSTILE_SCALARS)
    for _ in range(rng.randint(2, 30)):
        nested = [nested] if rng.random() < 0.5 else {"k": nested}
    return nested


def _replace(data: Any, rng: random.Random) -> Any:
    path = rng.choice(_paths(data))
    if not path:
        return _hostile(rng)
    _parent(data, path)[path[-1]] = _hostile(rng)
    return data


def _delete(data: Any, rng: random.Random) -> Any:
    paths = [p for p in _paths(data) if p]
    if paths:
        path = rng.choice(paths)
        del _parent(data, path)[path[-1]]
    return data


def _add_field(data: Any, rng: random.Random) -> Any:
    mappings = [p for p in _paths(data) if isinstance(_at(data, p), dict)]
    if mappings:
        target = _at(data, rng.choice(mappings))
        key = rng.choice(["host_mvoe", "extra", "Players", "count ", 7, None, True, "", "ñ"])
        target[key] = _hostile(rng)
    return data


def _duplicate_item(data: Any, rng: random.Random) -> Any:
    lists = [p for p in _paths(data) if isinstance(_at(data, p), list) and _at(data, p)]
    if lists:
        items = _at(data, rng.choice(lists))
        items.extend(copy.deepcopy(items) * rng.choice([1, 2, 50]))
    return data


def _scale(data: Any, rng: random.Random) -> Any:
    """A number made huge, negative or fractional: counts that multiply into much work."""
    numbers = [p for p in _paths(data) if p and isinstance(_at(data, p), int | float)]
    if numbers:
        path = rng.choice(numbers)
        value = _at(data, path)
        factor = rng.choice([10**3, 10**6, 10**12, -1, 0, 0.5, 1e-9])
        _parent(data, path)[path[-1]] = value * factor if not isinstance(value, bool) else factor
    return data


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


DATA_MUTATIONS: tuple[Callable[[Any, random.Random], Any], ...] = (
    _replace,
    _replace,
    _delete,
    _add_field,
    _duplicate_item,
    _scale,
)


#: libyaml's emitter where PyYAML has it: the same text, made ten times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_PARSED = [yaml.safe_load(base) for base in BASES]


def _dump(data: Any, rng: random.Random) -> str:
    try:
        return yaml.dump(
            data,
            Dumper=_DUMPER,
            allow_unicode=rng.random() < 0.5,
            default_flow_style=rng.choice([False, True, None]),
            sort_keys=False,
        )
    except (yaml.YAMLError, ValueError):  # e.g. int too large for str(); leave unchanged
        return BASES[0]


# -- mutations of the text ------------------------------------------------------------


def _lines(text: bytes) -> list[bytes]:
    return text.split(b"\n")


def _truncate(text: bytes, rng: random.Random) -> bytes:
    return text[: rng.randint(0, len(text))]


def _junk(text: bytes, rng: random.Random) -> bytes:
    at = rng.randint(0, len(text))
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return text[:at] + junk + text[at:]


def _line_shuffle(text: bytes, rng: random.Random) -> bytes:
    lines = _lines(text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    action = rng.choice(["swap", "drop", "copy", "indent", "dedent", "tab"])
    if action == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif action == "drop":
        del lines[i]
    elif action == "copy":
        lines.insert(j, lines[i])
    elif action == "indent":
        lines[i] = b" " * rng.randint(1, 3) + lines[i]
    elif action == "dedent":
        lines[i] = lines[i].lstrip(b" ")
    else:
        lines[i] = b"\t" + lines[i]
    return b"\n".join(lines)


def _tag(text: bytes, rng: random.Random) -> bytes:
    """A value after some `key: ` replaced by a YAML tag or an odd literal."""
    lines = _lines(text)
    candidates = [i for i, line in enumerate(lines) if b": " in line]
    if not candidates:
        return text + b"\nplayers: " + rng.choice(TAGS).encode() + b"\n"
    i = rng.choice(candidates)
    head = lines[i].split(b": ", 1)[0]
    lines[i] = head + b": " + rng.choice(TAGS).encode()
    return b"\n".join(lines)


def _anchors(text: bytes, rng: random.Random) -> bytes:
    """An anchor and aliases: a self-reference, a merge key (of one mapping or several, which
    may share keys), a bomb, or a dangling alias."""
    kind = rng.choice(["self", "merge", "merges", "bomb", "dangling", "reuse"])
    if kind == "self":
        return b"players: &p [*p]\n" if rng.random() < 0.5 else b"players: &p [{steps: *p}]\n"
    if kind == "merge":
        return b"base: &b {count: 2}\nplayers:\n  - <<: *b\n    host_move: 1\n"
    if kind == "merges":
        second = rng.choice([b"{count: 3}", b"{moves: 3}", b"{host_move: 2}"])
        return (
            b"players:\n  - &a {name: a, count: 2, host_move: 1}\n  - &b " + second + b"\n"
            b"  - <<: [*a, *b]\n    name: c\n"
        )
    if kind == "bomb":
        field = rng.choice(["description", "players", "name", "schedules", "x"])
        return alias_bomb(rng.randint(4, 12), rng.randint(5, 12), field).encode()
    if kind == "dangling":
        return text.replace(b"1", b"*nowhere", 1)
    return b"g: &g {host_move: 1}\nplayers: [*g, *g]\n"


def _whole_file(text: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["empty", "blank", "comment", "junk", "nul", "deep", "docs", "scalar"])
    if kind == "empty":
        return b""
    if kind == "blank":
        return b"\n \n\t\n"
    if kind == "comment":
        return b"# nothing here\n"
    if kind == "junk":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
    if kind == "nul":
        return text.replace(b"\n", b"\x00\n", 1)
    if kind == "deep":
        if rng.random() < 0.7:
            return deep_nesting(rng.choice([60, 500, 5_000, 50_000])).encode()
        return deep_nesting(rng.choice([60, 300, 700]), flow=False).encode()  # ~n² bytes
    if kind == "docs":
        return text + b"\n---\n" + text
    return rng.choice([b"42\n", b"- a\n- b\n", b'"just text"\n', b"~\n", b"...\n"])


def _encoding(text: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["bom", "crlf", "cr", "utf16", "latin1"])
    if kind == "bom":
        return b"\xef\xbb\xbf" + text
    if kind == "crlf":
        return text.replace(b"\n", b"\r\n")
    if kind == "cr":
        return text.replace(b"\n", b"\r")
    if kind == "utf16":
        return text.decode("utf-8", "replace").encode("utf-16")
    return text.replace(b"name: ", b"name: J\xfcdit", 1)


TEXT_MUTATIONS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    _truncate,
    _junk,
    _line_shuffle,
    _line_shuffle,
    _tag,
    _tag,
    _anchors,
    _whole_file,
    _encoding,
)


def mutate(rng: random.Random) -> bytes:
    """One hostile file: a base, then two or three mutations of its data and/or text."""
    data = copy.deepcopy(rng.choice(_PARSED))
    on_data, on_text = rng.choice([(2, 0), (3, 0), (0, 1), (0, 2), (1, 1), (2, 1), (1, 2)])
    for _ in range(on_data):
        data = rng.choice(DATA_MUTATIONS)(data, rng)
    text = _dump(data, rng).encode("utf-8")
    for _ in range(on_text):
        text = rng.choice(TEXT_MUTATIONS)(text, rng)
    return text


def mutants(seed: int, n: int) -> Iterator[bytes]:
    """`n` hostile files, the same ones for the same seed."""
    rng = random.Random(seed)
    for _ in range(n):
        yield mutate(rng)
