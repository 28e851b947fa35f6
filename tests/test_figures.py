"""The figures the tool exists to reproduce, each from arithmetic shown here."""

from __future__ import annotations

import pytest

from sim.experiment.runs import run
from sim.scenario.loader import load_file
from tests.conftest import SCENARIOS, polgar_like


def makespans(scenario) -> dict[str, float]:
    result = run(scenario)
    return dict(zip(result.summary["schedule"], result.summary["makespan_s"], strict=True))


def test_polgar_is_12_hours_synchronous_and_3655_s_cooperative():
    """24 games × 30 rounds × (5 + 55) s = 43 200 s = 12 h synchronous.

    Cooperative: Judit is never idle (24 × 5 = 120 s ≥ 5 + 55 = 60 s), so her
    24 × 30 × 5 = 3 600 s of moves run back to back, and the last opponent
    answers her last move 55 s later: 3 655 s.
    """
    figures = makespans(load_file(SCENARIOS / "polgar.yaml"))
    assert figures == {"synchronous": 43_200.0, "cooperative": 3_655.0}


def test_polgar_summary_matches_the_article_table():
    """speedup 43 200 / 3 655 = 11.82; host busy 3 600 / 43 200 = 8.3 %, 3 600 / 3 655 = 98.5 %."""
    summary = run(load_file(SCENARIOS / "polgar.yaml")).summary.set_index("schedule")
    assert summary.loc["cooperative", "speedup"] == pytest.approx(43_200 / 3_655)
    assert summary.loc["synchronous", "host_utilization"] == pytest.approx(3_600 / 43_200)
    assert summary.loc["cooperative", "host_utilization"] == pytest.approx(3_600 / 3_655)
    assert summary.loc["synchronous", "makespan_hms"] == "12:00:00"
    assert summary.loc["cooperative", "makespan_hms"] == "1:00:55"
    assert summary.loc["synchronous", "article_s"] == 43_200.0
    assert summary.loc["cooperative", "article_s"] == 3_600.0


def test_countasync_is_3_s_synchronous_and_1_s_cooperative():
    """Three tasks each waiting 1 s: one after another 3 × 1 s; overlapped, 1 s."""
    assert makespans(load_file(SCENARIOS / "countasync.yaml")) == {
        "synchronous": 3.0,
        "cooperative": 1.0,
    }


def test_48_players_take_86400_s_synchronous_and_7255_s_cooperative():
    """48 × 30 × 60 = 86 400 s; cooperative 48 × 30 × 5 + 55 = 7 255 s (48 × 5 ≥ 60)."""
    assert makespans(polgar_like(48)) == {"synchronous": 86_400.0, "cooperative": 7_255.0}


@pytest.mark.parametrize(
    ("players", "cooperative"),
    [
        # below the knee the host idles: the last game starts at (n−1)·5 and lasts 30·60
        (1, 30 * 60),
        (12, 30 * 60 + 11 * 5),  # 1 855 = 12·30·5 + 55: both regimes meet at n = 60/5
        # above it the host never idles: n·30·5 + 55
        (13, 13 * 30 * 5 + 55),  # 2 005
        (24, 24 * 30 * 5 + 55),  # 3 655
    ],
)
def test_knee_at_host_plus_wait_over_host(players, cooperative):
    """The knee n = (c + w)/c = 12: flat at 1 800 + 5(n−1), then +150 s a player."""
    figures = makespans(polgar_like(players))
    assert figures["cooperative"] == cooperative
    assert figures["synchronous"] == players * 30 * 60


def test_two_hosts_halve_the_synchronous_exhibition():
    """24 games on 2 hosts: ⌈24/2⌉ × 30 × 60 = 21 600 s; cooperative: 2 Judits share
    3 600 s of moves, 1 800 s each, and the last answer comes 55 s later: 1 855 s."""
    assert makespans(polgar_like(24, hosts=2)) == {
        "synchronous": 21_600.0,
        "cooperative": 1_855.0,
    }
