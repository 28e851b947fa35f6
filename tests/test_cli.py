"""`sim run`, `sim list`, `sim validate` as a user calls them."""

from __future__ import annotations

import base64
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.replications import RECORD_COLUMNS, RUN_COLUMNS, STATISTIC_COLUMNS
from sim.results.tables import GAME_COLUMNS, STEP_COLUMNS, SUMMARY_COLUMNS
from tests.conftest import SCENARIOS
from tests.helpers import files_in, run_files, sim_run


def test_run_writes_the_tables_and_run_json_with_the_contract_columns(polgar_copy, tmp_path):
    """24 games × 2 schedules = 48 game rows; 24 × 30 × 2 steps × 2 schedules = 2 880 steps.
    The contract's summary columns come first; replication statistics and the record follow."""
    out = tmp_path / "out"
    _, summary = sim_run(polgar_copy, out)
    games = pd.read_csv(out / "games.csv")
    steps = pd.read_csv(out / "steps.csv")
    runs = pd.read_csv(out / "replications.csv")
    assert tuple(summary.columns) == SUMMARY_COLUMNS + STATISTIC_COLUMNS + RECORD_COLUMNS
    assert tuple(games.columns) == GAME_COLUMNS
    assert tuple(steps.columns) == STEP_COLUMNS
    assert tuple(runs.columns) == RUN_COLUMNS
    assert summary["makespan_s"].tolist() == [43_200.0, 3_655.0]
    assert runs["makespan_s"].tolist() == [43_200.0, 3_655.0]
    assert summary["replications"].tolist() == [1, 1] and summary["seed"].tolist() == [0, 0]
    assert len(games) == 48 and len(steps) == 2_880
    assert files_in(out) == run_files(timeline=True)


def test_no_plots_leaves_out_the_timeline_and_removes_an_earlier_one(tmp_path):
    """An earlier report's picture and page would describe another run: they go."""
    out = tmp_path / "o"
    assert CliRunner().invoke(app, ["report", "countasync", "--out", str(out)]).exit_code == 0
    assert (out / "timeline.png").is_file() and (out / "report.html").is_file()
    result = CliRunner().invoke(app, ["run", "countasync", "--no-plots", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert files_in(out) == run_files()


def test_trace_json_past_the_step_limit_only_when_asked(tmp_path, monkeypatch):
    """countasync has 3 × 3 steps × 2 schedules = 18 steps: over a limit of 10."""
    monkeypatch.setattr("sim.output.result_files.TRACE_STEP_LIMIT", 10)
    quiet, asked = tmp_path / "quiet", tmp_path / "asked"
    outputs = []
    for out, extra in ((quiet, []), (asked, ["--trace"])):
        command = ["run", "countasync", "--no-plots", "--out", str(out), *extra]
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0
        outputs.append(result.stdout)
    assert not (quiet / "trace.json").exists()
    assert (asked / "trace.json").is_file()
    note = "trace.json not written: 18 steps, over the 10 written unasked; --trace writes it"
    assert note in outputs[0] and note not in outputs[1]


def test_report_writes_the_page_beside_the_run_files_and_embeds_a_sweep_picture(tmp_path):
    """A sweep.png already in the folder (left by `sim sweep`) goes into the page."""
    out = tmp_path / "o"
    out.mkdir()
    sweep = b"\x89PNG\r\n\x1a\n sweep picture"
    (out / "sweep.png").write_bytes(sweep)
    result = CliRunner().invoke(app, ["report", "countasync", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert base64.b64encode(sweep).decode() in html
    assert "<h2>Sweep</h2>" in html
    assert "countasync.yaml" in html and "wait: 1s" in html
    assert "wrote" in result.stdout and "report.html" in result.stdout


def test_run_prints_the_table_and_says_why_cooperative_is_55_s_over(polgar_copy, tmp_path):
    result = CliRunner().invoke(app, ["run", str(polgar_copy), "--out", str(tmp_path / "o")])
    assert "43 200 s" in result.stdout and "12:00:00" in result.stdout
    assert "3 655 s" in result.stdout and "1:00:55" in result.stdout and "11.82×" in result.stdout
    assert "55 s more than the article's 3 600 s" in result.stdout
    assert "still takes 55 s to answer" in result.stdout


def test_run_by_name_writes_under_results_name(tmp_path, monkeypatch):
    """A name resolves under scenarios/; results go to ./results/<name>/."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "countasync"])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "results" / "countasync" / "summary.csv")
    assert summary["makespan_s"].tolist() == [3.0, 1.0]


def test_schedule_option_plays_only_that_schedule(polgar_copy, tmp_path):
    """Speedup still compares with synchronous: 43 200 / 3 655."""
    out = tmp_path / "o"
    _, summary = sim_run(polgar_copy, out, "--schedule", "cooperative")
    assert summary["schedule"].tolist() == ["cooperative"]
    assert summary["speedup"].iloc[0] == pytest.approx(43_200 / 3_655)
    assert set(pd.read_csv(out / "steps.csv")["schedule"]) == {"cooperative"}


def test_unknown_schedule_option_is_bad_input(polgar_copy, tmp_path):
    result = CliRunner().invoke(app, ["run", str(polgar_copy), "--schedule", "threads"])
    assert result.exit_code == 2
    assert "unknown schedule 'threads'" in result.stderr


def test_a_failed_run_keeps_the_previous_results(polgar_copy, tmp_path):
    """Bad input after a good run: the earlier CSVs are untouched, no temporary folder left."""
    out = tmp_path / "o"
    CliRunner().invoke(app, ["run", str(polgar_copy), "--out", str(out)])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    polgar_copy.write_text(polgar_copy.read_text().replace("count: 24", "count: many"))
    assert CliRunner().invoke(app, ["run", str(polgar_copy), "--out", str(out)]).exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_same_scenario_gives_byte_identical_results(tmp_path):
    """Pictures, trace and page included; from two working folders."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(SCENARIOS / "countasync.yaml", tmp_path / name / "count.yaml")
        command = ["report", str(tmp_path / name / "count.yaml"), "--out", str(tmp_path / name)]
        assert CliRunner().invoke(app, command).exit_code == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"report.html", "timeline.png", "trace.json", "steps.csv"} <= set(files)
    for name in files:
        if name == "run.json":  # the one file with clock times in it, by design
            continue
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_list_shows_shipped_scenarios_with_descriptions():
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 0
    assert "polgar" in result.stdout and "countasync" in result.stdout
    assert "Judit" in result.stdout


def test_validate_accepts_every_shipped_scenario():
    files = sorted(str(path) for path in SCENARIOS.glob("*.yaml"))
    result = CliRunner().invoke(app, ["validate", *files])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ok ") == len(files)


@pytest.mark.parametrize("command", [[], ["run"], ["report"], ["sweep"], ["list"], ["validate"]])
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert f"sim {command[0]} " in result.stdout if command else "Exit status" in result.stdout


def test_sweep_draws_sweep_png_and_the_next_report_shows_it(tmp_path):
    """countasync over 1…4 tasks: sweep.png beside sweep.csv, embedded byte for byte in the
    page; with --no-plots the picture of the earlier sweep is removed, not left stale."""
    out = tmp_path / "o"
    command = ["sweep", "countasync", "--vary", "players.count.count=1..4", "--out", str(out)]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    picture = (out / "sweep.png").read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert CliRunner().invoke(app, ["report", "countasync", "--out", str(out)]).exit_code == 0
    assert base64.b64encode(picture).decode() in (out / "report.html").read_text("utf-8")
    assert CliRunner().invoke(app, [*command, "--no-plots"]).exit_code == 0
    assert not (out / "sweep.png").exists() and (out / "sweep.csv").is_file()
