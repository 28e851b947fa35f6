"""`--set PATH=VALUE`: any field by dotted path, applied before validation."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import read_file, read_yaml
from sim.scenario.overrides import Override, parse
from tests.conftest import SCENARIOS

TWO_GROUPS = """\
players:
  - name: amateur
    count: 24
    moves: 30
    host_move: 5
    player_move: &answer {dist: exponential, mean: 55}
  - count: 2
    host_move: 1
    player_move: *answer
"""


def scenario(text: str, *sets: str):
    return read_yaml(text).scenario([parse(s) for s in sets])


def polgar(*sets: str):
    return read_file(SCENARIOS / "polgar.yaml").scenario([parse(s) for s in sets])


def test_groups_by_name_by_index_and_in_brackets():
    changed = polgar("players.amateur.count=48", "players.0.moves=10", "players[0].host_move=2s")
    group = changed.players[0]
    assert (group.count, group.moves, group.host_move) == (48, 10, 2.0)


def test_unnamed_groups_answer_to_their_default_name_and_star_means_every_group():
    changed = scenario(TWO_GROUPS, "players.group-2.count=5", "players.*.moves=3")
    assert [g.count for g in changed.players] == [24, 5]
    assert [g.moves for g in changed.players] == [3, 3]


def test_a_group_field_alone_means_that_field_in_every_group():
    """`host_move=3` is `players.*.host_move=3`."""
    changed = scenario(TWO_GROUPS, "host_move=3")
    assert [g.host_move for g in changed.players] == [3.0, 3.0]


SCHEDULES = "players:\n  - {count: 2, host_move: 1}\nschedules: [cooperative, threaded]\n"


def test_a_schedule_answers_to_its_kind_and_a_bare_kind_takes_parameters():
    """`threaded` in the file is `{threaded: {}}`; `schedules.threaded.threads` and
    `schedules[1].threaded.threads` set the same parameter; bare numbers in the unit."""
    for path in ("schedules.threaded", "schedules[1].threaded", "schedules.1.threaded"):
        changed = scenario(
            "unit: ms\n" + SCHEDULES, f"{path}.threads=4", f"{path}.switch_interval=2"
        )
        threaded = changed.schedules[1].threaded
        assert (threaded.threads, threaded.switch_interval) == (4, 0.002), path
    assert scenario(SCHEDULES, "schedules.cooperative.order=asyncio").schedules[0].label == (
        "cooperative(order=asyncio)"
    )


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("schedules.parallel.processes=2", "no item 'parallel'; expected cooperative, threaded"),
        ("schedules.threaded.threads=0", "schedules[1].threaded.threads: expected a number ≥ 1"),
        ("schedules.threaded.bogus=1", "unknown threaded parameter 'bogus'"),
    ],
)
def test_a_schedule_named_wrong_is_refused_naming_it(override, words):
    with pytest.raises(ScenarioError) as refused:
        scenario(SCHEDULES, override)
    assert words in str(refused.value)


def test_a_kind_listed_twice_must_be_named_by_its_place():
    twice = SCHEDULES.replace("[cooperative, threaded]", "[threaded, {threaded: {gil: false}}]")
    with pytest.raises(ScenarioError) as refused:
        scenario(twice, "schedules.threaded.threads=2")
    assert "'threaded' is more than one: [0], [1]" in str(refused.value)
    assert scenario(twice, "schedules[1].threaded.threads=2").schedules[1].threaded.threads == 2


def test_unit_override_changes_the_meaning_of_the_files_bare_numbers():
    """unit: min → host_move 5 is 300 s and player_move 55 is 3 300 s."""
    group = polgar("unit=min").players[0]
    assert (group.host_move, group.player_move) == (300.0, 3_300.0)


def test_values_are_yaml_so_a_duration_may_become_a_distribution():
    group = polgar("player_move={dist: lognormal, mean: 55s, sd: 20s}").players[0]
    assert (group.player_move.dist, group.player_move.mean, group.player_move.sd) == (
        "lognormal",
        55.0,
        20.0,
    )


def test_a_field_inside_an_aliased_mapping_changes_in_one_place_only():
    """Both groups share `*answer` in the file; setting one group's mean leaves the other's."""
    changed = scenario(TWO_GROUPS, "players.amateur.player_move.mean=60")
    assert [g.player_move.mean for g in changed.players] == [60.0, 55.0]


def test_missing_mappings_are_created_and_later_overrides_win():
    changed = scenario(TWO_GROUPS, "host.count=2", "host.count=3", "host.name=Judit")
    assert (changed.host.count, changed.host.name) == (3, "Judit")


def test_the_file_data_is_never_changed_by_an_override():
    document = read_file(SCENARIOS / "polgar.yaml")
    document.scenario([parse("players.amateur.count=48")])
    assert document.scenario().players[0].count == 24


def test_an_empty_value_is_the_empty_string():
    assert polgar("description=").description == ""


BAD = {
    # --set argument: (start of the error line, words in it)
    "players.amateur.cont=48": (
        "--set players.amateur.cont: players[0].cont: ",
        ["unknown field 'cont'", "did you mean 'count'"],
    ),
    "players.amateur.count=many": (
        "--set players.amateur.count: players[0].count: ",
        ['expected a whole number, got "many"'],
    ),
    "players.pro.count=3": (
        "--set players.pro.count: players: ",
        ["no player group 'pro'", "amateur", "index 0..0"],
    ),
    "players.7.count=3": ("--set players.7.count: players: ", ["no player group '7'"]),
    "count=3": ("--set count: ", ["ambiguous", "host.count or players.NAME.count"]),
    "host.count=0": ("--set host.count: host.count: ", ["expected a number ≥ 1, got 0"]),
    "unit=parsec": ("--set unit: unit: ", ['got "parsec"']),
    "unit.big=1": ("--set unit.big: unit: ", ['is "s", not a mapping']),
    "hostt.count=2": ("--set hostt.count: hostt: ", ["unknown field 'hostt'", "'host'"]),
    "player_move={dist: normal, mean: 5, sd: -1}": (
        "--set player_move: players[0].player_move.sd: ",
        ["expected a duration ≥ 0, got -1"],
    ),
    "host_move={oops": ("--set host_move: ", ["not valid YAML"]),
    "nothing": ("--set: ", ["expected PATH=VALUE", "'nothing'"]),
    "players..count=1": ("--set players..count: ", ["expected a dotted path"]),
}


@pytest.mark.parametrize("override", BAD, ids=list(BAD))
def test_a_bad_override_is_one_clear_line_naming_it_and_status_2(override, tmp_path):
    prefix, words = BAD[override]
    for command in ("validate", "run"):
        args = [command, "polgar", "--set", override]
        result = CliRunner().invoke(
            app, [*args, "--out", str(tmp_path)] if command == "run" else args
        )
        assert result.exit_code == 2, result.output
        first = result.stderr.splitlines()[0]
        assert first.startswith(prefix), first
        for word in words:
            assert word in first, first
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_file_error_made_worse_by_an_override_names_both(tmp_path):
    """Giving `steps` to a group that has host_move: the group's line, and the override."""
    with pytest.raises(ScenarioError) as caught:
        polgar("players.0.steps=[{host: 1}]")
    (problem,) = caught.value.problems
    assert problem.line == 14 and problem.path == "players[0]"
    assert "either host_move/player_move or steps" in problem.message
    assert "--set players.0.steps=[{host: 1}]" in problem.message


def test_overrides_are_recorded_in_summary_and_printed(tmp_path):
    """48 amateurs on 2 Judits: synchronous ⌈48/2⌉ × 30 × 60 = 43 200 s."""
    sets = ["--set", "players.amateur.count=48", "--set", "host.count=2"]
    result = CliRunner().invoke(app, ["run", "polgar", *sets, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "with --set players.amateur.count=48; host.count=2" in result.stdout
    summary = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False)
    assert set(summary["overrides"]) == {"players.amateur.count=48; host.count=2"}
    assert summary.loc[0, "makespan_s"] == 43_200.0


def test_override_text_can_be_typed_again():
    override = Override("player_move", {"dist": "exponential", "mean": 5})
    assert override.text == "player_move={dist: exponential, mean: 5}"
    assert parse(override.text).value == override.value


def test_a_value_from_code_is_shown_as_yaml_and_each_place_gets_its_own_copy():
    """A tuple is a YAML list; `*` puts a copy in each group, so the later path changes
    one group's mean: 60 s for amateur, 55 s left for the other."""
    assert Override("schedules", ("cooperative", "synchronous")).text == (
        "schedules=[cooperative, synchronous]"
    )
    law = {"dist": "exponential", "mean": 55}
    changed = read_yaml(TWO_GROUPS).scenario(
        [Override("players.*.player_move", law), parse("players.amateur.player_move.mean=60")]
    )
    assert [g.player_move.mean for g in changed.players] == [60.0, 55.0]
    assert law == {"dist": "exponential", "mean": 55}
