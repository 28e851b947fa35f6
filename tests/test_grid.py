"""The sweep grammar: ranges, lists and the grid they span."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario.grid import MAX_VALUES, parse_values, points


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("1..5", (1, 2, 3, 4, 5)),
        ("5..1", (5, 4, 3, 2, 1)),
        ("1..10:3", (1, 4, 7, 10)),
        ("1..10:4", (1, 5, 9)),  # the end is kept only when a step lands on it
        ("0.5..2:0.5", (0.5, 1.0, 1.5, 2.0)),
        ("0.1..0.3:0.1", (0.1, 0.2, 0.3)),  # decimal steps: exactly 0.3, not 0.30000000000000004
        ("50ms..200ms:50ms", ("50ms", "100ms", "150ms", "200ms")),
        ("1s..3s", ("1s", "2s", "3s")),
        ("7", (7,)),
        ("1,5,10", (1, 5, 10)),
        ("1..3, 10, 5s", (1, 2, 3, 10, "5s")),
        ("min,s", ("min", "s")),
        ("[5, {dist: exponential, mean: 5}]", (5, {"dist": "exponential", "mean": 5})),
        ("5, {dist: uniform, low: 1, high: 2}", (5, {"dist": "uniform", "low": 1, "high": 2})),
        ("'a,b',c", ("a,b", "c")),
        ([1, "2..3"], (1, 2, 3)),  # a YAML list from a file, ranges inside
        (12, (12,)),
    ],
)
def test_specs_expand_to_their_values(spec, values):
    assert parse_values(spec) == values


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("1..3:0", "a range needs a step > 0"),
        ("1s..3ms", "one unit per range"),
        ("1,,2", "empty item"),
        ("1..1e9", "more than"),
        ("[1, 2", "not valid YAML"),
        ([], "at least one value"),
        (None, "got nothing"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, words):
    with pytest.raises(ValueError, match=words):
        parse_values(spec)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(-50, 50), length=st.integers(0, 60), step=st.integers(1, 7))
def test_integer_ranges_agree_with_python_range(start, length, step):
    """a..b:s is range(a, b + 1, s) upwards and range(a, b − 1, −s) downwards."""
    stop = start + length
    assert parse_values(f"{start}..{stop}:{step}") == tuple(range(start, stop + 1, step))
    assert parse_values(f"{stop}..{start}:{step}") == tuple(range(stop, start - 1, -step))


def test_the_grid_is_every_combination_first_axis_slowest():
    grid = points({"count": (1, 2), "host_move": (5, 10, 15)})
    assert [(p["count"], p["host_move"]) for p in grid] == [
        (1, 5),
        (1, 10),
        (1, 15),
        (2, 5),
        (2, 10),
        (2, 15),
    ]


def test_an_axis_has_a_bound():
    assert len(parse_values(f"1..{MAX_VALUES}")) == MAX_VALUES
    with pytest.raises(ValueError):
        parse_values(f"1..{MAX_VALUES + 1}")
