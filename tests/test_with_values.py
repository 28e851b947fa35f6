"""`sim.with_values`: a what-if in code is `--set` on the scenario's file, whatever the path."""

from __future__ import annotations

import gc
import pickle

import pytest

import sim
from sim.scenario import loader
from sim.scenario.loader import read_file
from sim.scenario.overrides import parse
from tests.conftest import SCENARIOS
from tests.test_overrides import TWO_GROUPS  # the same two groups, changed by --set there

#: The same changes `tests/test_overrides.py` makes with `--set`, as text.
SETS = [
    "players.amateur.count=48",
    "players.0.moves=10",
    "players[0].host_move=2s",
    "players.*.moves=3",
    "host_move=3",
    "unit=min",
    "player_move={dist: lognormal, mean: 55s, sd: 20s}",
    "host.count=2",
    "sweep.players.amateur.count=1..3",
]


def polgar_file(*sets: str) -> sim.Scenario:
    return read_file(SCENARIOS / "polgar.yaml").scenario([parse(text) for text in sets])


@pytest.mark.parametrize("text", SETS)
def test_every_path_means_what_it_means_for_set(text):
    override = parse(text)
    changed = sim.with_values(sim.load("polgar"), {override.path: override.value})
    assert changed == polgar_file(text)
    assert changed != sim.load("polgar")


#: `--set` texts from `tests/test_overrides.py` that are wrong once applied.
WRONG = [
    "players.amateur.cont=48",
    "players.amateur.count=many",
    "players.pro.count=3",
    "players.7.count=3",
    "count=3",
    "host.count=0",
    "unit=parsec",
    "unit.big=1",
    "hostt.count=2",
    "player_move={dist: normal, mean: 5, sd: -1}",
    "players..count=1",
]


@pytest.mark.parametrize("text", WRONG)
def test_a_mistake_reads_as_for_set_with_the_call_named(text):
    override = parse(text)
    with pytest.raises(sim.ScenarioError) as on_the_command_line:
        polgar_file(text)
    with pytest.raises(sim.ScenarioError) as in_code:
        sim.with_values(sim.load("polgar"), {override.path: override.value})
    expected = str(on_the_command_line.value).replace("--set ", "with_values ")
    assert str(in_code.value) == expected
    assert str(in_code.value).startswith(f"with_values {override.path}")


def test_a_file_error_made_worse_names_the_files_line_and_the_call():
    """polgar's group (line 14) has host_move: giving it `steps` too is the file's error."""
    with pytest.raises(sim.ScenarioError) as caught:
        sim.with_values(sim.load("polgar"), {"players.0.steps": [{"host": 1}]})
    (problem,) = caught.value.problems
    assert problem.source.endswith("polgar.yaml") and problem.line == 14
    assert "either host_move/player_move or steps" in problem.message
    assert "(with with_values players.0.steps=[{host: 1}])" in problem.message


def test_a_name_wins_over_an_index_as_for_set():
    """Groups called "1" and "0": `players.0` is the group named "0", the second one."""
    text = TWO_GROUPS.replace("name: amateur", 'name: "1"').replace("- count: 2", '- name: "0"')
    changed = sim.with_values(sim.from_yaml(text), {"players.0.count": 5})
    assert [group.count for group in changed.players] == [24, 5]


def test_star_and_a_group_field_alone_change_every_group():
    changed = sim.with_values(sim.from_yaml(TWO_GROUPS), {"players.*.moves": 3, "host_move": 2})
    assert [(g.moves, g.host_move) for g in changed.players] == [(3, 2.0), (3, 2.0)]


def test_unit_rereads_the_files_bare_numbers_and_the_calls():
    """polgar under unit: min: host_move 5 → 300 s, player_move 55 → 3 300 s; host_move 1
    given in the same call → 60 s."""
    polgar = sim.load("polgar")
    group = sim.with_values(polgar, {"unit": "min"}).players[0]
    assert (group.host_move, group.player_move) == (300.0, 3_300.0)
    group = sim.with_values(polgar, {"unit": "min", "host_move": 1}).players[0]
    assert (group.host_move, group.player_move) == (60.0, 3_300.0)


def test_unit_leaves_a_duration_written_with_its_unit():
    """host_move 1 (bare) → 1 h = 3 600 s under unit: h; player_move 55s stays 55 s."""
    s = sim.from_yaml("unit: min\nplayers: [{name: a, host_move: 1, player_move: 55s}]")
    assert s.players[0].host_move == 60.0
    group = sim.with_values(s, {"unit": "h"}).players[0]
    assert (group.host_move, group.player_move) == (3_600.0, 55.0)


def test_what_ifs_chain_like_repeated_set():
    """`host_move=2` then `unit=min`, as `--set host_move=2 --set unit=min`: 2 min = 120 s."""
    twice = sim.with_values(sim.with_values(sim.load("polgar"), {"host_move": 2}), {"unit": "min"})
    assert twice == polgar_file("host_move=2", "unit=min")
    assert twice.players[0].host_move == 120.0


def test_a_value_from_code_is_copied_into_every_place_it_goes():
    """The caller's dict stays as it was; `*` gives each group its own copy, so a later
    path changes one group's mean only."""
    host = {"name": "Judit"}
    changed = sim.with_values(sim.load("polgar"), {"host": host, "host.count": 2})
    assert host == {"name": "Judit"} and (changed.host.name, changed.host.count) == ("Judit", 2)
    law = {"dist": "exponential", "mean": 5}
    changed = sim.with_values(
        sim.from_yaml(TWO_GROUPS),
        {"players.*.player_move": law, "players.amateur.player_move.mean": 60},
    )
    assert [g.player_move.mean for g in changed.players] == [60.0, 5.0]
    assert law == {"dist": "exponential", "mean": 5}


BUILT = {
    "unit": "ms",
    "host": {"switch_cost": 0.5},
    "players": [
        {
            "name": "a",
            "count": 2,
            "steps": [
                {"host": 0.1},
                {"wait": {"dist": "gamma", "shape": 2.5, "scale": 3}},
                {"block": {"dist": "empirical", "values": [1, 2.5]}},
            ],
        }
    ],
    "schedules": [{"threaded": {"switch_interval": 0.7}}, "cooperative"],
}


def test_a_scenario_built_in_code_changes_only_where_asked():
    """Every duration (in ms) comes back to the same float; gamma's shape is no duration."""
    built = sim.Scenario(**BUILT)
    same = sim.with_values(built, {})
    assert same == built and same.unit == "ms"
    assert same.players[0].steps[1].wait.shape == 2.5
    changed = sim.with_values(built, {"players.a.count": 3})
    assert changed.games == 3 and changed.players[0].round == built.players[0].round


def test_a_scenario_built_in_code_keeps_its_durations_when_unit_changes():
    """unit: min, host_move 5 → 300 s. A bare 2 is 120 s; under unit: h the 300 s stay,
    and a bare 1 given with it is 3 600 s."""
    built = sim.Scenario(unit="min", players=[{"name": "a", "host_move": 5, "player_move": 1}])
    assert sim.with_values(built, {"host_move": 2}).players[0].host_move == 120.0
    group = sim.with_values(built, {"unit": "h"}).players[0]
    assert (group.host_move, group.player_move) == (300.0, 60.0)
    assert sim.with_values(built, {"unit": "h", "host_move": 1}).players[0].host_move == 3_600.0


def test_defaults_of_a_scenario_built_in_code_stay_defaults():
    """`sim.run` leaves out an unaffordable threaded schedule only from the default list."""
    built = sim.Scenario(players=[{"name": "a", "host_move": 5, "player_move": 1}])
    changed = sim.with_values(built, {"host_move": 2})
    assert "schedules" not in changed.model_fields_set
    assert changed.schedules == built.schedules and changed.name == "scenario"


def test_an_unpickled_scenario_is_changed_like_the_one_it_copies():
    polgar = sim.load("polgar")
    copy = pickle.loads(pickle.dumps(polgar))
    assert sim.with_values(copy, {"host_move": 2}) == sim.with_values(polgar, {"host_move": 2})


def test_a_scenario_gone_leaves_nothing_of_its_origin_behind():
    document = read_file(SCENARIOS / "polgar.yaml")
    kept = document.scenario()
    assert loader.made_from(kept) == (document, ())
    gc.collect()
    before = len(loader._ORIGINS)
    for count in range(1, 21):
        document.scenario([parse(f"players.amateur.count={count}")])
    gc.collect()
    assert len(loader._ORIGINS) == before
    assert loader.made_from(sim.Scenario(players=[{"name": "a", "host_move": 1}])) is None
