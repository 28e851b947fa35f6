"""Scenario input that cannot exhaust memory or time, nor read otherwise than it looks.

The budget counts the hosts, threads and worker processes a run sets up; names
have a maximum length and no control or bidirectional characters, and pictures
shorten them; `--set` and sweep values are read by the guarded loader; numbers
YAML 1.1 reads oddly (`010`, `1:30`) and merges whose result depends on the tool
are refused; a file that is no scenario is not quoted back line by line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.runs import run
from sim.output import chrome_trace
from sim.output.plots import timeline
from sim.output.plots.timeline import ROW_LABEL_CHARS
from sim.scenario import loader
from sim.scenario.errors import ScenarioError
from sim.scenario.grid import parse_values
from sim.scenario.limits import EVENTS_PER_PROCESS, MAX_EVENTS, sweep_too_much, too_much
from sim.scenario.model import Scenario
from sim.scenario.names import MAX_NAME, clipped
from sim.scenario.overrides import parse
from sim.scenario.schema import scenario_schema

TWO_PLAYERS = "players:\n  - {name: a, count: 2, host_move: 1, player_move: 1}\n"


def refused(text: str, source: str = "x.yaml") -> str:
    """The problems `text` is refused with, one line each."""
    with pytest.raises(ScenarioError) as error:
        loader.from_yaml(text, source=source)
    return str(error.value)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stderr


# -- hosts, threads and processes count in the budget -----------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (  # every host is a slot in each schedule's pool, games or not
            "host: {count: 99999999}\n" + TWO_PLAYERS,
            1,
            "host.count",
            "99 999 999 hosts × 2 schedules + 2 threads + 99 999 999 worker processes × 30",
        ),
        (
            TWO_PLAYERS + "schedules:\n  - parallel: {processes: 1000000000}\n",
            4,
            "schedules[0].parallel.processes",
            "1 000 000 000 worker processes × 30 + 1 host = 30 000 000 001 events",
        ),
        (
            TWO_PLAYERS + "schedules:\n  - parallel: {processes: 30000000}\n",
            4,
            "schedules[0].parallel.processes",
            "30 000 000 worker processes × 30 + 1 host = 900 000 001 events",
        ),
        (
            TWO_PLAYERS + "schedules:\n  - threaded: {threads: 200000000}\n",
            4,
            "schedules[0].threaded.threads",
            "200 000 000 threads + 1 host = 200 000 001 events",
        ),
        (
            "host: {count: 100000000}\n" + TWO_PLAYERS + "schedules: [{cooperative: {hosts: 2}}]\n",
            1,
            "host.count",
            "2 hosts + 100 000 000 hosts = 100 000 002 events",
        ),
    ],
    ids=["hosts", "processes-1e9", "processes-3e7", "threads", "hosts-of-synchronous"],
)
def test_what_a_run_sets_up_counts_in_the_budget(text, line, field, words, tmp_path):
    """The issue's files: refused at the count to lower, before anything is set up."""
    path = tmp_path / "x.yaml"
    path.write_text(text)
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "o")]):
        status, stderr = cli(*command)
        assert status == 2
        assert stderr.startswith(f"{path}:{line}: {field}: setting up "), stderr
        assert words in stderr and "over the budget of 100 000 000" in stderr, stderr
        assert stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_the_setting_up_budget_is_exact_and_max_events_lifts_it():
    """50 hosts under synchronous and cooperative, 3 worker processes: 100 + 90 events."""
    scenario = Scenario(
        host={"count": 50},
        players=[{"name": "a", "count": 2, "host_move": 1}],
        schedules=["synchronous", "cooperative", {"parallel": {"processes": 3}}],
    )
    setup = 50 * 2 + 3 * EVENTS_PER_PROCESS
    assert scenario.step_count * 3 < setup  # the step events are no part of the figure
    assert too_much(scenario, setup) == []
    [over] = too_much(scenario, setup - 1)
    assert over.loc == ("schedules", 2, "parallel", "processes")  # weighs most: 90
    assert "50 hosts × 2 schedules + 3 worker processes × 30 = 190 events" in over.message
    assert too_much(scenario, setup, repeats=2)  # every replication sets them up again


def test_a_sweep_counts_what_each_point_sets_up():
    """Two points of 60 000 000 hosts: each within the budget, not both."""
    points = [
        Scenario(host={"count": 60_000_000}, players=[{"host_move": 1}], schedules=["synchronous"])
        for _ in range(2)
    ]
    assert too_much(points[0], MAX_EVENTS) == []
    [over] = sweep_too_much(points, MAX_EVENTS)
    assert "2 points set up hosts, threads and processes worth 120 000 000 events" in over.message


def test_max_events_lets_a_large_host_count_through(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("host: {count: 99999999}\n" + TWO_PLAYERS)
    assert cli("validate", str(path))[0] == 2
    assert cli("validate", str(path), "--max-events", "1e10")[0] == 0


@pytest.mark.wallclock
def test_the_issue_s_counts_are_refused_in_well_under_a_second(tmp_path):
    """Before: a MemoryError after 8 s at 3.7 GB, at once, and after 25 s at 2.8 GB."""
    texts = [
        "host: {count: 99999999}\n" + TWO_PLAYERS,
        TWO_PLAYERS + "schedules:\n  - parallel: {processes: 1000000000}\n",
        TWO_PLAYERS + "schedules:\n  - parallel: {processes: 30000000}\n",
    ]
    for index, text in enumerate(texts):
        path = tmp_path / f"x{index}.yaml"
        path.write_text(text)
        began = time.perf_counter()
        with pytest.raises(ScenarioError):
            loader.load_file(path)
        assert time.perf_counter() - began < 0.1
        done = subprocess.run(
            [sys.executable, "-m", "sim", "run", str(path), "--out", str(tmp_path / "o")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2 and "setting up" in done.stderr, done.stderr


# -- names: length and characters ----------------------------------------------------------


def test_names_have_a_maximum_length():
    name = "g" * MAX_NAME
    assert loader.from_yaml(f"players: [{{name: {name}, host_move: 1}}]").players[0].name == name
    lines = refused(f"players:\n  - name: {name}x\n    host_move: 1\n")
    assert lines == "x.yaml:2: players[0].name: expected at most 200 characters, got 201"
    lines = refused("name: " + "n" * 100_000 + "\n" + TWO_PLAYERS)
    assert lines == "x.yaml:1: name: expected at most 200 characters, got 100 000"
    assert "host.name: expected at most 200" in refused(f"host: {{name: {name}h}}\n" + TWO_PLAYERS)


@pytest.mark.parametrize(
    ("escape", "what"),
    [
        ("\\n", "control character U+000A"),
        ("\\t", "control character U+0009"),
        ("\\u2028", "line separator U+2028"),
        ("\\u202e", "bidirectional formatting character U+202E"),
        ("\\u2066", "bidirectional formatting character U+2066"),
        ("\\u200f", "bidirectional formatting character U+200F"),
    ],
)
def test_a_name_with_a_control_or_bidirectional_character_is_refused(escape, what):
    for line, field, text in [
        (1, "name", f'name: "a{escape}b"\n' + TWO_PLAYERS),
        (1, "host.name", f'host: {{name: "a{escape}b"}}\n' + TWO_PLAYERS),
        (2, "players[0].name", f'players:\n  - {{name: "a{escape}b", host_move: 1}}\n'),
    ]:
        lines = refused(text)
        assert lines.startswith(f"x.yaml:{line}: {field}: a name holds the {what}"), lines
        assert "\n" not in lines


def test_a_description_may_span_lines_but_not_turn_text_around():
    text = 'description: "two\\nlines"\n' + TWO_PLAYERS
    assert loader.from_yaml(text).description == "two\nlines"
    lines = refused('description: "\\u202eevil"\n' + TWO_PLAYERS)
    assert "description: the text holds the bidirectional formatting character U+202E" in lines


def test_names_built_in_code_are_checked_too():
    for name in ("\u202eevil", "a\x85b", "a\nb"):
        with pytest.raises(ValueError, match="a name holds the"):
            Scenario(name=name, players=[{"host_move": 1}])
    with pytest.raises(ValueError, match="at most 200 characters"):
        Scenario(players=[{"name": "g" * 201, "host_move": 1}])


def test_the_schema_refuses_what_the_names_refuse():
    validator = jsonschema.Draft7Validator(scenario_schema())
    good = {"name": "Polgár 🏆", "description": "a\nb", "players": [{"host_move": 1}]}
    assert list(validator.iter_errors(good)) == []
    for bad in (
        {**good, "name": "a\u202eb"},
        {**good, "players": [{"name": "g" * 201, "host_move": 1}]},
        {**good, "host": {"name": "a\u0007"}},
        {**good, "description": "\u2066x"},
    ):
        assert list(validator.iter_errors(bad)), bad


def test_clipped_keeps_the_start_and_the_end():
    assert clipped("amateur-12", 16) == "amateur-12"
    assert clipped("a-very-long-group-name-12", 16) == "a-very-l…name-12"
    assert len(clipped("x" * 10_000, 16)) == 16
    assert clipped("abc", 1) == "…"


def long_names() -> Scenario:
    name = "g" * 190
    return loader.from_yaml(
        f"name: {'n' * 200}\nhost: {{name: {'h' * 200}}}\nresources: {{{'r' * 64}: 1}}\n"
        f"players:\n  - name: {name}\n    count: 3\n"
        f"    steps: [{{with: {'r' * 64}, steps: [{{host: 1}}]}}, {{wait: 1}}]\n"
        "schedules: [cooperative]\n"
    )


def test_the_timeline_shortens_long_names():
    """Names of 200 characters: row labels fit the margin, players still told apart."""
    result = run(long_names())
    fig = timeline(result.traces)
    ax = next(ax for ax in fig.axes if (ax.get_gid() or "").startswith("timeline:"))
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert [label[-2:] for label in labels] == ["-1", "-2", "-3"]
    assert all(len(label) == ROW_LABEL_CHARS for label in labels), labels
    texts = [text.get_text() for text in fig.texts]
    texts += [text.get_text() for text in fig.legends[0].get_texts()]
    texts += [ax.get_title(loc="left") for ax in fig.axes]
    assert texts and all(len(text) < 120 for text in texts), texts


def test_the_chrome_trace_shortens_long_names():
    result = run(long_names())
    document = json.loads("".join(chrome_trace.chunks(result.traces)))
    events = document["traceEvents"]
    tracks = [event["args"]["name"] for event in events if event.get("name") == "thread_name"]
    names = tracks + [event["name"] for event in events if event["ph"] in "Bi"]
    players = {name for name in names if name.startswith("g")}
    assert max(len(name) for name in [*tracks, *players]) == chrome_trace.LABEL_CHARS
    assert max(len(name) for name in names) < 100  # `waiting for` a resource (64 at most)
    assert {name[-2:] for name in players} == {"-1", "-2", "-3"}
    assert any(name.startswith("h") for name in tracks)  # the host's track


# -- --set and sweep values go through the guarded loader -----------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("[" * 500 + "]" * 500, "refused: nested more than 100 levels deep"),
        ("9" * 5000, "cannot read"),
        ("010", "010 has a leading zero, so YAML 1.1 reads it as the octal number 8"),
        ('"\\e[2J"', "text holds the control character U+001B"),
        ("[&a [*a]]", "repeats a node that contains it"),
    ],
    ids=["nesting-500", "int-5000-digits", "octal", "escape", "alias-loop"],
)
def test_a_set_value_is_read_within_the_limits_of_a_file(value, words):
    status, stderr = cli("validate", "polgar", "--set", f"host.count={value}")
    assert status == 2
    assert stderr.startswith("--set host.count: ") and words in stderr, stderr
    assert stderr.count("\n") == 1


def test_a_set_value_of_deep_nesting_through_the_real_command_is_no_internal_error():
    """Before: RecursionError, exit 70."""
    value = "[" * 500 + "]" * 500
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "polgar", "--set", f"host.count={value}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_set_values_still_read_as_yaml():
    assert parse("host.count=48").value == 48
    assert parse("host.count=0x10").value == 16
    assert parse("host.count=").value == ""
    assert parse('name="010"').value == "010"
    assert parse("host_move={dist: exponential, mean: 5}").value == {
        "dist": "exponential",
        "mean": 5,
    }


def test_sweep_values_are_read_within_the_limits_too():
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        parse_values("[" + "[" * 600 + "]" * 600 + "]")
    with pytest.raises(ValueError, match="leading zero"):
        parse_values("1,010")
    with pytest.raises(ValueError, match="base 60"):
        parse_values("[1:30]")
    assert parse_values("1,2,[3, 4]") == (1, 2, [3, 4])
    text = TWO_PLAYERS + 'sweep:\n  players.a.count: "1,' + "[" * 600 + "]" * 600 + '"\n'
    assert "sweep.players.a.count: not valid YAML in" in refused(text)


# -- YAML 1.1 surprises ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reading"),
    [
        ("010", "010 has a leading zero, so YAML 1.1 reads it as the octal number 8"),
        ("-007", "-007 has a leading zero, so YAML 1.1 reads it as the octal number -7"),
        ("00", "00 has a leading zero, so YAML 1.1 reads it as the octal number 0"),
        ("1:30", "1:30 is base 60 to YAML 1.1, read as 90"),
        ("1:30.5", "1:30.5 is base 60 to YAML 1.1, read as 90.5"),
        ("!!int 010", "010 has a leading zero"),
    ],
)
def test_numbers_yaml_1_1_reads_otherwise_are_refused(value, reading):
    lines = refused(f"players:\n  - name: a\n    count: {value}\n    host_move: 1\n")
    assert lines.startswith(f"x.yaml:3: players[0].count: {reading}"), lines


def test_quoted_or_plain_numbers_are_what_they_look_like():
    scenario = loader.from_yaml("players:\n  - {name: '010', count: 10, moves: 0x10, host_move: 0}")
    assert (scenario.players[0].name, scenario.players[0].count) == ("010", 10)
    assert scenario.players[0].moves == 16
    assert "expected a whole number" in refused('players: [{count: "010", host_move: 1}]')


def test_a_merge_of_one_mapping_is_read_with_the_mapping_s_own_keys_winning():
    scenario = loader.from_yaml(
        "players:\n  - &a {name: a, count: 2, host_move: 1}\n  - <<: *a\n    name: b\n"
    )
    assert [(group.name, group.count) for group in scenario.players] == [("a", 2), ("b", 2)]


def test_a_merge_of_mappings_that_share_a_key_is_refused():
    """YAML 1.1 says the first of `<<: [*a, *b]` wins; PyYAML lets the last win."""
    a, b = "&a {name: a, count: 2, host_move: 1}", "&b {name: b, count: 3, host_move: 1}"
    lines = refused(f"players:\n  - {a}\n  - {b}\n  - <<: [*a, *b]\n    name: c\n")
    assert [line.split(": ")[:2] for line in lines.splitlines()] == [  # `name` is set in c
        ["x.yaml:4", "players[2].count"],
        ["x.yaml:4", "players[2].host_move"],
    ]
    assert "two merged mappings (`<<: [...]`) both give this key" in lines
    a, b = "&a {name: a, host_move: 1}", "&b {name: b, count: 3, player_move: 2}"
    apart = loader.from_yaml(f"players:\n  - {a}\n  - {b}\n  - <<: [*a, *b]\n    name: c\n")
    merged = apart.players[2]
    assert (merged.name, merged.count, merged.host_move, merged.player_move) == ("c", 3, 1, 2)


# -- a file that is no scenario is not quoted back --------------------------------------------


def test_a_file_that_is_no_scenario_is_refused_without_quoting_it(tmp_path):
    """A password-file-like mapping: one line, and none of its lines echoed."""
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$SECRET-HASH:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n")
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:SECRET-GECOS:/root:/bin/bash\n")
    for path in (shadow, passwd):
        status, stderr = cli("validate", str(path))
        assert status == 2 and stderr.count("\n") == 1, stderr
        assert "SECRET" not in stderr and "bin" not in stderr, stderr
        assert stderr.startswith(f"{path}:1: expected a mapping with at least `players:`")
    assert (
        "got a mapping of 2 keys, none of them a scenario field" in cli("validate", str(shadow))[1]
    )


def test_a_scenario_with_a_misspelt_field_is_still_told_what_it_meant():
    lines = refused("Players:\n  - host_move: 1\n")
    assert "unknown field 'Players' (did you mean 'players'?)" in lines
    lines = refused("plyers:\n  - host_move: 1\n")
    assert "unknown field 'plyers' (did you mean 'players'?)" in lines


def test_a_long_unknown_key_is_quoted_short():
    lines = refused("? " + "x" * 100_000 + "\n: 1\n" + TWO_PLAYERS)
    assert len(lines) < 400 and "…(100000 characters)" in lines, lines[:400]


def test_shipped_scenarios_stay_valid():
    root = Path(__file__).resolve().parent.parent / "scenarios"
    for path in sorted(root.glob("*.yaml")):
        loader.load_file(path)
