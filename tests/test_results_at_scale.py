"""Results of big runs: the steps table by size, on request, in chunks, as Parquet;
`--analytic-only`; validation that never lists every player."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.runs import run
from sim.output import result_files
from sim.results import tables
from sim.scenario.loader import load_file
from sim.scenario.units import format_count
from tests.conftest import SCENARIOS, polgar_like
from tests.helpers import files_in, invoke, run_files


def test_over_the_limit_the_steps_table_is_skipped_and_the_run_says_so(
    polgar_copy, tmp_path, monkeypatch
):
    """Polgár has 2 × 24 × 30 × 2 = 2 880 steps: over a limit of 1 000, steps.csv is
    left out (and an earlier run's one removed), under `--steps` it is written."""
    monkeypatch.setattr(result_files, "STEPS_CSV_LIMIT", 1_000)
    out = tmp_path / "o"
    assert invoke("run", polgar_copy, "--out", out, "--steps", "--no-plots").exit_code == 0
    result = invoke("run", polgar_copy, "--out", out, "--no-plots")
    assert result.exit_code == 0, result.output
    assert files_in(out) == run_files(steps=None)
    assert "2 880 rows, over the 1 000" in result.stdout and "--steps" in result.stdout
    assert invoke("run", polgar_copy, "--out", out, "--steps", "--no-plots").exit_code == 0
    assert len(pd.read_csv(out / "steps.csv")) == 2_880


def test_no_steps_writes_no_steps_table_even_when_small(polgar_copy, tmp_path):
    out = tmp_path / "o"
    assert invoke("run", polgar_copy, "--out", out, "--no-steps", "--no-plots").exit_code == 0
    assert files_in(out) == run_files(steps=None)


def test_steps_written_in_chunks_are_the_whole_table_byte_for_byte(tmp_path, monkeypatch):
    """Chunks of 7 rows (a prime: chunk edges fall mid-game and mid-schedule)."""
    result = run(polgar_like(5, rounds=4, hosts=2))
    whole = tmp_path / "whole.csv"
    result.steps.to_csv(whole, index=False, lineterminator="\n")
    monkeypatch.setattr(tables, "STEP_CHUNK_ROWS", 7)
    written = result_files.write_results(
        result, tmp_path / "o", steps="csv", plots=False, trace=False
    )
    by_name = {path.name: path for path in written}
    assert by_name["steps.csv"].read_bytes() == whole.read_bytes()


def test_parquet_holds_the_same_steps_table(polgar_copy, tmp_path, monkeypatch):
    """Also in chunks: every row group must share one schema."""
    monkeypatch.setattr(tables, "STEP_CHUNK_ROWS", 500)
    out = tmp_path / "o"
    result = invoke("run", polgar_copy, "--out", out, "--parquet", "--no-plots")
    assert result.exit_code == 0, result.output
    assert files_in(out) == run_files(steps="steps.parquet")
    parquet = pd.read_parquet(out / "steps.parquet")
    expected = run(load_file(polgar_copy)).steps
    assert list(parquet.columns) == list(tables.STEP_COLUMNS)
    pd.testing.assert_frame_equal(parquet, expected, check_categorical=False)
    # byte-identical on a second run, and a later CSV run replaces the Parquet file
    first = (out / "steps.parquet").read_bytes()
    assert invoke("run", polgar_copy, "--out", out, "--parquet", "--no-plots").exit_code == 0
    assert (out / "steps.parquet").read_bytes() == first
    assert invoke("run", polgar_copy, "--out", out, "--no-plots").exit_code == 0
    assert files_in(out) == run_files()


def test_parquet_with_no_steps_is_bad_input(polgar_copy):
    result = invoke("run", polgar_copy, "--parquet", "--no-steps")
    assert result.exit_code == 2
    assert "--no-steps" in result.stderr


def test_analytic_only_prints_the_closed_forms_and_writes_nothing(polgar_copy, tmp_path):
    """24 × 30 × 60 = 43 200 s; max(24·30·5 + 55, 30·60 + 23·5) = 3 655 s; 43 200/3 655 = 11.82."""
    out = tmp_path / "o"
    result = invoke("run", polgar_copy, "--analytic-only", "--out", out)
    assert result.exit_code == 0, result.output
    assert "43 200 s" in result.stdout and "12:00:00" in result.stdout
    assert "3 655 s" in result.stdout and "11.82×" in result.stdout
    assert not out.exists()


def test_analytic_only_answers_ten_million_players_at_once(tmp_path):
    """n = 10⁷ on one host: synchronous 10⁷ × 30 × 60 = 18 000 000 000 s;
    cooperative 10⁷ × 30 × 5 + 55 = 1 500 000 055 s. Building its workload would
    take gigabytes: only the closed forms can answer, and loading must not list
    ten million player names."""
    huge = tmp_path / "huge.yaml"
    huge.write_text((SCENARIOS / "polgar.yaml").read_text().replace("count: 24", "count: 10000000"))
    result = invoke("run", huge, "--analytic-only")
    assert result.exit_code == 0, result.output
    assert "18 000 000 000 s" in result.stdout
    assert "1 500 000 055 s" in result.stdout


def test_analytic_only_says_where_there_is_no_closed_form(tmp_path):
    """7 games on 3 hosts: cooperative has none (3 does not divide 7)."""
    scenario = tmp_path / "seven.yaml"
    scenario.write_text(
        "host: {count: 3}\nplayers:\n  - {name: p, count: 7, moves: 2, host_move: 1, "
        "player_move: 2}\n"
    )
    result = invoke("run", scenario, "--analytic-only")
    assert result.exit_code == 0, result.output
    assert "cooperative: no closed form" in result.stdout
    assert "3 hosts do not divide 7 games" in result.stdout


def test_the_run_shows_the_closed_forms_under_the_table(polgar_copy, tmp_path):
    result = invoke("run", polgar_copy, "--out", tmp_path / "o")
    assert "closed form: synchronous 43 200 s, cooperative 3 655 s" in result.stdout


@pytest.mark.parametrize(
    ("groups", "repeated"),
    [
        # a group x of 3 players is x-1, x-2, x-3: a lone player called x-2 clashes
        ([("x", 3), ("x-2", 1)], "x-2"),
        ([("x-3", 1), ("x", 3)], "x-3"),
        # x-4, x-02 and x-0 are not among x-1 … x-3; numbered names of two groups never meet
        ([("x", 3), ("x-4", 1), ("x-02", 1), ("x-0", 1), ("x-1", 2)], None),
    ],
)
def test_player_names_must_be_unique_across_groups(groups, repeated):
    from pydantic import ValidationError

    from sim.scenario.model import Scenario

    players = [{"name": name, "count": count, "host_move": 1} for name, count in groups]
    if repeated is None:
        names = [n for g in Scenario(players=players).players for n in g.player_names()]
        assert len(names) == len(set(names))
    else:
        with pytest.raises(ValidationError, match=f"player name '{repeated}' appears twice"):
            Scenario(players=players)


def test_run_help_states_the_steps_limit_in_force():
    """The help text spells the limit out (the CLI must not import the report to say it)."""
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})  # no wrapping
    limit = format_count(result_files.STEPS_CSV_LIMIT)
    assert result.exit_code == 0
    assert result.stdout.count(limit) >= 2, result.stdout
