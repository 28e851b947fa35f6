"""Random durations: each law draws what it claims, and the workload draws them fairly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.workload import Workload
from sim.experiment.runs import run
from sim.scenario.distributions import Law
from sim.scenario.model import Scenario
from tests.conftest import polgar_like

_PHI_1 = math.exp(-0.5) / math.sqrt(2 * math.pi)  # standard normal density at ±1: 0.24197
_CDF_1 = 0.8413447460685429  # Φ(1)

LAWS = {
    # mapping: (expected value, variance), from the law's textbook formulas
    "{dist: constant, value: 7}": (7.0, 0.0),
    "{dist: uniform, low: 2, high: 4}": (3.0, 4 / 12),  # (a+b)/2, (b−a)²/12
    "{dist: triangular, low: 3, mode: 5, high: 8}": (16 / 3, (9 + 64 + 25 - 24 - 15 - 40) / 18),
    "{dist: exponential, mean: 10}": (10.0, 100.0),  # mean, mean²
    "{dist: lognormal, mean: 55, sd: 20}": (55.0, 400.0),  # its own mean and sd
    "{dist: gamma, shape: 2, scale: 3}": (6.0, 18.0),  # k·θ, k·θ²
    "{dist: gamma, mean: 10, sd: 5}": (10.0, 25.0),  # k = (10/5)² = 4, θ = 25/10
    "{dist: empirical, values: [1, 2, 6]}": (3.0, 14 / 3),  # ((−2)² + (−1)² + 3²)/3
    # normal(1, 1) truncated at 0: mean 1 + φ(1)/Φ(1) = 1.2876;
    # variance 1 + α·φ(α)/(1−Φ(α)) − (φ(α)/(1−Φ(α)))² with α = −1
    "{dist: normal, mean: 1, sd: 1}": (
        1 + _PHI_1 / _CDF_1,
        1 - _PHI_1 / _CDF_1 - (_PHI_1 / _CDF_1) ** 2,
    ),
}


def one_group(group: dict, **scenario) -> Scenario:
    """A scenario of one player group, g, with `group`'s fields and the `scenario`'s own."""
    return Scenario(players=[{"name": "g", **group}], **scenario)


def law(text: str) -> Law:
    import yaml

    return one_group({"host_move": yaml.safe_load(text)}).players[0].host_move


@pytest.mark.parametrize("text", LAWS, ids=list(LAWS))
def test_each_law_draws_its_expected_value_and_variance(text):
    """Mean of 40 000 draws within 5 standard errors; variance within 10 %."""
    expected, variance = LAWS[text]
    found = law(text)
    assert found.expected == pytest.approx(expected)
    assert found.variance == pytest.approx(variance)
    draws = found.sample(np.random.default_rng(1), 40_000)
    assert (draws >= 0).all()
    assert abs(draws.mean() - expected) <= 5 * math.sqrt(variance / 40_000) + 1e-12
    assert draws.var() == pytest.approx(variance, rel=0.1, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(text=st.sampled_from(list(LAWS)), n=st.integers(1, 50), extra=st.integers(0, 50))
def test_draw_i_does_not_depend_on_how_many_are_drawn(text, n, extra):
    """Prefix-stable: so a sweep over `count` keeps the first games' durations."""
    found = law(text)
    few = found.sample(np.random.default_rng(7), n)
    more = found.sample(np.random.default_rng(7), n + extra)
    assert np.array_equal(few, more[:n])


def test_time_parameters_speak_the_scenario_unit():
    """unit: min → mean 2 is 120 s; "30s" keeps its own unit."""
    scenario = one_group(
        {
            "host_move": {"dist": "exponential", "mean": 2},
            "player_move": {"dist": "uniform", "low": "30s", "high": 1},
        },
        unit="min",
    )
    group = scenario.players[0]
    assert group.host_move.mean == 120.0
    assert (group.player_move.low, group.player_move.high) == (30.0, 60.0)


def test_a_constant_law_is_a_fixed_duration():
    """Not random: no generator needed, and the closed form still applies."""
    constant = {"dist": "constant", "value": 2}
    scenario = one_group({"count": 3, "host_move": constant})
    assert not scenario.random
    assert Workload.of(scenario).duration.tolist() == [2.0, 2.0, 2.0]


def test_fixed_scenarios_draw_nothing_and_random_ones_need_a_generator():
    fixed = polgar_like(3, rounds=2)
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    assert np.array_equal(Workload.of(fixed, rng).duration, Workload.of(fixed).duration)
    assert rng.bit_generator.state == before
    random = one_group({"host_move": {"dist": "exponential", "mean": 1}})
    with pytest.raises(ValueError, match="needs a generator"):
        Workload.of(random)


def test_every_round_draws_its_own_values():
    """3 games × 4 rounds of one random step: 12 distinct draws, the host step fixed."""
    scenario = one_group(
        {"count": 3, "moves": 4, "host_move": 1, "player_move": {"dist": "exponential", "mean": 5}}
    )
    durations = Workload.of(scenario, np.random.default_rng(3)).duration
    assert durations[0::2].tolist() == [1.0] * 12
    assert len(set(durations[1::2].tolist())) == 12


def test_every_schedule_of_a_replication_plays_the_same_durations():
    """Common random numbers: step by step, end − start is the same under both schedules."""
    scenario = one_group(
        {
            "count": 4,
            "moves": 3,
            "host_move": {"dist": "triangular", "low": 1, "mode": 2, "high": 4},
            "player_move": {"dist": "lognormal", "mean": 10, "sd": 4},
        },
        schedules=["synchronous", "cooperative"],
    )
    sync, coop = run(scenario, seed=5).traces
    played = sync.end - sync.start
    assert np.allclose(played, coop.end - coop.start, rtol=0, atol=1e-9)
    assert len(set(np.round(played, 9).tolist())) == len(played)  # drawn, not repeated
    other = run(scenario, seed=6).traces[0]
    assert not np.allclose(played, other.end - other.start, rtol=0, atol=1e-3)


def test_random_scenarios_have_no_closed_form_and_an_estimate_from_expected_durations():
    """3 games, each one wait of mean 10: the article's synchronous estimate is 3 × 10 = 30."""
    scenario = one_group({"count": 3, "player_move": {"dist": "exponential", "mean": 10}})
    summary = run(scenario).summary.set_index("schedule")
    assert summary["closed_form_s"].isna().all()
    assert summary.loc["synchronous", "article_s"] == 30.0


random_laws = st.sampled_from(
    [
        {"dist": "exponential", "mean": 3},
        {"dist": "uniform", "low": 0, "high": 4},
        {"dist": "lognormal", "mean": 2, "sd": 3},
        {"dist": "empirical", "values": [0, 1, 5]},
        {"dist": "normal", "mean": 1, "sd": 2},
    ]
)


@settings(max_examples=30, deadline=None)
@given(
    groups=st.lists(
        st.fixed_dictionaries(
            {
                "count": st.integers(1, 4),
                "moves": st.integers(1, 3),
                "host_move": random_laws,
                "player_move": random_laws,
            }
        ),
        min_size=1,
        max_size=3,
    ),
    seed=st.integers(0, 2**32),
)
def test_with_common_random_numbers_cooperative_never_loses_on_one_host(groups, seed):
    """On one host, synchronous plays every step back to back (makespan = Σ durations);
    a cooperative game ends after its own steps plus, at most, the others' host steps, so
    it is never later. True draw by draw only if both play the same draws."""
    scenario = Scenario(
        players=[{"name": f"g{i}", **g} for i, g in enumerate(groups)],
        schedules=["synchronous", "cooperative"],
    )
    sync, coop = run(scenario, seed=seed).traces
    total = float(sync.workload.duration.sum())
    assert sync.makespan == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert coop.makespan <= sync.makespan + 1e-9 * max(1.0, total)
