"""Tables of games that share resources and queues: the figures worked out by hand."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.runs import run
from sim.output.bottleneck import bottleneck_note
from sim.output.result_files import write_results
from sim.results import explanations
from sim.results.tables import GAME_COLUMNS, STEP_COLUMNS, SUMMARY_COLUMNS
from sim.scenario.loader import from_yaml, load_file
from tests.conftest import SCENARIOS

#: 4 games, each holding one of 2 db connections through a 1 s wait and a 1 s host step.
DB = """
name: db
resources: {db: 2}
players:
  - {name: p, count: 4, steps: [{with: db, steps: [{wait: 1}, {host: 1}]}]}
schedules: [synchronous, cooperative]
"""

#: A maker puts 3 jobs (1 s of host each) into a queue of 1; a worker takes 2 s per job.
QUEUE = """
queues: {jobs: {maxsize: 1}}
players:
  - {name: maker, moves: 3, steps: [{host: 1}, {put: jobs}]}
  - {name: worker, serves: jobs, steps: [{wait: 2}]}
schedules: [cooperative]
"""


def by_player(table: pd.DataFrame, schedule: str) -> pd.DataFrame:
    return table[table["schedule"] == schedule].set_index("player")


def test_four_games_through_two_connections_cooperative():
    """By hand, cooperative on one host (tie rule: file order):

    t=0  p-1 and p-2 get the 2 connections and wait 1 s; p-3, p-4 wait for one.
    t=1  p-1 and p-2 ask for the host: p-1 1–2, p-2 waits 1 s, 2–3.
    t=2  p-1 ends, gives its connection to p-3 (waited 2 s): wait 2–3.
    t=3  p-2 ends, connection to p-4 (waited 3 s): wait 3–4; p-3 gets the host 3–4.
    t=4  p-3 ends; p-4 asks for the host at 4: 4–5. Makespan 5 s.

    Per game: host 1, wait 1; waiting for the host 0, 1, 0, 0; for db 0, 0, 2, 3; ends
    2, 3, 4, 5 = host + wait + wait for host + wait for db. db held 0–2, 0–3, 2–4, 3–5:
    9 connection-seconds of 2 × 5 = 10, utilization 0.9; its waits 0, 0, 2, 3: mean
    1.25, max 3. Host: 4 s of 5, 0.8; mean game (2 + 3 + 4 + 5)/4 = 3.5.
    """
    result = run(from_yaml(DB), ["cooperative"])
    games = by_player(result.games, "cooperative")
    assert games["end_s"].tolist() == [2.0, 3.0, 4.0, 5.0]
    assert games["wait_for_host_s"].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert games["wait_for_db_s"].tolist() == [0.0, 0.0, 2.0, 3.0]
    assert set(games["host_s"]) == set(games["wait_s"]) == {1.0}
    (row,) = result.summary.to_dict("records")
    assert row["makespan_s"] == 5.0 and row["mean_game_s"] == 3.5
    assert row["host_utilization"] == 0.8
    assert row["db_utilization"] == 0.9
    assert (row["db_mean_wait_s"], row["db_max_wait_s"]) == (1.25, 3.0)
    assert list(result.summary.columns) == [
        *SUMMARY_COLUMNS, "db_utilization", "db_mean_wait_s", "db_max_wait_s",
    ]  # fmt: skip
    assert list(result.games.columns) == [*GAME_COLUMNS, "wait_for_db_s"]


def test_steps_name_the_resource_of_with_rows_only():
    """Each game: a `with` row (step 1) around its wait (2) and host (3) steps."""
    steps = run(from_yaml(DB), ["cooperative"]).steps
    assert list(steps.columns) == [*STEP_COLUMNS, "resource"]
    assert steps["kind"].tolist() == ["with", "wait", "host"] * 4
    assert steps["step"].tolist() == [1, 2, 3] * 4
    assert steps["resource"].astype(object).fillna("").tolist() == ["db", "", ""] * 4
    p4 = steps[steps["player"] == "p-4"]
    # p-4 asked at 0, got a connection at 3, gave it back at 5
    assert p4[["ready_s", "start_s", "end_s"]].iloc[0].tolist() == [0.0, 3.0, 5.0]


def test_a_queue_s_length_and_waits():
    """By hand, cooperative on one host; the queue settles at the end of each instant:

    t=0  the maker's host step 0–1; the worker asks for a job (the queue is empty).
    t=1  job 1 put and taken at once: the worker waited 1 s; it works 1–3.
    t=2  job 2 put: 1 in the queue.
    t=3  the worker takes job 2 and job 3 goes in (the queue was full, it is not
         once the instant settles): still 1; the maker ends.
    t=5  the worker takes job 3: 0 left; it works 5–7.
    t=7  the worker finds the queue closed: it ends. Makespan 7 s.

    Length 1 from 2 to 5: 3 item-seconds over 7 s, mean 3/7, max 1. Waits of the 3
    puts and 4 gets: 0, 0, 0 and 1, 0, 0, 0: mean 1/7, max 1. The worker: 6 s of waits
    and 1 s waiting for jobs, 7 s in all.
    """
    result = run(from_yaml(QUEUE))
    (row,) = result.summary.to_dict("records")
    assert row["makespan_s"] == 7.0
    assert row["jobs_mean_length"] == pytest.approx(3 / 7, abs=1e-15)
    assert row["jobs_max_length"] == 1.0
    assert row["jobs_mean_wait_s"] == pytest.approx(1 / 7, abs=1e-15)
    assert row["jobs_max_wait_s"] == 1.0
    assert row["host_utilization"] == pytest.approx(3 / 7, abs=1e-15)
    games = by_player(result.games, "cooperative")
    assert games.loc["worker", ["end_s", "wait_s", "wait_for_jobs_s"]].tolist() == [7, 6, 1]
    assert games.loc["maker", ["end_s", "host_s", "wait_for_jobs_s"]].tolist() == [3, 3, 0]
    kinds = result.steps.groupby("kind", observed=True).size().to_dict()
    assert kinds == {"host": 3, "wait": 3, "put": 3, "get": 4}


def test_units_count_in_the_utilization():
    """db of 2: `big` holds both units 0–1; `small` (1 unit) waits for it, holds 1–2.
    (2 × 1 + 1 × 1) unit-seconds of 2 × 2 = 0.75."""
    text = """
resources: {db: 2}
players:
  - {name: big, steps: [{with: {resource: db, units: 2}, steps: [{wait: 1}]}]}
  - {name: small, steps: [{with: db, steps: [{wait: 1}]}]}
schedules: [cooperative]
"""
    (row,) = run(from_yaml(text)).summary.to_dict("records")
    assert (row["makespan_s"], row["db_utilization"], row["db_max_wait_s"]) == (2.0, 0.75, 1.0)


def test_a_game_ends_with_its_last_child_not_its_last_row():
    """Two children of a gather wait drawn times; when the second draws the shorter, the
    game's last row ends before the game does. end_s is the latest end of its rows."""
    text = """
seed: 1
players:
  - name: g
    count: 3
    steps: [{gather: {count: 2, steps: [{wait: {dist: exponential, mean: 1}}]}}]
schedules: [cooperative]
"""
    result = run(from_yaml(text))
    steps, games = result.steps, by_player(result.games, "cooperative")
    latest = steps.groupby("player", observed=True)["end_s"].max()
    last = steps.groupby("player", observed=True)["end_s"].last()
    assert games["end_s"].to_dict() == latest.to_dict()
    assert (last < latest).any()  # seed 1 draws it so: the old reading would be wrong
    # a gather row spans its children: from the fork to the join
    gathers = steps[steps["kind"] == "gather"].set_index("player")
    assert gathers["end_s"].to_dict() == latest.to_dict()


def test_a_scenario_that_shares_nothing_keeps_its_columns_and_figures():
    """polgar: the contract's columns exactly, in the files too."""
    result = run(load_file(SCENARIOS / "polgar.yaml"))
    assert list(result.summary.columns) == list(SUMMARY_COLUMNS)
    assert list(result.games.columns) == list(GAME_COLUMNS)
    assert list(result.steps.columns) == list(STEP_COLUMNS)
    summary = result.summary.set_index("schedule")
    assert summary.loc["cooperative", "article_s"] == 3_600.0
    assert summary.loc["synchronous", "closed_form_s"] == 43_200.0


def test_summary_csv_carries_the_figures_through_replications(tmp_path):
    """`sim run -r 2`: fixed durations, so the mean of two replications is 0.9 again."""
    path = tmp_path / "db.yaml"
    path.write_text(DB, encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "-r", "2", "-j", "1"])
    assert done.exit_code == 0, done.output
    summary = pd.read_csv(out / "summary.csv").set_index("schedule")
    assert summary.loc["cooperative", "db_utilization"] == 0.9
    assert list(summary.columns).index("db_utilization") == len(SUMMARY_COLUMNS) - 1
    replications = pd.read_csv(out / "replications.csv")
    assert replications.columns[-3:].tolist() == [
        "db_utilization",
        "db_mean_wait_s",
        "db_max_wait_s",
    ]
    games = pd.read_csv(out / "games.csv")
    assert games.columns[-1] == "wait_for_db_s"


def test_a_name_that_would_repeat_a_column_is_prefixed():
    """A resource called `host` would give `host_utilization` and `wait_for_host_s` twice."""
    text = """
resources: {host: 1}
players:
  - {name: p, count: 2, steps: [{with: host, steps: [{wait: 1}]}]}
schedules: [cooperative]
"""
    result = run(from_yaml(text))
    (row,) = result.summary.to_dict("records")
    assert row["host_utilization"] == 0.0  # no host steps at all
    assert row["resource_host_utilization"] == 1.0  # held 0–1 and 1–2 of 2 s
    assert result.games["wait_for_resource_host_s"].tolist() == [0.0, 1.0]


def test_no_article_estimate_nor_closed_form_for_games_that_wait_for_one_another():
    """Their formulas assume independent games: empty cells, and no sentence about them."""
    result = run(from_yaml(DB))
    assert result.summary["article_s"].isna().all()
    assert result.summary["closed_form_s"].isna().all()
    assert explanations.article_notes(result) == []
    assert explanations.explanations(result) == []


def test_the_bottleneck_is_played_again_with_its_capacity_doubled():
    """One db, two games each holding it through a 1 s wait: 2 s, db always busy; with
    2 connections both wait at once: 1 s. In DB above, doubling 2 → 4 lets all four wait
    at once, but they still queue for the one host 1–5: the makespan stays 5 s."""
    one = """
resources: {db: 1}
players:
  - {name: p, count: 2, steps: [{with: db, steps: [{wait: 1}]}]}
schedules: [cooperative]
"""
    assert bottleneck_note(run(from_yaml(one))) == (
        "Under cooperative, the busiest resource, db, was busy 100.0 % of the time; "
        "raising its limit from 1 to 2 would take the makespan from 2 s to 1 s (2.00× faster)."
    )
    assert bottleneck_note(run(from_yaml(DB))) == (
        "Under cooperative, the busiest resource, db, was busy 90.0 % of the time; "
        "raising its limit from 2 to 4 would leave the makespan at 5 s: db is not what "
        "holds the games back."
    )


def test_with_no_resource_the_fullest_queue_is_played_with_twice_its_consumers():
    """QUEUE by hand: puts at 1, 2, 3 (the last waits for room until 3); the worker takes
    at 1, 3, 5, waiting 2 s each, and ends when the queue closes at 7. The queue holds
    one item from 2 to 5: 3 s of 7, 0.429 on average. Two workers take at 1, 2 and 3 and
    are done at 5: the makespan goes from 7 s to 5 s (1.40× faster)."""
    assert bottleneck_note(run(from_yaml(QUEUE))) == (
        "Under cooperative, queue jobs held 0.429 items on average (at most 1); doubling "
        "the worker group that serves it from 1 to 2 players would take the makespan from "
        "7 s to 5 s (1.40× faster)."
    )


def test_comparisons_claim_no_reason_when_games_wait_for_one_another():
    """One db: cooperative is no faster than synchronous (2 s both); the usual reasons
    (no waiting to overlap, a host each) would not hold, so none is given."""
    text = """
resources: {db: 1}
players:
  - {name: p, count: 2, steps: [{with: db, steps: [{wait: 1}]}]}
schedules: [synchronous, cooperative]
"""
    assert explanations.comparisons(run(from_yaml(text))) == [
        "cooperative is no faster than synchronous (2 s against 2 s)."
    ]


def test_the_files_of_a_shared_run_are_written_whole(tmp_path):
    """games.csv, steps.csv and summary.csv of a run with a queue, read back."""
    result = run(from_yaml(QUEUE))
    write_results(result, tmp_path, plots=False)
    steps = pd.read_csv(tmp_path / "steps.csv")
    assert steps["resource"].fillna("").tolist()[:2] == ["", "jobs"]
    header = (tmp_path / "summary.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",jobs_mean_length,jobs_max_length,jobs_mean_wait_s,jobs_max_wait_s")
    assert pd.read_csv(io.StringIO((tmp_path / "games.csv").read_text())).shape == (2, 11)


timed = st.sampled_from(["host", "wait"])
durations = st.integers(0, 3)
leaf = st.builds(lambda kind, d: {kind: d}, timed, durations)
held = st.builds(
    lambda name, inner: {"with": name, "steps": inner},
    st.sampled_from(["a", "b"]),
    st.lists(leaf, min_size=1, max_size=2),
)
group = st.fixed_dictionaries(
    {
        "count": st.integers(1, 4),
        "moves": st.integers(1, 3),
        "steps": st.lists(st.one_of(leaf, held), min_size=1, max_size=3),
    }
)


@settings(max_examples=40, deadline=None)
@given(
    groups=st.lists(group, min_size=1, max_size=3),
    capacity=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    hosts=st.integers(1, 2),
)
def test_without_gathers_a_game_s_time_is_the_sum_of_where_it_went(groups, capacity, hosts):
    """Every game is handed in at 0 and its rows follow one another, so its end is its
    host, wait and block time plus its waits for a host and for each resource; and a
    resource's utilization is the steps table's held seconds over capacity × makespan."""
    from sim.scenario.model import Scenario

    scenario = Scenario(
        host={"count": hosts},
        resources={"a": capacity[0], "b": capacity[1]},
        players=groups,
        schedules=["synchronous", "cooperative", "threaded", "parallel"],
    )
    result = run(scenario)
    games = result.games
    total = games[["host_s", "wait_s", "block_s", "wait_for_host_s"]].sum(axis=1)
    total += games["wait_for_a_s"] + games["wait_for_b_s"]
    assert np.allclose(games["end_s"], total, rtol=1e-9, atol=1e-9)
    steps = result.steps
    for row in result.summary.to_dict("records"):
        mine = steps[steps["schedule"] == row["schedule"]]
        for name, units in (("a", capacity[0]), ("b", capacity[1])):
            rows = mine[(mine["kind"] == "with") & (mine["resource"] == name)]
            busy = float((rows["end_s"] - rows["start_s"]).sum())
            expected = busy / (units * row["makespan_s"]) if row["makespan_s"] else 0.0
            assert row[f"{name}_utilization"] == pytest.approx(expected, abs=1e-12)
            assert row[f"{name}_utilization"] <= 1 + 1e-9
