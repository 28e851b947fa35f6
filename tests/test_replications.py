"""Replications: independent streams, common random numbers, honest statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.engine import play
from sim.experiment import streams
from sim.experiment.executors import InProcess
from sim.experiment.replications import describe, play_all, summarize
from sim.experiment.runs import run, workload_of
from sim.scenario.model import Scenario
from sim.scenario.schedules import Schedule

EXPONENTIAL = """\
name: three-waits
players:
  - name: task
    count: 3
    player_move: {dist: exponential, mean: 10}
schedules: [synchronous, cooperative]
"""


def three_waits(seed: int = 0, replications: int = 1) -> Scenario:
    """Three games, each one wait step drawn from an exponential law of mean 10 s."""
    return Scenario(
        name="three-waits",
        seed=seed,
        replications=replications,
        players=[{"name": "task", "count": 3, "player_move": {"dist": "exponential", "mean": 10}}],
        schedules=["synchronous", "cooperative"],
    )


def test_replication_streams_are_the_spawned_children_of_the_seed():
    """Replication r's stream is SeedSequence(seed).spawn(…)[r], however it is asked for."""
    children = np.random.SeedSequence(42).spawn(5)
    for r in (0, 3, 4):
        assert np.array_equal(
            streams.replication(42, r).generate_state(4), children[r].generate_state(4)
        )


def test_schedule_streams_are_keyed_by_label_and_replication():
    def draw(seed, r, label):
        return streams.schedule_rng(seed, r, label).random(3).tolist()

    assert draw(1, 0, "cooperative") == draw(1, 0, "cooperative")
    assert draw(1, 0, "cooperative") != draw(1, 0, "synchronous")
    assert draw(1, 0, "cooperative") != draw(1, 1, "cooperative")
    assert draw(1, 0, "cooperative") != draw(2, 0, "cooperative")
    assert streams.workload_rng(1, 0).random() != streams.schedule_rng(1, 0, "").random()


def test_adding_replications_leaves_the_earlier_ones_as_they_were():
    five = play_all([three_waits(seed=7, replications=5)], None, InProcess())
    three = play_all([three_waits(seed=7, replications=3)], None, InProcess())
    pd.testing.assert_frame_equal(five[five["replication"] <= 3].reset_index(drop=True), three)
    assert five["makespan_s"].nunique() > 5  # the replications differ from one another


def test_adding_a_schedule_leaves_the_others_draws_as_they_were():
    """Played alone or beside synchronous, cooperative gives the same figures, to the bit."""
    alone = run(three_waits(), ["cooperative"], seed=3).summary
    both = run(three_waits(), ["synchronous", "cooperative"], seed=3).summary
    pd.testing.assert_frame_equal(alone, both.iloc[[1]].reset_index(drop=True))


def test_describe_gives_sd_t_interval_and_percentiles():
    """1..5: mean 3, sd √2.5 = 1.5811; t(0.975; 4 df) = 2.776445, so the half-width is
    2.776445 × 1.5811 / √5 = 1.9632; p50 = 3; p95 at rank 0.95 × 4 = 3.8 → 4 + 0.8 = 4.8."""
    found = describe(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert found["sd"] == pytest.approx(math.sqrt(2.5))
    assert found["ci_low"] == pytest.approx(3 - half) and found["ci_high"] == pytest.approx(
        3 + half
    )
    assert (found["p50"], found["p95"]) == (3.0, pytest.approx(4.8))


def test_one_replication_has_no_spread():
    found = describe(np.array([12.5]))
    assert math.isnan(found["sd"]) and math.isnan(found["ci_low"])
    assert found["p50"] == found["p95"] == 12.5


def test_200_replications_of_an_exponential_scenario_cover_the_analytic_means():
    """Three waits X1, X2, X3 ~ exponential(mean 10), one game each.

    synchronous: makespan X1+X2+X3, mean 30, sd 10·√3 = 17.32; games end at X1,
    X1+X2, X1+X2+X3, so the mean game is (3·X1 + 2·X2 + X3)/3, mean 20.
    cooperative: makespan max(X1, X2, X3), mean 10·(1 + 1/2 + 1/3) = 18.33, sd
    10·√(1 + 1/4 + 1/9) = 11.67; the mean game is (X1+X2+X3)/3, mean 10.
    Each analytic mean must lie in its 95 % interval, and each sd within 20 %.
    """
    runs = play_all([three_waits(replications=200)], None, InProcess())
    summary = summarize(runs, ["schedule"], seeds=[0]).set_index("schedule")
    expected = {
        ("synchronous", "makespan"): (30.0, 10 * math.sqrt(3)),
        ("synchronous", "mean_game"): (20.0, None),
        ("cooperative", "makespan"): (10 * (1 + 1 / 2 + 1 / 3), 10 * math.sqrt(1 + 1 / 4 + 1 / 9)),
        ("cooperative", "mean_game"): (10.0, None),
    }
    for (schedule, figure), (mean, sd) in expected.items():
        row = summary.loc[schedule]
        assert row[f"{figure}_ci_low_s"] <= mean <= row[f"{figure}_ci_high_s"], (schedule, figure)
        if sd is not None:
            assert row[f"{figure}_sd_s"] == pytest.approx(sd, rel=0.2)
    assert (summary["replications"] == 200).all()


def test_run_with_replications_writes_their_rows_and_their_means(tmp_path):
    """replications.csv: 4 replications × 2 schedules; summary.csv holds their means,
    games.csv replication 1 (its last game ends at replication 1's makespan)."""
    file = tmp_path / "three.yaml"
    file.write_text(EXPONENTIAL)
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["run", str(file), "-r", "4", "-j", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    runs = pd.read_csv(out / "replications.csv")
    summary = pd.read_csv(out / "summary.csv").set_index("schedule")
    games = pd.read_csv(out / "games.csv")
    assert runs["replication"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    means = runs.groupby("schedule")["makespan_s"].mean()
    for schedule in ("synchronous", "cooperative"):
        assert summary.loc[schedule, "makespan_s"] == pytest.approx(means[schedule], rel=1e-12)
        first = runs[(runs["replication"] == 1) & (runs["schedule"] == schedule)]
        last_end = games.loc[games["schedule"] == schedule, "end_s"].max()
        assert last_end == pytest.approx(first["makespan_s"].iloc[0], rel=1e-12)
    assert (summary["replications"] == 4).all()
    assert "4 replications, seed 0" in result.stdout


def test_seed_decides_and_same_seed_gives_the_same_bytes(tmp_path):
    file = tmp_path / "three.yaml"
    file.write_text(EXPONENTIAL)

    def files(name: str, *extra: str) -> dict[str, bytes]:
        out = tmp_path / name
        args = ["run", str(file), "-r", "3", "-j", "1", "--out", str(out), *extra]
        assert CliRunner().invoke(app, args).exit_code == 0
        return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "run.json"}

    assert files("a") == files("b")
    assert files("a") == files("c", "--seed", "0")
    assert files("a")["replications.csv"] != files("d", "--seed", "1")["replications.csv"]


def test_a_threaded_schedule_draws_its_gil_handoffs_from_its_own_stream():
    """Four games of host 20 ms, wait 10 ms, host 20 ms on four threads under the GIL
    (5 ms slices): who takes the GIL at each handoff is drawn from the schedule's own
    stream, `streams.schedule_rng(seed, replication, label)`. The durations are fixed, so
    every run here plays the same workload and only those draws tell the game ends apart."""
    scenario = Scenario(
        name="gil",
        players=[
            {"name": "t", "count": 4, "steps": [{"host": 0.02}, {"wait": 0.01}, {"host": 0.02}]}
        ],
        schedules=["threaded"],
    )
    # threads=4 plays exactly as the default (one thread per game): only its label differs
    four = Schedule.of("threaded", threads=4)

    def ends(schedules, label="threaded", seed=0, replication=0) -> list[float]:
        result = run(scenario, schedules, seed=seed, replication=replication)
        return result.trace(label).game_ends().tolist()

    assert workload_of(scenario, 0).duration.tolist() == workload_of(scenario, 1).duration.tolist()
    mine = ends(["threaded"])
    drawn = play(
        workload_of(scenario, 0), Schedule.of("threaded"), streams.schedule_rng(0, 0, "threaded")
    )
    assert mine == drawn.game_ends().tolist()
    # by kind or as a model, alone, first or last: the same label, the same stream
    assert ends([Schedule.of("threaded")]) == mine
    assert ends(["threaded", four]) == mine
    assert ends([four, "threaded"]) == mine
    # the same play under another label, seed or replication draws other handoffs
    assert ends(["threaded", four], label=four.label) != mine
    assert ends(["threaded"], seed=1) != mine
    assert ends(["threaded"], replication=1) != mine


def test_summary_statistics_are_describe_of_each_group():
    """The table's figures per point and schedule equal the plain reading, `describe`."""
    points = [three_waits(seed=s, replications=r) for s, r in ((1, 6), (2, 1), (3, 4))]
    runs = play_all(points, None, InProcess())
    table = summarize(runs, ["point", "schedule"], seeds=[1, 2, 3])
    assert table["seed"].tolist() == [1, 1, 2, 2, 3, 3]
    assert table["replications"].tolist() == [6, 6, 1, 1, 4, 4]
    for row in table.to_dict("records"):
        mine = runs[(runs["point"] == row["point"]) & (runs["schedule"] == row["schedule"])]
        assert row["makespan_s"] == pytest.approx(mine["makespan_s"].mean(), rel=1e-12)
        for name, value in describe(mine["mean_game_s"].to_numpy()).items():
            assert row[f"mean_game_{name}_s"] == pytest.approx(value, rel=1e-12, nan_ok=True)
