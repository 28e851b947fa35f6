"""Tables from traces: per-game sums that must add up."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiment.runs import run
from tests.conftest import integer_durations, polgar_like, real_durations, scenarios


@settings(max_examples=100, deadline=None)
@given(scenario=scenarios(st.one_of(integer_durations, real_durations), max_hosts=3))
def test_every_game_is_host_plus_wait_plus_waiting_for_a_host(scenario):
    """All games are handed in at 0, so a game's end is the sum of where its time went."""
    games = run(scenario).games
    total = games["host_s"] + games["wait_s"] + games["wait_for_host_s"]
    assert np.allclose(games["end_s"], total, rtol=1e-9, atol=1e-9)


def test_polgar_game_figures():
    """Synchronous game i (from 0) waits i × 1 800 s for Judit and ends at (i+1) × 1 800 s;
    mean end = 1 800 × (1+…+24)/24 = 22 500 s. Every game: 30 × 5 s host, 30 × 55 s wait."""
    result = run(polgar_like(24))
    sync = result.games[result.games["schedule"] == "synchronous"]
    assert sync["end_s"].tolist() == [1_800.0 * (i + 1) for i in range(24)]
    assert sync["wait_for_host_s"].tolist() == [1_800.0 * i for i in range(24)]
    assert set(result.games["host_s"]) == {150.0} and set(result.games["wait_s"]) == {1_650.0}
    summary = result.summary.set_index("schedule")
    assert summary.loc["synchronous", "mean_game_s"] == 22_500.0
    assert summary.loc["synchronous", "closed_form_s"] == 43_200.0


def test_steps_number_moves_steps_and_hosts_from_one():
    """Cooperative wait steps hold no host: empty host cell."""
    steps = run(polgar_like(2, rounds=3, hosts=2)).steps
    coop = steps[steps["schedule"] == "cooperative"]
    assert sorted(set(coop["move"])) == [1, 2, 3] and sorted(set(coop["step"])) == [1, 2]
    assert coop.loc[coop["kind"] == "wait", "host"].isna().all()
    assert set(coop.loc[coop["kind"] == "host", "host"]) == {1, 2}
