"""The Python API: what `import sim` offers, its docstring examples, the notebook example."""

from __future__ import annotations

import doctest
import importlib
import os
import runpy
import subprocess
import sys

import pytest

import sim
from tests.conftest import ROOT

DOCUMENTED = [
    "sim",
    "sim.scenario.loader",
    "sim.experiment.runs",
    "sim.scenario.model",
    "sim.scenario.with_values",
    "sim.experiment.sweeps",
]


@pytest.mark.parametrize("module", DOCUMENTED)
def test_docstring_examples_run_and_give_what_they_show(module):
    found = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert found.attempted > 0 and found.failed == 0


def test_every_public_name_resolves_and_says_what_it_is_for():
    assert sorted(sim.__all__) == sorted(set(sim.__all__))
    for name in sim.__all__:
        value = getattr(sim, name)
        assert value.__doc__ and value.__doc__.strip(), name
    assert (ROOT / "sim" / "py.typed").is_file()
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sim.nothing  # noqa: B018


def test_import_sim_loads_neither_pandas_nor_the_engine():
    """`sim --help` must stay fast: names load on first use."""
    heavy = "('pandas', 'simpy', 'pydantic')"
    code = f"import sys, sim; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_command_loads_neither_pandas_nor_the_engine_before_a_command_needs_them():
    """`sim --help` and `sim list` answer at once: the `sim` command's own modules import
    no engine (numpy, SimPy), no pandas, no matplotlib until a command runs."""
    heavy = "('pandas', 'simpy', 'numpy', 'matplotlib', 'sim.engine')"
    code = f"import sys, sim.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_with_values_names_a_wrong_path_or_value_as_set_does():
    polgar = sim.load("polgar")
    cases = {
        "players.amateur.cont": "with_values players.amateur.cont: players[0].cont: "
        "unknown field 'cont' (did you mean 'count'?)",
        "players.pro.count": "with_values players.pro.count: players: no player group 'pro'; "
        "expected amateur, or an index 0..0, or *",
        "players.amateur.count": "with_values players.amateur.count: players[0].count: "
        'expected a whole number, got "many"',
    }
    for path, message in cases.items():
        with pytest.raises(sim.ScenarioError) as caught:
            sim.with_values(polgar, {path: "many" if path.endswith("count") else 3})
        assert str(caught.value).startswith(message)


def test_a_bare_number_for_a_duration_is_in_the_scenarios_unit():
    """unit: min; host_move 3 → 180 s; count 5 stays 5 players."""
    s = sim.from_yaml("unit: min\nplayers: [{name: a, host_move: 1, player_move: 2}]")
    changed = sim.with_values(s, {"host_move": 3, "players.a.count": 5})
    assert changed.players[0].host_move == 180.0 and changed.players[0].count == 5
    assert changed.players[0].player_move == 120.0


def test_sweep_plays_the_whole_grid():
    """2 counts × 2 hosts × 2 schedules = 8 rows; synchronous ⌈n/k⌉·R·(c+w) with R(c+w) = 1 800."""
    table = sim.sweep(sim.load("polgar"), {"players.amateur.count": [2, 3], "host.count": [1, 2]})
    assert len(table) == 8
    synchronous = table[table.schedule == "synchronous"]
    got = {
        (n, k): m
        for n, k, m in synchronous[["players.amateur.count", "host.count", "makespan_s"]].values
    }
    assert got == {(2, 1): 3600.0, (2, 2): 1800.0, (3, 1): 5400.0, (3, 2): 3600.0}


def test_the_notebook_example_reproduces_the_polgar_table_and_the_knee(tmp_path, capsys):
    """Synchronous 24·30·60 = 43 200 s; cooperative max(n·R·c + w, R·(c+w) + (n−1)·c):
    n=1: 1 800, n=12: 1 855, n=13: 2 005, n=24: 3 655, n=48: 7 255 (R=30, c=5, w=55)."""
    os.environ["SIM_EXPLORE_OUT"] = str(tmp_path)
    try:
        names = runpy.run_path(str(ROOT / "examples" / "explore.py"))
    finally:
        del os.environ["SIM_EXPLORE_OUT"]
    printed = capsys.readouterr().out
    assert "43200.0" in printed and "3655.0" in printed and "1:00:55" in printed
    knee = names["knee"]
    assert knee.loc[[1, 12, 13, 24, 48], "cooperative"].tolist() == [1800, 1855, 2005, 3655, 7255]
    assert knee.loc[[1, 2, 48], "synchronous"].tolist() == [1800, 3600, 86400]
    lines = names["axes"].get_lines()
    assert [line.get_label() for line in lines[:2]] == ["synchronous", "cooperative"]
    assert len(lines[0].get_xdata()) == 48
    assert (tmp_path / "sweep.png").stat().st_size > 10_000


def test_plot_draws_the_timeline_one_panel_per_schedule():
    """countasync: 3 games × 2 schedules; the figure has a panel for each schedule."""
    figure = sim.plot(sim.run("countasync", schedules=["synchronous", "cooperative"]))
    panels = [ax.get_gid() for ax in figure.axes if (ax.get_gid() or "").startswith("timeline:")]
    assert panels == ["timeline:synchronous", "timeline:cooperative"]
