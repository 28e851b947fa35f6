"""A results folder never loses a file that sim did not write, and always holds one whole run.

sim replaces or removes only files that a record in the folder (`run.json`,
`sweep.json`) lists with their hash; another file of a name the run writes
stops it with exit 2 before it plays, unless `--force`. Publishers into one
folder take turns (a lock on the folder), and a publish killed midway is
finished by the next one, never leaving the old record beside new files.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sim.output import run_json, staging
from sim.output.destination import OutputError
from sim.output.staging import PUBLISHING, Foreign, Staging, locked, remove_orphans
from tests.helpers import files_in, invoke, run_files


def _contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _whole(folder: Path, record: str = "run.json") -> dict:
    """The record of `folder`, after checking that every file it lists is there as listed."""
    info = json.loads((folder / record).read_text())
    for name, entry in info["files"].items():
        data = (folder / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["bytes"] == len(data), name
    return info


def _own(folder: Path, names: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for name, text in names.items():
        (folder / name).write_text(text)


def test_a_run_leaves_the_files_it_did_not_write_where_they_are(small_scenario, tmp_path):
    """The folder of the issue: the user's page, picture and steps tables survive a run
    with --no-plots --no-steps, byte for byte."""
    out = tmp_path / "out"
    mine = {name: f"my own {name}\n" for name in OTHER_FOUR}
    _own(out, mine)
    result = invoke("run", small_scenario, "--out", out, "--no-plots", "--no-steps")
    assert result.exit_code == 0, result.output
    assert {name: (out / name).read_text() for name in mine} == mine
    assert files_in(out) == sorted({*run_files(steps=None), *mine})
    assert sorted(_whole(out)["files"]) == sorted(set(run_files(steps=None)) - {"run.json"})


OTHER_FOUR = ("report.html", "timeline.png", "steps.csv", "steps.parquet")


def test_files_of_the_names_a_run_writes_are_refused_before_it_plays(small_scenario, tmp_path):
    out = tmp_path / "out"
    _own(out, {"summary.csv": "mine\n", "run.json": "{}\n", "notes.txt": "mine\n"})
    before = _contents(out)
    result = invoke("run", small_scenario, "--out", out)
    assert result.exit_code == 2
    assert result.stdout == ""  # refused before playing: no table
    said = result.stderr.splitlines()
    assert len(said) == 1 and said[0].startswith(f"--out: {out} holds ")
    assert "summary.csv and run.json" in said[0] and "--force" in said[0]
    assert _contents(out) == before and files_in(out) == sorted(before)


def test_force_replaces_those_files_and_touches_no_other(small_scenario, tmp_path):
    out = tmp_path / "out"
    _own(out, {"summary.csv": "mine\n", "run.json": "{}\n", "notes.txt": "mine\n"})
    (out / "timeline.png").write_text("my picture")
    result = invoke("run", small_scenario, "--out", out, "--no-plots", "--force")
    assert result.exit_code == 0, result.output
    assert (out / "summary.csv").read_text().startswith("schedule,")
    assert "summary.csv" in _whole(out)["files"]
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "timeline.png").read_text() == "my picture"  # not the run's to remove


def test_what_sim_wrote_goes_when_a_later_run_does_not_write_it(small_scenario, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", small_scenario, "--out", out).exit_code == 0
    assert (out / "timeline.png").is_file()
    assert invoke("run", small_scenario, "--out", out, "--no-plots").exit_code == 0
    assert not (out / "timeline.png").exists()
    assert files_in(out) == run_files()


def test_a_file_sim_wrote_and_the_user_changed_is_the_user_s(small_scenario, tmp_path):
    """Changed since (its hash no longer the record's): kept when the run would remove it,
    refused when it would replace it."""
    out = tmp_path / "out"
    assert invoke("run", small_scenario, "--out", out).exit_code == 0
    with (out / "timeline.png").open("ab") as picture:
        picture.write(b"annotated")
    assert invoke("run", small_scenario, "--out", out, "--no-plots").exit_code == 0
    assert (out / "timeline.png").read_bytes().endswith(b"annotated")
    with (out / "games.csv").open("a") as games:
        games.write("my note\n")
    result = invoke("run", small_scenario, "--out", out, "--no-plots")
    assert result.exit_code == 2 and "holds games.csv, which sim did not write" in result.stderr
    assert (out / "games.csv").read_text().endswith("my note\n")


def test_a_file_that_appears_while_the_run_plays_is_refused_when_it_publishes(
    small_scenario, tmp_path, monkeypatch
):
    """The check before playing passes (the file is not there yet); publishing checks again."""
    out = tmp_path / "out"
    monkeypatch.setattr(staging, "refuse_foreign", lambda *_args, **_kwargs: None)
    out.mkdir()
    (out / "games.csv").write_text("mine\n")
    result = invoke("run", small_scenario, "--out", out)
    assert result.exit_code == 2, result.output
    assert "holds games.csv, which sim did not write" in result.stderr
    assert files_in(out) == ["games.csv"] and (out / "games.csv").read_text() == "mine\n"


def test_staging_refuses_a_foreign_file_and_force_replaces_it(tmp_path):
    out = tmp_path / "out"
    _own(out, {"a.csv": "mine"})
    with pytest.raises(Foreign) as refused, Staging(out) as staged:
        (staged.folder / "a.csv").write_text("new")
        (staged.folder / "b.csv").write_text("new")
    assert refused.value.names == ["a.csv"]
    assert files_in(out) == ["a.csv"] and (out / "a.csv").read_text() == "mine"
    with Staging(out, force=True) as staged:
        (staged.folder / "a.csv").write_text("new")
    assert files_in(out) == ["a.csv"] and (out / "a.csv").read_text() == "new"


def test_a_folder_where_a_file_goes_is_refused_even_with_force(tmp_path):
    out = tmp_path / "out"
    (out / "a.csv").mkdir(parents=True)
    with pytest.raises(OutputError, match=r"a\.csv is a folder"), Staging(out, force=True) as s:
        (s.folder / "a.csv").write_text("new")
    assert (out / "a.csv").is_dir() and files_in(out) == ["a.csv"]


def test_a_sweep_beside_a_run_keeps_the_run_s_record_and_files(small_scenario, tmp_path):
    """Each command keeps its own record: run.json for the run, sweep.json for the sweep."""
    out = tmp_path / "out"
    assert invoke("run", small_scenario, "--out", out, "--no-plots").exit_code == 0
    ran = _contents(out)
    swept = invoke("sweep", small_scenario, "--vary", "players.p.count=1..3", "--out", out)
    assert swept.exit_code == 0, swept.output
    assert {name: (out / name).read_bytes() for name in ran} == ran  # run.json included
    assert sorted(_whole(out, "sweep.json")["files"]) == ["sweep.csv", "sweep.png"]
    assert invoke("run", small_scenario, "--out", out, "--no-plots").exit_code == 0
    _whole(out), _whole(out, "sweep.json")  # both whole: neither disowned the other's files


def test_publishers_into_one_folder_take_turns(tmp_path, monkeypatch):
    """A slow publisher (0.1 s a file) and a fast one that starts while the slow one's
    first file is in place and its second not: without the folder's lock the fast one's
    a.csv would stay beside the slow one's other files and record."""
    out = tmp_path / "out"
    out.mkdir()
    delay = threading.local()
    real_replace = os.replace

    def slow_replace(source, target):
        time.sleep(getattr(delay, "seconds", 0))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", slow_replace)

    def publish(label: str, seconds: float, start: float) -> None:
        delay.seconds = seconds
        time.sleep(start)
        with Staging(out) as staged:
            for name in ("a.csv", "b.csv", "c.csv"):
                (staged.folder / name).write_text(f"{label} {name}\n")
            run_json.write(staged.folder, scenario=label, seed=0, schedules=[])

    threads = [
        threading.Thread(target=publish, args=("slow", 0.1, 0)),
        threading.Thread(target=publish, args=("fast", 0.0, 0.15)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    info = _whole(out)  # every file is the one its record lists
    assert {(out / name).read_text().split()[0] for name in ("a.csv", "b.csv", "c.csv")} == {
        info["scenario"]["name"]
    }


def test_a_publish_killed_midway_leaves_no_old_record_beside_new_files(tmp_path):
    """SIGKILL after the first new file is in place: the old run.json is gone already (a
    reader finds no record, not a false one), and the next run finishes the publish."""
    out = tmp_path / "out"
    with Staging(out) as staged:
        for name in ("a.csv", "b.csv", "old.csv"):
            (staged.folder / name).write_text(f"old {name}\n")
        run_json.write(staged.folder, scenario="old", seed=0, schedules=[])
    child = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from sim.output import run_json, staging\n"
        "real = os.replace\n"
        "def replace(source, target):\n"
        "    real(source, target)\n"
        "    if Path(target).name == 'a.csv':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.replace = replace\n"
        "with staging.Staging(Path(sys.argv[1]), stale=['old.csv']) as staged:\n"
        "    for name in ('a.csv', 'b.csv'):\n"
        "        (staged.folder / name).write_text(f'new {name}\\n')\n"
        "    run_json.write(staged.folder, scenario='new', seed=0, schedules=[])\n"
    )
    done = subprocess.run([sys.executable, "-c", child, str(out)], timeout=60)
    assert done.returncode == -9
    assert not (out / "run.json").exists()  # never the old record beside new a.csv
    assert (out / "a.csv").read_text() == "new a.csv\n"
    left = [path.name for path in out.iterdir() if path.is_dir()]
    assert len(left) == 1 and left[0].startswith(PUBLISHING)
    assert [path.name for path in remove_orphans(out)] == left  # what the next run does first
    assert files_in(out) == ["a.csv", "b.csv", "run.json"]  # old.csv went with the old run
    assert _whole(out)["scenario"]["name"] == "new"


def test_finishing_a_publish_never_reaches_outside_the_folder(tmp_path):
    """A publishing folder is a folder like any other: one planted with a journal that
    names files outside (or hidden ones) removes none of them."""
    out, victim = tmp_path / "out", tmp_path / "victim"
    victim.write_text("keep")
    (out / ".hidden").mkdir(parents=True)
    planted = out / f"{PUBLISHING}999999999-x"
    planted.mkdir()
    names = ["../victim", str(victim), ".hidden", ".."]
    (planted / staging.JOURNAL).write_text(json.dumps({"records": names, "remove": names}))
    (planted / "new.csv").write_text("new")
    assert remove_orphans(out) == [planted]
    assert victim.read_text() == "keep" and (out / ".hidden").is_dir()
    assert files_in(out) == [".hidden", "new.csv"]


def test_a_publish_waits_for_a_reader_s_lock_a_while_then_says_so(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(staging, "LOCK_WAIT_S", 0.2)
    waited = pytest.raises(OutputError, match=r"another process has held its lock for 0\.2 s")
    with locked(out, shared=True), waited, Staging(out) as staged:
        (staged.folder / "a.csv").write_text("new")
    assert files_in(out) == []
