"""The garbage collector of the command (`sim.cli.collector`): fewer passes, the usual
ones while it plays, with what was made before frozen."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The thresholds before, while starting, while playing (twice nested) and after, in a
#: fresh process; whether anything was frozen.
CODE = (
    "import gc\n"
    "from sim.cli import collector\n"
    "usual = gc.get_threshold()\n"
    "collector.starting()\n"
    "seen = [gc.get_threshold()]\n"
    "with collector.playing():\n"
    "    with collector.playing():\n"
    "        seen.append(gc.get_threshold())\n"
    "    seen.append(gc.get_threshold())\n"
    "seen.append(gc.get_threshold())\n"
    "print(seen == [(100_000, *usual[1:]), usual, usual, (100_000, *usual[1:])],"
    " gc.get_freeze_count() > 0)\n"
)


def test_fewer_passes_but_the_usual_ones_while_playing():
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_without_starting_nothing_changes():
    """The API and the tests call the commands without `main`: their collector is theirs."""
    from sim.cli import collector

    before = gc.get_threshold(), gc.get_freeze_count()
    with collector.playing():
        assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_sim_run_plays_under_the_usual_thresholds(tmp_path, monkeypatch):
    """The engine's memory is what it was: the play runs under the usual thresholds."""
    from typer.testing import CliRunner

    import sim.experiment.runs
    from sim.cli import app, collector

    seen = []
    run = sim.experiment.runs.run

    def watched(*args, **kwargs):
        seen.append(gc.get_threshold())
        return run(*args, **kwargs)

    monkeypatch.setattr(sim.experiment.runs, "run", watched)
    usual = gc.get_threshold()
    monkeypatch.setattr(collector, "_usual", None)
    collector.starting()
    try:
        out = tmp_path / "o"
        result = CliRunner().invoke(app, ["run", "countasync", "--no-plots", "--out", str(out)])
        assert gc.get_threshold() == (collector.STARTING, *usual[1:])  # and after it, fewer
    finally:
        gc.set_threshold(*usual)
        gc.unfreeze()
    assert result.exit_code == 0, result.output
    assert seen == [usual]
