"""Durations in, figures out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.scenario.model import Scenario
from sim.scenario.units import format_count, format_hms, format_seconds, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("55s", 55.0),
        ("1.5min", 90.0),
        ("1h", 3600.0),
        ("2 s", 2.0),
        ("10us", 1e-5),
        ("1e3ms", 1.0),
        (".5s", 0.5),
    ],
)
def test_strings_carry_their_own_unit(text, seconds):
    assert parse_duration(text, unit="min") == pytest.approx(seconds)


def test_bare_numbers_are_in_the_scenario_unit():
    """unit: min → host_move 5 is 300 s; a string keeps its own unit."""
    scenario = Scenario(unit="min", players=[{"name": "a", "host_move": 5, "player_move": "30s"}])
    assert [step.duration for step in scenario.players[0].round] == [300.0, 30.0]


@pytest.mark.parametrize(
    "bad", ["fast", "-1s", "5 parsecs", True, None, [1], "nan s", float("inf"), 10**400]
)
def test_what_is_not_a_duration_is_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "hms", "text"),
    [
        (43_200, "12:00:00", "43 200 s"),
        (3_655, "1:00:55", "3 655 s"),
        (1.5, "0:00:01.5", "1.5 s"),
        (0, "0:00:00", "0 s"),
        (90_000, "25:00:00", "90 000 s"),
    ],
)
def test_figures_read_as_people_write_them(seconds, hms, text):
    assert format_hms(seconds) == hms
    assert format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.82, "0.82 s"),
        (0.1234, "0.123 s"),
        (0.0123456, "0.0123 s"),
        (0.0016, "0.0016 s"),
        (0.0009, "0.0009 s"),
        (0.00039999999999999996, "0.0004 s"),  # 100 µs + 300 µs, as floats add them
        (5e-8, "0.00000005 s"),
        (1e-13, "0 s"),  # below an instant's last digit
    ],
)
def test_figures_below_a_tenth_of_a_second_keep_three_significant_figures(seconds, text):
    """A makespan of 0.9 ms read `0.001 s`, one of 50 µs `0 s`."""
    assert format_seconds(seconds) == text


@given(st.integers(0, 10**7))
def test_hms_round_trips_whole_seconds(seconds):
    h, m, s = (int(part) for part in format_hms(seconds).split(":"))
    assert h * 3600 + m * 60 + s == seconds and m < 60 and s < 60


def test_counts_are_grouped_by_thousands_and_huge_ones_shown_by_their_exponent():
    """10¹⁸ − 1 still has its 18 digits grouped; 3 × 10¹⁸ and 10²³ (a count typed with
    too many zeros) are shown as ≈ mantissa e exponent, whatever the size of the int."""
    assert format_count(1_250_000) == "1 250 000"
    assert format_count(10**18 - 1) == " ".join(["999"] * 6)
    assert format_count(3 * 10**18) == "≈ 3.0e18"
    assert format_count(10**23) == "≈ 1.0e23"
    assert format_count(10**400) == "≈ 1.0e400"
