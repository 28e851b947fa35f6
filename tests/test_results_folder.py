"""Result folders: whole runs or the previous one, and the same bytes for the same run.

The kill tests start a real `sim run` large enough that writing steps.csv
takes a good fraction of a second, wait until its staging folder holds that
file, and stop the process there: a plain signal, no test hook in the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.output.staging import PREFIX, Staging, _interrupts_held, remove_orphans


def _scenario(path: Path, players: int) -> Path:
    """`players` polgar-like games of 30 rounds: 120 step rows per player over 2 schedules."""
    path.write_text(
        f"players:\n  - name: p\n    count: {players}\n    moves: 30\n"
        "    host_move: 5\n    player_move: 55\n"
    )
    return path


def _sim(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _stop_while_writing(process: subprocess.Popen, out: Path, signum: int) -> None:
    """Send `signum` once steps.csv is being written in the staging folder."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(out.glob(f"{PREFIX}*/steps.csv")):
            process.send_signal(signum)
            return
        assert process.poll() is None, "the run ended before it was caught writing"
        time.sleep(0.002)
    process.kill()
    raise AssertionError("the run never started writing")


@pytest.fixture
def previous(tmp_path) -> tuple[Path, dict[str, bytes]]:
    """A folder holding a small, complete earlier run."""
    out = tmp_path / "out"
    small = _scenario(tmp_path / "small.yaml", 2)
    done = CliRunner().invoke(app, ["run", str(small), "--out", str(out), "--no-plots"])
    assert done.exit_code == 0, done.output
    return out, _contents(out)


def test_sigkill_while_writing_leaves_the_previous_results_whole(tmp_path, previous):
    """1 000 players: steps.csv has 120 000 rows; killed mid-write, the old files stay."""
    out, before = previous
    process = _sim("run", str(_scenario(tmp_path / "big.yaml", 1_000)), "--out", str(out))
    _stop_while_writing(process, out, signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    assert _contents(out) == before  # every visible file byte for byte as it was
    leftovers = [path for path in out.iterdir() if path.is_dir()]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(PREFIX)  # hidden, and only that
    assert remove_orphans(out) == leftovers  # what the next run into `out` does first
    assert sorted(path.name for path in out.iterdir()) == sorted(before)


def test_ctrl_c_while_writing_exits_130_and_leaves_no_partial_files(tmp_path, previous):
    out, before = previous
    process = _sim("run", str(_scenario(tmp_path / "big.yaml", 1_000)), "--out", str(out))
    _stop_while_writing(process, out, signal.SIGINT)
    assert process.wait(timeout=60) == 130
    said = process.stderr.read()
    assert "interrupted" in said and "Traceback" not in said
    assert _contents(out) == before
    assert sorted(path.name for path in out.iterdir()) == sorted(before)  # no staging left


def test_two_processes_write_byte_identical_tables(tmp_path):
    """Different hash seeds, same scenario and seed: the CSVs match byte for byte; run.json
    differs only in its clock times, and its hashes are those of the CSVs beside it.
    (Pictures: `test_cli.test_same_scenario_gives_byte_identical_results`.)"""
    scenario = _scenario(tmp_path / "s.yaml", 5)
    runs = []
    for name, hash_seed in (("a", "1"), ("b", "2")):
        out = tmp_path / name
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "sim", "run", str(scenario), "--out", str(out), "--no-plots"],
            capture_output=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        runs.append(out)
    first, second = (_contents(out) for out in runs)
    for name in ("summary.csv", "games.csv", "steps.csv"):
        assert first[name] == second[name], name
    info = [json.loads(contents["run.json"]) for contents in (first, second)]
    timing = {"started_utc", "finished_utc", "wall_s"}
    assert {k: v for k, v in info[0].items() if k not in timing} == {
        k: v for k, v in info[1].items() if k not in timing
    }
    for name, entry in info[0]["files"].items():
        assert entry["sha256"] == hashlib.sha256(first[name]).hexdigest()
        assert entry["bytes"] == len(first[name])


def test_a_failure_inside_the_staging_block_keeps_the_old_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("old")
    with pytest.raises(RuntimeError), Staging(out) as staged:
        (staged.folder / "summary.csv").write_text("new, half")
        raise RuntimeError("disk full")
    assert [path.name for path in out.iterdir()] == ["summary.csv"]
    assert (out / "summary.csv").read_text() == "old"


def test_publishing_moves_every_file_with_run_json_last(tmp_path):
    out = tmp_path / "out"
    with Staging(out) as staged:
        for name in ("run.json", "b.csv", "a.csv"):
            (staged.folder / name).write_text(name)
        (staged.folder / "charts").mkdir()
        (staged.folder / "charts" / "c.png").write_text("c")
    assert [path.relative_to(out).as_posix() for path in staged.published] == [
        "a.csv",
        "b.csv",
        "charts/c.png",
        "run.json",
    ]
    assert not list(out.glob(f"{PREFIX}*"))


def test_orphans_removed_are_only_staging_folders_of_dead_processes(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    dead = int(done.stdout)  # exited and reaped: no such process now (pids wrap slowly)
    (tmp_path / f"{PREFIX}{dead}-x").mkdir()
    (tmp_path / f"{PREFIX}{os.getpid()}-y").mkdir()
    (tmp_path / "keep").mkdir()
    assert [path.name for path in remove_orphans(tmp_path)] == [f"{PREFIX}{dead}-x"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"{PREFIX}{os.getpid()}-y",
        "keep",
    ]


def test_ctrl_c_during_publishing_waits_until_the_files_are_in_place():
    """A SIGINT inside the held block is delivered when it ends, not in the middle."""
    reached_end = False
    with pytest.raises(KeyboardInterrupt), _interrupts_held():
        signal.raise_signal(signal.SIGINT)
        reached_end = True
    assert reached_end


@pytest.fixture
def small(tmp_path) -> Path:
    return _scenario(tmp_path / "small.yaml", 2)


def _refused(result, *words: str) -> str:
    """A refusal before playing: exit 2, one line on stderr holding `words`, nothing printed."""
    assert result.exit_code == 2, result.output
    said = result.stderr.splitlines()
    assert len(said) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(word in said[0] for word in words), said[0]
    assert result.stdout == ""  # no table: nothing was played
    return said[0]


def test_an_empty_out_is_refused_not_read_as_the_current_folder(small, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = CliRunner().invoke(app, ["run", str(small), "--out", ""])
    _refused(result, "--out: expected a folder, got an empty name")
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("x" * 300, ["--out: ", "a name of 300 bytes", "at most 255"]),
        ("ab/" * 1400, ["--out: ", "a path of 4", "bytes; at most 4032"]),
    ],
    ids=["300-character-name", "4-KB-path"],
)
def test_a_name_or_path_too_long_for_the_file_system_is_refused(small, tmp_path, out, words):
    result = CliRunner().invoke(app, ["run", str(small), "--out", str(tmp_path / out)])
    assert len(_refused(result, *words)) < 400  # the path is cut, not echoed whole


def test_a_link_that_leads_nowhere_or_loops_is_refused_before_playing(small, tmp_path):
    dangling, loop = tmp_path / "dangling", tmp_path / "loop"
    dangling.symlink_to(tmp_path / "nowhere")
    loop.symlink_to(loop)
    result = CliRunner().invoke(app, ["run", str(small), "--out", str(dangling)])
    _refused(result, f"{dangling} is a link to {tmp_path / 'nowhere'}, which does not exist")
    assert not (tmp_path / "nowhere").exists()
    result = CliRunner().invoke(app, ["run", str(small), "--out", str(loop / "deeper")])
    _refused(result, f"{loop} is a link that leads round in a loop")


@pytest.mark.parametrize("root", ["/", "/tmp/..", "//"])
def test_the_root_of_the_file_system_is_no_results_folder(small, root):
    """As root, `--out /` wrote the run's files into `/`."""
    result = CliRunner().invoke(app, ["run", str(small), "--out", root])
    _refused(result, f"--out: {root} is the root of the file system")


def test_a_results_link_is_followed_and_what_is_there_is_still_guarded(
    small, tmp_path, monkeypatch
):
    """`results -> elsewhere` (results on a bigger disk) is followed: the default folder is
    inside `results/` as the user sees it, and sim replaces nothing there it did not write."""
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "scenario-1").mkdir(parents=True)
    Path("results").symlink_to(elsewhere)
    small.write_text("name: scenario 1\n" + small.read_text())
    assert CliRunner().invoke(app, ["run", str(small)]).exit_code == 0
    assert (elsewhere / "scenario-1" / "run.json").is_file()
    (elsewhere / "scenario-1" / "games.csv").write_text("mine")
    refused = CliRunner().invoke(app, ["run", str(small)])
    assert refused.exit_code == 2 and "holds games.csv" in refused.stderr


def test_run_json_names_the_platform_as_the_platform_module_does():
    """run.json's platform is read without scanning the interpreter's binary: the same
    text `platform.platform()` gives."""
    import platform

    from sim.output import run_json

    assert run_json._platform() == platform.platform()


def test_writing_without_replacing_refuses_a_name_taken_and_leaves_no_temporary(tmp_path):
    """`sim record` without --force: the file is linked into place, so a file made at the
    last moment is refused, not replaced (a check before writing would leave a gap)."""
    from sim.output.staging import write_atomically

    path = tmp_path / "mine.yaml"
    write_atomically(path, "new\n", replace=False)
    assert path.read_text() == "new\n"
    with pytest.raises(FileExistsError):
        write_atomically(path, "other\n", replace=False)
    assert path.read_text() == "new\n"
    write_atomically(path, "replaced\n")
    assert path.read_text() == "replaced\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]
