"""`sim sweep --dask ADDRESS` on a Dask cluster of its own: a `dask scheduler` and a
`dask worker` started here as separate programs, as on a real cluster. The sweep
it plays writes the same bytes as `--jobs 1`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCENARIOS

pytestmark = pytest.mark.wallclock  # starts a scheduler and two worker processes

DASK = Path(sys.executable).with_name("dask")
#: A few points of the what-if study, with random moves and replications.
SWEEP = [
    str(SCENARIOS / "polgar-whatif.yaml"),
    *("--vary", "players.amateur.count=1..6", "-r", "4", "--no-plots"),
]


def _start(*command: str) -> subprocess.Popen:
    """A program in a session of its own, so that it and its children can be stopped at once."""
    return subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory) -> Iterator[str]:
    """The address of a scheduler (on a port it picked) with two single-threaded workers."""
    from distributed import Client

    if not DASK.is_file():
        pytest.skip("the dask command is not installed (pip install 'sim[dask]')")
    found = tmp_path_factory.mktemp("dask") / "scheduler.json"
    common = ("--no-dashboard",)
    started = [
        _start(str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
               "--scheduler-file", str(found), *common),
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (found.is_file() and found.stat().st_size):
            assert started[0].poll() is None, "dask scheduler ended"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.05)
        address = json.loads(found.read_text())["address"]
        started.append(
            _start(str(DASK), "worker", address, "--nworkers", "2", "--nthreads", "1", *common)
        )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(started):
            _stop(process)


def _sweep(out: Path, *how: str) -> dict[str, bytes]:
    command = [sys.executable, "-m", "sim", "sweep", *SWEEP, "--out", str(out), *how]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {name: (out / name).read_bytes() for name in ("sweep.csv", "sweep_replications.csv")}


def test_a_sweep_on_an_external_scheduler_writes_the_bytes_of_one_process(scheduler, tmp_path):
    """The scheduler's workers play the batches (the scheduler has seen them), and the
    files cannot tell."""
    from distributed import Client

    alone = _sweep(tmp_path / "one", "--jobs", "1")
    assert _sweep(tmp_path / "dask", "--dask", scheduler) == alone
    assert alone["sweep.csv"].count(b"\n") == 1 + 6 * 2  # a row per point and schedule
    with Client(scheduler, timeout="30s") as client:
        seen = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    assert "play_batch" in seen
