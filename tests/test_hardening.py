"""Hostile input: the regression corpus, resource limits, safe paths, the schema, exit codes.

Each file under tests/corpus/ once crashed, hung or garbled `sim`, or is a
classic attack; its second line says what must happen:
`# expect: 2 line=N field=PATH says=WORDS` (field `-`: the file as a whole)
or `# expect: 0`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import cli
from sim.cli import app
from sim.output.destination import MAX_SLUG, slug
from sim.scenario import loader, yaml_lines
from sim.scenario.errors import ScenarioError
from sim.scenario.guarded_yaml import PureGuardedLoader
from sim.scenario.limits import Limits, parse_count, parse_size, too_much
from sim.scenario.model import PlayerGroup, Scenario
from sim.scenario.schema import scenario_schema
from tests.conftest import SCENARIOS
from tests.fuzz import alias_bomb

CORPUS = Path(__file__).parent / "corpus"
EXPECT = re.compile(r"^# expect: (?:0|2 line=(\d+) field=(\S+) says=(.+))$", re.M)


def _expected(path: Path) -> tuple[int, int, str, str] | None:
    """(status, line, field, words) from the file's `# expect:` line; None for status 0."""
    match = EXPECT.search(path.read_bytes().decode("utf-8", "replace"))
    assert match, f"{path} has no `# expect:` line"
    if match[1] is None:
        return None
    return 2, int(match[1]), match[2], match[3]


CASES = sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_corpus_case_fails_as_its_header_says(path, tmp_path):
    expected = _expected(path)
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(app, command)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        if expected is None:
            assert result.exit_code == 0, result.output
            continue
        _, line, field, words = expected
        assert result.exit_code == 2, result.output
        first = result.stderr.splitlines()[0]
        prefix = f"{path}:{line}: " + ("" if field == "-" else f"{field}: ")
        assert first.startswith(prefix) and words in first, first
    if expected is not None:
        assert not (tmp_path / "o").exists()


def test_corpus_through_the_real_command_gives_no_traceback():
    """One `python -m sim validate` over the whole corpus, as a user would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", *map(str, CASES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    for path in CASES:
        expected = _expected(path)
        if expected is None:
            assert f"ok {path}:" in done.stdout
        else:
            assert f"{path}:{expected[1]}: " in done.stderr, path


def test_corpus_through_the_pure_python_parser_also_fails_cleanly(monkeypatch):
    """Without libyaml the same files are refused, each with a line (the wording may differ)."""
    monkeypatch.setattr(yaml_lines, "GuardedLoader", PureGuardedLoader)
    monkeypatch.setattr(yaml_lines, "FAST", False)
    for path in CASES:
        expected = _expected(path)
        try:
            loader.load_file(path)
        except ScenarioError as error:
            assert expected is not None, (path, error)
            assert all(problem.line for problem in error.problems), error
        else:
            assert expected is None, path


# -- resource limits ----------------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_it_expands():
    """12 levels of 12 aliases would be 12¹² ≈ 8.9 × 10¹² strings; refused at a million."""
    with pytest.raises(ScenarioError) as refused:
        loader.from_yaml(alias_bomb(levels=12, width=12), source="bomb.yaml")
    assert "more than 1 000 000 values once aliases are expanded" in str(refused.value)


def test_aliases_within_the_limit_are_fine():
    """One group reused twice by alias: 2 games of one host step each."""
    text = "g: &g {host_move: 1}\nplayers: [*g, *g]\n"
    with pytest.raises(ScenarioError) as refused:  # `g` itself is an unknown field...
        loader.from_yaml(text)
    assert "unknown field 'g'" in str(refused.value)  # ...but the aliases were no problem
    scenario = loader.from_yaml(
        "players:\n  - &g {name: a, host_move: 1}\n  - <<: *g\n    name: b\n"
    )
    assert [group.name for group in scenario.players] == ["a", "b"]


def test_a_file_over_the_size_limit_is_refused_unless_the_limit_is_raised(tmp_path):
    """A valid file padded with comments to 1 000 100 bytes: over 1 MB, under 2 MB."""
    path = tmp_path / "big.yaml"
    padding = "#" * 99 + "\n"
    path.write_text("players: [{host_move: 1}]\n" + padding * 10_000)
    assert path.stat().st_size == 26 + 1_000_000
    refused = CliRunner().invoke(app, ["validate", str(path)])
    assert refused.exit_code == 2
    assert "passes the limit of 1 000 000 bytes" in refused.stderr
    assert "--max-file-size raises it" in refused.stderr
    assert CliRunner().invoke(app, ["validate", str(path), "--max-file-size", "2MB"]).exit_code == 0


def test_the_event_budget_names_the_product_and_max_events_lifts_it(tmp_path):
    """polgar: 24 players × 30 moves × 2 steps × 2 schedules = 2 880 step events."""
    polgar = str(SCENARIOS / "polgar.yaml")
    refused = CliRunner().invoke(app, ["run", polgar, "--max-events", "2879"])
    assert refused.exit_code == 2
    line = refused.stderr.strip()
    assert line.startswith(f"{polgar}:14: players[0]: "), line
    assert "24 players × 30 moves × 2 steps × 2 schedules = 2 880 step events" in line
    assert "over the budget of 2 879; --max-events raises it" in line
    allowed = CliRunner().invoke(
        app, ["run", polgar, "--max-events", "2880", "--out", str(tmp_path)]
    )
    assert allowed.exit_code == 0, allowed.output


def test_the_budget_counts_schedules_picked_on_the_command_line(tmp_path):
    """10 players × 10 moves × 1 step: 100 events under synchronous alone, 200 with cooperative."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "players:\n  - name: p\n    count: 10\n    moves: 10\n    host_move: 1\n"
        "schedules: [synchronous]\n"
    )
    budget = ["--max-events", "150", "--out", str(tmp_path / "o")]
    assert CliRunner().invoke(app, ["run", str(path), *budget]).exit_code == 0
    refused = CliRunner().invoke(app, ["run", str(path), "--schedule", "cooperative", *budget])
    assert refused.exit_code == 2
    assert f"{path}:2: players[0]: " in refused.stderr
    assert "= 200 step events" in refused.stderr


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(
        st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)), min_size=1, max_size=3
    ),
    budget=st.integers(1, 10**12),
)
def test_a_scenario_is_over_budget_exactly_when_its_step_events_are(counts, budget):
    """Events = Σ count × moves × 2 steps, × 2 schedules (synchronous and cooperative)."""
    scenario = Scenario(
        players=[
            {"name": f"g{i}", "count": count, "moves": moves, "host_move": 1, "player_move": 1}
            for i, (count, moves) in enumerate(counts)
        ],
        schedules=["synchronous", "cooperative"],
    )
    events = sum(count * moves * 2 for count, moves in counts) * 2
    assert bool(too_much(scenario, budget)) == (events > budget)


@pytest.mark.parametrize(
    ("text", "count"),
    [("1e9", 10**9), ("10**9", 10**9), ("10^8", 10**8), ("1_000_000", 10**6), ("2500", 2500)],
)
def test_max_events_reads_the_ways_people_write_big_numbers(text, count):
    assert parse_count(text) == count


@pytest.mark.parametrize(
    ("text", "size"), [("1MB", 10**6), ("512kB", 512_000), ("1MiB", 2**20), ("4096", 4096)]
)
def test_max_file_size_reads_sizes_with_units(text, size):
    assert parse_size(text) == size


def test_a_deep_nesting_is_refused_in_either_style():
    for text in ("players: " + "[" * 50_000 + "]" * 50_000, "players:\n" + "- " * 400_000 + "1\n"):
        with pytest.raises(ScenarioError) as refused:
            loader.from_yaml(text, source="deep.yaml")
        assert "nested more than 100 levels deep" in str(refused.value)
    nested = "players: " + "[" * 20 + "]" * 20
    with pytest.raises(ScenarioError) as within:  # within the limit: an ordinary type error
        loader.from_yaml(nested, limits=Limits(max_depth=30))
    assert "expected a mapping of fields" in str(within.value)


# -- paths ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_a_slug_is_one_plain_folder_name(name):
    """No separator, no `..`, not hidden, not an option, short: whatever the name."""
    folder = slug(name)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", folder), folder
    assert len(folder) <= MAX_SLUG and folder not in {".", ".."}
    assert Path(folder).name == folder


def test_a_name_with_a_path_in_it_stays_under_results(tmp_path, monkeypatch):
    """`name: ../../etc/passwd` writes results/etc-passwd/, not /etc."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "x.yaml"
    path.write_text("name: ../../etc/passwd\nplayers: [{host_move: 1}]\n")
    assert CliRunner().invoke(app, ["run", str(path)]).exit_code == 0
    assert (tmp_path / "results" / "etc-passwd" / "summary.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "x.yaml"]


def test_a_planted_symlink_under_results_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "countasync").symlink_to(elsewhere)
    refused = CliRunner().invoke(app, ["run", "countasync"])
    assert refused.exit_code == 2
    assert "results/countasync is a link that leads outside results/" in refused.stderr
    assert list(elsewhere.iterdir()) == []


def test_out_is_honoured_exactly_as_given(tmp_path):
    """Straight into --out (no <name>/ under it), through a symlink the user chose too."""
    deep = tmp_path / "a" / "b"
    assert CliRunner().invoke(app, ["run", "countasync", "--out", str(deep)]).exit_code == 0
    written = sorted(p.name for p in deep.iterdir())
    assert {"games.csv", "run.json", "steps.csv", "summary.csv"} <= set(written)
    assert all(p.is_file() for p in deep.iterdir())  # no <name>/ folder under --out
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    linked = CliRunner().invoke(app, ["run", "countasync", "--out", str(tmp_path / "link")])
    assert linked.exit_code == 0 and (target / "summary.csv").is_file()


def test_out_that_is_a_file_is_bad_input(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    result = CliRunner().invoke(app, ["run", "countasync", "--out", str(taken)])
    assert result.exit_code == 2
    assert f"--out: {taken} exists and is not a folder" in result.stderr
    assert taken.read_text() == "mine"


# -- schema -----------------------------------------------------------------------------------


def test_sim_schema_prints_a_json_schema_made_from_the_models():
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema == scenario_schema()
    assert set(schema["properties"]) == set(Scenario.model_fields)
    assert set(schema["$defs"]["PlayerGroup"]["properties"]) == set(PlayerGroup.model_fields)


def test_the_schema_accepts_every_shipped_scenario():
    validator = jsonschema.Draft7Validator(scenario_schema())
    for path in sorted(SCENARIOS.glob("*.yaml")):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path


@pytest.mark.parametrize(
    "text",
    [
        "players: [{host_mvoe: 5}]",
        "players: [{host_move: 1, count: 2.5}]",
        "players: [{host_move: 5 fortnights}]",
        "players: [{steps: [{host: 1, wait: 2}]}]",
        "players: [{host_move: 1}]\nschedules: [coperative]",
        "players: []",
        "unit: parsec\nplayers: [{host_move: 1}]",
    ],
)
def test_the_schema_flags_mistakes_while_typing(text):
    validator = jsonschema.Draft7Validator(scenario_schema())
    assert list(validator.iter_errors(yaml.safe_load(text)))
    with pytest.raises(ScenarioError):  # and sim refuses them too
        loader.from_yaml(text)


# -- exit statuses ------------------------------------------------------------------------------


def test_help_documents_every_exit_status():
    text = " ".join(CliRunner().invoke(app, ["--help"]).stdout.split())
    for status, meaning in [("0", "ok"), ("1", "a check failed"), ("2", "bad input")]:
        assert f"{status} {meaning}" in text
    assert "130 interrupted by Ctrl-C; no partial files are left" in text


def test_a_bug_exits_70_without_a_traceback(monkeypatch, capsys):
    """An exception that is not bad input is ours: one line, status 70, traceback only on demand."""

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("SIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    monkeypatch.setenv("SIM_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_exits_128_plus_the_signal(signum, status, monkeypatch, capsys):
    """Ctrl-C → 130, SIGTERM → 143, as shells report them; whatever the CLI library does."""
    monkeypatch.setattr(cli, "app", lambda: signal.raise_signal(signum))
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == status
    assert capsys.readouterr().err.strip() == "interrupted"


def test_a_finished_command_skips_the_interpreters_teardown(monkeypatch):
    """Status 0 or 2 with nothing left running: `os._exit` with that status at once. With
    something running (or a status that is text) the usual `sys.exit`."""
    ended: list = []

    def fake_exit(status):
        ended.append(status)
        raise SystemExit(status)

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli, "_alone", lambda: True)
    for status in (0, 2):
        monkeypatch.setattr(cli, "app", lambda status=status: sys.exit(status))
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert ended[-1] == status and exited.value.code == status
    monkeypatch.setattr(cli, "_alone", lambda: False)
    monkeypatch.setattr(cli, "app", lambda: sys.exit(0))
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0 and ended == [0, 2]


def test_a_profiler_keeps_the_usual_exit():
    """cProfile (`python -m cProfile -m sim ...`) writes its findings at exit."""
    previous = sys.getprofile()
    sys.setprofile(lambda *_: None)
    try:
        assert not cli._alone()
    finally:
        sys.setprofile(previous)


def test_a_running_thread_keeps_the_usual_exit():
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not cli._alone()
    finally:
        stop.set()
        worker.join()


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    """`cli.main` installs handlers for SIGINT and SIGTERM; put pytest's back."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_environment_variables_set_the_limits(tmp_path):
    """SIM_MAX_EVENTS works like --max-events (CI can set it once)."""
    env = {**os.environ, "SIM_MAX_EVENTS": "100"}
    result = CliRunner().invoke(app, ["validate", "polgar"], env=env)
    assert result.exit_code == 2 and "over the budget of 100;" in result.stderr
