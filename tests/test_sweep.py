"""`sim sweep`: a grid of what-ifs in one command, from the command line or the file."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.experiment.replications import RECORD_COLUMNS, STATISTIC_COLUMNS
from sim.results.sweep_lines import by_schedule
from sim.results.tables import SUMMARY_COLUMNS
from tests.conftest import SCENARIOS
from tests.helpers import sim_run

R, C, W = 30, 5, 55  # polgar: 30 rounds, Judit 5 s, each amateur 55 s

SMALL = """\
name: small
players:
  - name: a
    count: 1
    moves: 2
    host_move: 1
    player_move: 4
  - name: b
    host_move: 2
    player_move: 3
schedules: [synchronous, cooperative]
sweep:
  players.a.count: 1..3
"""


def sweep(tmp_path, *args: str) -> tuple[pd.DataFrame, str]:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", *args, "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "sweep.csv", keep_default_na=False), result.stdout


@pytest.fixture(scope="module")
def knee(tmp_path_factory) -> tuple[pd.DataFrame, str]:
    return sweep(tmp_path_factory.mktemp("knee"), "polgar", "--vary", "players.amateur.count=1..48")


def test_count_sweep_follows_both_closed_forms_at_every_point(knee):
    """Synchronous n·R·(c+w); cooperative max(n·R·c + w, R·(c+w) + (n−1)·c), n = 1…48."""
    table, _ = knee
    assert table["players.amateur.count"].tolist() == [n for n in range(1, 49) for _ in (0, 1)]
    for n, part in table.groupby("players.amateur.count"):
        figures = dict(zip(part["schedule"], part["makespan_s"], strict=True))
        assert figures["synchronous"] == n * R * (C + W)
        assert figures["cooperative"] == max(n * R * C + W, R * (C + W) + (n - 1) * C)
        assert (part["closed_form_s"] == part["makespan_s"]).all()


def test_the_knee_is_at_n_equals_c_plus_w_over_c(knee):
    """n = (5 + 55)/5 = 12: cooperative 1 800 s at 1, 1 855 s at 12 (1 800 + 11·5), then
    +150 s (R·c) a player: 2 005 s at 13, 3 655 s at 24; synchronous +1 800 s a player."""
    table, _ = knee
    coop = table[table["schedule"] == "cooperative"].set_index("players.amateur.count")
    sync = table[table["schedule"] == "synchronous"].set_index("players.amateur.count")
    assert coop.loc[1, "makespan_s"] == 1_800 and coop.loc[12, "makespan_s"] == 1_855
    assert coop.loc[13, "makespan_s"] == 2_005 and coop.loc[24, "makespan_s"] == 3_655
    steps = coop["makespan_s"].diff().dropna()
    assert (steps.loc[2:12] == C).all()  # below the knee only the last game's start moves
    assert (steps.loc[13:] == R * C).all()
    assert (sync["makespan_s"].diff().dropna() == R * (C + W)).all()


def test_the_pivot_has_the_varied_field_down_and_schedules_across(knee):
    _, printed = knee
    header = next(line for line in printed.splitlines() if "players.amateur.count" in line)
    assert header.index("synchronous") < header.index("cooperative")
    row_12 = next(line for line in printed.splitlines() if "│                    12 │" in line)
    assert "21 600 s" in row_12 and "1 855 s" in row_12


def test_a_swept_parameter_of_a_schedule_keeps_it_one_column_and_one_line(tmp_path):
    """Two games of 1 s of Python on 2 CPUs without the GIL: one thread plays them one
    after the other (2 s), two side by side (1 s). sweep.csv keeps each point's label;
    the pivot and the picture follow `threaded(gil=false)` across the points."""
    file = tmp_path / "two.yaml"
    file.write_text(
        "host: {count: 2}\nplayers:\n  - {count: 2, host_move: 1}\n"
        "schedules: [cooperative, {threaded: {gil: false}}]\n"
    )
    table, printed = sweep(tmp_path, str(file), "--vary", "schedules.threaded.threads=1,2")
    threaded = table[table["schedule"].str.startswith("threaded")]
    assert dict(zip(threaded["schedule"], threaded["makespan_s"], strict=True)) == {
        "threaded(threads=1, gil=false)": 2.0,
        "threaded(threads=2, gil=false)": 1.0,
    }
    header = next(line for line in printed.splitlines() if "schedules.threaded.threads" in line)
    assert "threaded(gil=false)" in header and "threads=1" not in header
    rows = [line for line in printed.splitlines() if line.startswith("│")]
    assert [row.split("│")[3].strip() for row in rows] == ["2 s", "1 s"]


def test_schedules_a_sweep_would_make_one_keep_their_labels():
    """Two schedules of one kind that differ only in the swept parameter stay apart."""
    table = pd.DataFrame(
        {
            "schedules[0].threaded.threads": [1, 1],
            "schedule": ["threaded(threads=1)", "threaded(threads=8)"],
        }
    )
    assert by_schedule(table, ["schedules[0].threaded.threads"]) is table


def test_sweep_csv_columns_are_the_varied_values_then_the_summary(tmp_path):
    table, _ = sweep(
        tmp_path, "polgar", "--vary", "players.amateur.count=1,2", "--vary", "host_move=1,5"
    )
    varied = ["players.amateur.count", "host_move"]
    assert list(table.columns) == [*varied, *SUMMARY_COLUMNS, *STATISTIC_COLUMNS, *RECORD_COLUMNS]
    points = list(zip(table["players.amateur.count"], table["host_move"], strict=True))
    assert points[::2] == [(1, 1), (1, 5), (2, 1), (2, 5)]  # first axis slowest
    # 2 players, host_move 1: synchronous 2 × 30 × (1 + 55) = 3 360 s
    assert table.loc[4, "makespan_s"] == 3_360.0 and table.loc[4, "schedule"] == "synchronous"


def test_a_files_sweep_block_is_the_grid_and_vary_replaces_its_path(tmp_path):
    """Group a (count n, 2 rounds of 1 + 4) and b (1 round of 2 + 3), synchronous:
    n·2·5 + 5 = 10n + 5, so 15, 25, 35 for n = 1..3; --vary a.count=5 gives 55 only."""
    file = tmp_path / "small.yaml"
    file.write_text(SMALL)
    table, _ = sweep(tmp_path, str(file))
    sync = table[table["schedule"] == "synchronous"]
    assert sync["players.a.count"].tolist() == [1, 2, 3]
    assert sync["makespan_s"].tolist() == [15.0, 25.0, 35.0]
    table, _ = sweep(tmp_path, str(file), "--vary", "players.a.count=5", "--vary", "moves=1")
    assert table[table["schedule"] == "synchronous"]["makespan_s"].tolist() == [30.0]


def test_set_applies_at_every_point_and_is_recorded(tmp_path):
    """host.count=2 at every point: synchronous ⌈n/2⌉·1 800 s → 1 800, 1 800, 3 600 for n = 1..3."""
    table, printed = sweep(
        tmp_path, "polgar", "--vary", "players.amateur.count=1..3", "--set", "host.count=2"
    )
    sync = table[table["schedule"] == "synchronous"]
    assert sync["makespan_s"].tolist() == [1_800.0, 1_800.0, 3_600.0]
    assert set(table["overrides"]) == {"host.count=2"}
    assert "with --set host.count=2" in printed


def test_the_shipped_what_if_file_validates_its_whole_grid():
    result = CliRunner().invoke(app, ["validate", "polgar-whatif"])
    assert result.exit_code == 0, result.output
    assert "a sweep of 48 points" in result.stdout


BAD = {
    # arguments: (start of the first error line, words in it)
    ("--vary", "players.amateur.count=0..2"): (
        "--vary players.amateur.count: players[0].count: ",
        ["expected a number ≥ 1, got 0"],
    ),
    ("--vary", "host_move=1,fast"): (
        "--vary host_move: players[0].host_move: ",
        ['got "fast"'],
    ),
    ("--vary", "players.pro.count=1..3"): ("--vary players.pro.count: players: ", ["'pro'"]),
    ("--vary", "count=1..3"): ("--vary count: ", ["ambiguous"]),
    ("--vary", "moves=1..3:0"): ("--vary moves: ", ["step > 0"]),
    ("--vary", "moves"): ("--vary: ", ["expected PATH=VALUES"]),
    (): ("nothing to vary", []),
}


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) or "no axes" for a in BAD])
def test_a_bad_sweep_is_a_clear_error_before_anything_runs(args, tmp_path):
    prefix, words = BAD[args]
    result = CliRunner().invoke(app, ["sweep", "polgar", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(prefix), first
    assert all(word in first for word in words), first
    assert not (tmp_path / "o").exists()


def test_a_bad_point_of_a_files_sweep_names_the_sweep_line(tmp_path):
    file = tmp_path / "small.yaml"
    file.write_text(SMALL.replace("1..3", "0..1").replace("players.a.count", "players.c.count"))
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{file}:13: players: no player group 'c'")
    file.write_text(SMALL.replace("1..3", "0..1"))
    result = CliRunner().invoke(app, ["sweep", str(file), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{file}:13: players[0].count: expected a number ≥ 1, got 0")


def test_run_plays_the_file_without_its_sweep_and_says_how_to_sweep(tmp_path):
    copy = tmp_path / "small.yaml"
    copy.write_text(SMALL)
    result, summary = sim_run(copy, tmp_path / "o")
    assert "has a sweep: block; `sim sweep" in result.stdout
    assert summary["makespan_s"].iloc[0] == 15.0  # the file's own count, 1


def test_the_results_go_under_results_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(SCENARIOS / "countasync.yaml", tmp_path / "countasync.yaml")
    result = CliRunner().invoke(
        app, ["sweep", "countasync.yaml", "--vary", "players.count.count=1,2", "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "countasync" / "sweep.csv").is_file()


def test_a_sweep_point_is_the_run_with_the_same_values_seed_included(tmp_path):
    """Varying `seed` gives each point its own streams; each point's figures are those of
    `sim run --seed S` (a point is the run, nothing else)."""
    file = tmp_path / "noisy.yaml"
    text = SMALL.split("sweep:")[0]
    file.write_text(text.replace("player_move: 4", "player_move: {dist: exponential, mean: 4}"))
    table, _ = sweep(tmp_path, str(file), "--vary", "seed=1,2", "-r", "3")
    assert table["seed"].tolist() == [1, 1, 2, 2]
    assert table["replications"].tolist() == [3, 3, 3, 3]
    for seed in (1, 2):
        out = tmp_path / f"run{seed}"
        args = ["run", str(file), "--seed", str(seed), "-r", "3", "-j", "1", "--out", str(out)]
        assert CliRunner().invoke(app, args).exit_code == 0
        ran = pd.read_csv(out / "summary.csv", keep_default_na=False)
        point = table[table["seed"] == seed].reset_index(drop=True)
        assert point["makespan_s"].tolist() == ran["makespan_s"].tolist()
    assert table["makespan_s"].iloc[0] != table["makespan_s"].iloc[2]


# `sim.sweep`, the API: the same points, streams and table as `sim sweep`.


def sweep_csv(tmp_path, *args: str) -> str:
    """The sweep.csv `sim sweep ARGS` writes, as text."""
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["sweep", *args, "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return (out / "sweep.csv").read_text()


def as_csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, lineterminator="\n")


def test_the_api_gives_the_table_sim_sweep_writes(tmp_path):
    """2 players, host_move 1: synchronous 2 × 30 × (1 + 55) = 3 360 s (row 4, as above)."""
    table = sim.sweep(sim.load("polgar"), {"players.amateur.count": [1, 2], "host_move": [1, 5]})
    assert as_csv(table) == sweep_csv(
        tmp_path, "polgar", "--vary", "players.amateur.count=1,2", "--vary", "host_move=1,5"
    )
    assert table.loc[4, "makespan_s"] == 3_360.0 and table.loc[4, "schedule"] == "synchronous"


def test_the_api_plays_the_same_streams_and_replications(tmp_path):
    """A random file of 3 replications: each seed's figures are the command's, and differ."""
    file = tmp_path / "noisy.yaml"
    text = SMALL.split("sweep:")[0].replace(
        "player_move: 4", "player_move: {dist: exponential, mean: 4}"
    )
    file.write_text(text + "replications: 3\n")
    table = sim.sweep(sim.load(file), {"seed": [1, 2]})
    assert as_csv(table) == sweep_csv(tmp_path, str(file), "--vary", "seed=1,2")
    assert table["replications"].tolist() == [3, 3, 3, 3]
    assert table["makespan_s"].iloc[0] != table["makespan_s"].iloc[2]
    seeded = sim.sweep(sim.load(file), {"players.a.count": [1, 2]}, seed=2)
    assert as_csv(seeded) == sweep_csv(
        tmp_path, str(file), "--vary", "players.a.count=1,2", "--seed", "2"
    )


def test_the_api_records_the_what_ifs_the_scenario_was_made_with(tmp_path):
    """host.count=2: synchronous ⌈n/2⌉·1 800 s → 1 800, 3 600 s for n = 1, 3; as `--set`."""
    doubled = sim.with_values(sim.load("polgar"), {"host.count": 2})
    table = sim.sweep(doubled, {"players.amateur.count": [1, 3]})
    assert as_csv(table) == sweep_csv(
        tmp_path, "polgar", "--set", "host.count=2", "--vary", "players.amateur.count=1,3"
    )
    sync = table[table["schedule"] == "synchronous"]
    assert sync["makespan_s"].tolist() == [1_800.0, 3_600.0]
    assert set(table["overrides"]) == {"host.count=2"}


def test_the_api_grid_takes_star_unit_and_the_grid_grammar():
    """Synchronous 24 × moves × 60 s: 1 440, 2 880 s; under unit: min × 60: 86 400, 172 800 s.
    A spec "1..3" is the counts 1, 2, 3: 1 800 s a player."""
    table = sim.sweep(
        sim.load("polgar"),
        {"unit": ["s", "min"], "players.*.moves": [1, 2]},
        schedules=["synchronous"],
    )
    assert table["makespan_s"].tolist() == [1_440.0, 2_880.0, 86_400.0, 172_800.0]
    table = sim.sweep(sim.load("polgar"), {"players.amateur.count": "1..3"}, ["synchronous"])
    assert table["players.amateur.count"].tolist() == [1, 2, 3]
    assert table["makespan_s"].tolist() == [1_800.0, 3_600.0, 5_400.0]


API_BAD = {
    "players.amateur.count": (
        [0, 1],
        "sweep players.amateur.count: players[0].count: expected a number ≥ 1, got 0",
    ),
    "moves": ([], "sweep moves: expected at least one value"),
    "count": ([1], "sweep count: 'count' alone is ambiguous"),
    "players.pro.count": ([1], "sweep players.pro.count: players: no player group 'pro'"),
}


@pytest.mark.parametrize("path", API_BAD)
def test_a_bad_api_grid_is_named_as_the_command_names_it(path):
    values, start = API_BAD[path]
    with pytest.raises(sim.ScenarioError) as caught:
        sim.sweep(sim.load("polgar"), {path: values})
    assert str(caught.value).startswith(start), str(caught.value)


def test_the_rows_come_in_point_and_replication_order_whatever_the_batches():
    """Batches go out longest first, several a point (2 workers, 4 points: about
    8 × 2 / 4 = 4 a point, so 6 replications go as 3 batches of 2); the rows come back by
    point, then replication, then schedule as the file lists them: 4 × 6 × 2 = 48 rows."""
    from sim.experiment.executors import InProcess
    from sim.experiment.replications import batches, play_all

    small = sim.from_yaml(SMALL)
    points = [
        sim.with_values(small, {"players.a.count": n, "replications": 6}) for n in (3, 1, 2, 1)
    ]
    executor = InProcess()
    executor.workers = 2
    assert len(batches(points, None, 2)) == 12
    runs = play_all(points, None, executor)
    keys = list(zip(runs["point"], runs["replication"], runs["schedule"], strict=True))
    expected = [
        (p, r, s) for p in range(4) for r in range(1, 7) for s in ("synchronous", "cooperative")
    ]
    assert keys == expected


@pytest.mark.parametrize(
    "vary",
    [
        ["players.a.count=1..3"],
        ["players.a.count=1,2", "host_move=0.5..1:0.5"],
        ["host_move=1,2.5"],  # whole and not: pandas writes 1.0
        ["name=x,y"],
        ["player_move=[4, {dist: exponential, mean: 4}]"],  # numbers and text: pandas' own
    ],
    ids=["counts", "floats", "mixed", "text", "mixed-objects"],
)
def test_the_rows_text_the_workers_write_is_the_bytes_of_the_table(vary, tmp_path):
    """sweep_replications.csv is joined from the text each batch wrote of its rows, behind
    its point's values: the bytes `to_csv` writes for the sweep's table of runs."""
    from sim.experiment import sweeps
    from sim.experiment.executors import InProcess
    from sim.results.columns import Columns

    file = tmp_path / "small.yaml"
    file.write_text(SMALL + "replications: 3\n")
    base = sim.load(file)
    document, _ = sweeps.origin(base)
    grid = sweeps.axes(document, base, vary)
    found = sweeps.play(sweeps.expand(document, [], grid), None, InProcess())
    expected = found.runs.to_csv(index=False, lineterminator="\n")
    if found.runs_csv is None:  # left to pandas, as before
        assert Columns.of_frame(found.runs) is None
    else:
        assert found.runs_csv == expected
    out = tmp_path / "out"
    args = ["sweep", str(file), *(f"--vary={v}" for v in vary), "-j", "1", "--out", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (out / "sweep_replications.csv").read_text() == expected
