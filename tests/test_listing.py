"""`sim list` remembers each file's row: the same answer as validating, made again when
the file changes, and never an obstacle when the cache is broken or cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario import listing as listing_module
from sim.scenario.catalog import available
from sim.scenario.listing import Listed, cache_file, listing
from sim.scenario.loader import load_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "listing.json"


def _validated(path: Path) -> Listed:
    scenario = load_file(path)
    return Listed(scenario.description, scenario.games, tuple(s.label for s in scenario.schedules))


def test_rows_from_the_cache_are_the_rows_validation_gives(cache):
    files = available()
    first = listing(files)
    assert cache.exists()
    again = listing(files)
    assert again == first
    assert all(again[name] == _validated(path) for name, path in files.items())


def test_a_kept_row_is_used_without_validating(cache, monkeypatch):
    files = available()
    listing(files)
    monkeypatch.setattr(listing_module, "_validated", lambda path: pytest.fail(f"{path} again"))
    assert listing(files)["polgar"].games == 24


def test_an_edited_file_is_validated_again(cache, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text((ROOT / "scenarios" / "countasync.yaml").read_text())
    assert listing({"mine": path})["mine"].games == 3
    text = path.read_text().replace("count: 3", "count: 7")
    assert text != path.read_text()
    path.write_text(text)
    assert listing({"mine": path})["mine"].games == 7
    path.write_text("players: [")
    assert listing({"mine": path})["mine"].problem is not None


def test_a_broken_cache_is_the_slow_path(cache):
    cache.parent.mkdir(parents=True)
    for junk in ("{not json", "[1, 2]", '{"k": {"games": 1, "nonsense": 2}}'):
        cache.write_text(junk)
        assert listing(available())["polgar"] == _validated(available()["polgar"])


def test_a_cache_folder_that_cannot_be_made_is_left_alone(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine\n")
    monkeypatch.setenv("SIM_CACHE_DIR", str(blocker / "cache"))  # under a file: no folder
    assert listing(available())["polgar"].games == 24
    assert blocker.read_text() == "mine\n"


def test_the_cache_lives_under_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SIM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_file() == tmp_path / "sim" / "listing.json"


def test_a_second_sim_list_imports_neither_numpy_nor_the_scenario_model(tmp_path):
    """The second listing reads the rows; validating (numpy, the pydantic models) is
    what the cache spares."""
    code = (
        "import io, sys, contextlib\n"
        "import sim.cli\n"
        "sim.cli._leave = sys.exit  # exit the usual way: the lines below still run\n"
        "from sim.cli import main\n"
        "sys.argv = ['sim', 'list']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('numpy' in sys.modules, 'sim.scenario.model' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "SIM_CACHE_DIR": str(tmp_path)}
    seen = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        seen.append(done.stderr.strip().splitlines()[-1])
    assert seen == ["True True", "False False"]
