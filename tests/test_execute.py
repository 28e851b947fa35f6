"""Executors: the same bytes in-process, on a process pool and on Dask; the progress bar."""

from __future__ import annotations

import io
import math
import operator
import subprocess
import sys

import distributed
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import executors
from sim.experiment.executors import ExecutorError, InProcess, ProcessPool, open_executor
from sim.experiment.progress import progress

RANDOM = """\
name: noisy
seed: 11
players:
  - name: a
    count: 2
    moves: 3
    host_move: {dist: triangular, low: 1, mode: 2, high: 4}
    player_move: {dist: lognormal, mean: 10s, sd: 4s}
  - name: b
    steps:
      - host: {dist: gamma, mean: 2, sd: 1}
      - wait: {dist: empirical, values: [1, 5, 9]}
sweep:
  players.a.count: 1..3
  host.count: 1,2
"""


@pytest.fixture(scope="module")
def dask_address():
    """A small in-process Dask cluster (threads, no worker processes): quick, and closed after."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def sweep_files(tmp_path, name: str, *how: str) -> dict[str, bytes]:
    file = tmp_path / "noisy.yaml"
    file.write_text(RANDOM)
    out = tmp_path / name
    args = ["sweep", str(file), "-r", "4", "--out", str(out), *how]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "sweep.json").is_file()  # its clock times differ from run to run; the rest not
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "sweep.json"}


def test_jobs_1_jobs_2_and_dask_write_the_same_bytes(tmp_path, dask_address):
    """6 points × 4 replications of random durations: the files cannot tell who played them
    (the sweep picture, drawn from the table, included)."""
    alone = sweep_files(tmp_path, "one", "--jobs", "1")
    assert sorted(alone) == ["sweep.csv", "sweep.png", "sweep_replications.csv"]
    assert alone == sweep_files(tmp_path, "two", "--jobs", "2")
    assert alone == sweep_files(tmp_path, "dask", "--dask", dask_address)


def test_dask_local_starts_its_own_cluster_and_gives_the_same_bytes(tmp_path, monkeypatch):
    """`--dask local` as a user runs it, but with threads for workers: quick, same code path."""
    monkeypatch.setitem(executors.LOCAL_CLUSTER, "processes", False)
    alone = sweep_files(tmp_path, "one", "--jobs", "1")
    assert alone == sweep_files(tmp_path, "local", "--dask", "local", "--jobs", "2")


def test_replicated_run_is_the_same_on_any_number_of_jobs(tmp_path):
    """The real command in a fresh process (its pool is forked) against one in-process run."""
    file = tmp_path / "noisy.yaml"
    file.write_text(RANDOM)
    alone, pooled = tmp_path / "one", tmp_path / "two"
    args = ["run", str(file), "-r", "7", "--out"]
    assert CliRunner().invoke(app, [*args, str(alone), "--jobs", "1"]).exit_code == 0
    command = [sys.executable, "-m", "sim", *args, str(pooled), "--jobs", "2"]
    subprocess.run(command, check=True, capture_output=True)
    names = sorted(p.name for p in alone.iterdir())
    assert names == sorted(p.name for p in pooled.iterdir())
    tables = [name for name in names if name != "run.json"]  # run.json holds clock times
    assert all((alone / n).read_bytes() == (pooled / n).read_bytes() for n in tables)


def test_a_pool_returns_results_in_the_order_given_and_reports_each():
    done = []
    pool = ProcessPool(2)
    try:
        assert pool.map(operator.neg, list(range(20)), done.append) == [-i for i in range(20)]
    finally:
        pool.close()
    assert sorted(done) == list(range(20))


def test_a_workers_error_reaches_the_caller():
    pool = ProcessPool(2)
    try:
        with pytest.raises(ValueError, match="math domain error"):
            pool.map(math.sqrt, [4.0, -1.0, 9.0])
    finally:
        pool.close()


def test_one_job_or_one_item_plays_in_this_process():
    with open_executor(jobs=1, items=10) as executor:
        assert isinstance(executor, InProcess)
    with open_executor(jobs=4, items=1) as executor:
        assert isinstance(executor, InProcess)
    with open_executor(jobs=2, items=5) as executor:
        assert isinstance(executor, ProcessPool) and executor.workers == 2


def test_an_unreachable_dask_scheduler_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "0.2s")
    with pytest.raises(ExecutorError, match=r"--dask tcp://127\.0\.0\.1:1: cannot connect"):
        executors.DaskCluster("tcp://127.0.0.1:1", 1)
    result = CliRunner().invoke(app, ["run", "polgar", "-r", "2", "--dask", "nonsense"])
    assert result.exit_code == 2
    assert result.stderr.startswith("--dask nonsense: cannot connect")


def test_the_progress_bar_shows_on_a_terminal_only():
    def drawn(terminal: bool, quiet: bool = False) -> str:
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=terminal, width=100)
        with progress(console, 12, "polgar", quiet) as advance:
            for _ in range(3):
                advance(4)
        return buffer.getvalue()

    assert "12/12" in drawn(terminal=True) and "runs" in drawn(terminal=True)
    assert drawn(terminal=False) == ""
    assert drawn(terminal=True, quiet=True) == ""
