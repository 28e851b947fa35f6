"""`sim verify`: the engine against real coroutines on asyncio's fast-forwarded loop."""

from __future__ import annotations

import asyncio
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.engine import play
from sim.engine.deadlock import Deadlock
from sim.engine.workload import Workload
from sim.experiment.runs import workload_of
from sim.scenario.loader import from_yaml, load_file
from sim.scenario.model import STEP_KINDS, Scenario
from sim.scenario.schedules import Schedule
from sim.verify.compare import (
    Deadlocked,
    against_asyncio,
    compare,
    compared,
    same_instant_ties,
    waiting,
)
from sim.verify.virtual import REPLAYABLE, replay
from tests.conftest import SCENARIOS, integer_durations, polgar_like, scenarios
from tests.test_shared_properties import shared_scenarios

both = st.sampled_from(["synchronous", "cooperative"])
#: Non-integer seconds above zero: a zero step is an instant shared with the step before.
positive_durations = st.floats(0.001, 10.0).map(lambda x: round(x, 3))

#: docs/design.md's tie rule and asyncio part ways (docs/explanation/tie-rule.md).
TIE = {
    "players": [
        {"name": "a", "steps": [{"wait": 1}, {"wait": 1}, {"host": 1}]},
        {"name": "b", "steps": [{"wait": 2}, {"host": 1}]},
    ],
    "schedules": ["cooperative"],
}


def both_traces(scenario: Scenario, kind: str | Schedule):
    workload = workload_of(scenario)  # random durations: those of replication 1
    schedule = Schedule.of(kind) if isinstance(kind, str) else kind
    return play(workload, schedule), replay(workload, schedule)


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(positive_durations, max_hosts=3, max_count=3), kind=both)
def test_engine_and_asyncio_agree_exactly_without_same_instant_ties(scenario, kind):
    """1–4 groups, 1–3 hosts, step lists: every game ends at the same instant on both."""
    engine, loop = both_traces(scenario, kind)
    assume(not len(same_instant_ties(engine)))
    agreement = compare(engine, loop)
    assert np.abs(engine.game_ends() - loop.game_ends()).max() <= 1e-9
    assert abs(engine.makespan - loop.makespan) <= 1e-9
    assert agreement.agrees and agreement.first_game is None


@settings(max_examples=40, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=3, max_count=3))
def test_synchronous_agrees_even_with_ties_and_zero_steps(scenario):
    """Games queue in file order at 0 and a free host takes the next: no tie can reorder them."""
    engine, loop = both_traces(scenario, "synchronous")
    assert compare(engine, loop).agrees


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_agrees_step_by_step_under_the_tie_rule(path):
    """Not only game ends: every step starts and ends at the same instant (to 1e-9 s: a
    sum of a hundred 10 ms steps may differ in its last bit), on the same host. In
    asyncio's own order too, wherever no two games ask for a host at once."""
    scenario = load_file(path)
    workload = workload_of(scenario)
    for schedule in scenario.schedules:
        if schedule.kind not in REPLAYABLE:
            continue
        engine = play(workload, schedule)
        settled = replay(workload, schedule, tie_rule=True)
        if workload.shared is not None:  # see test_float_noise_splits_an_instant_in_the_engine
            assert compare(engine, settled).agrees
            continue
        assert np.abs(engine.start - settled.start).max() <= 1e-9
        assert np.abs(engine.end - settled.end).max() <= 1e-9
        assert engine.host.tolist() == settled.host.tolist()
        if not len(same_instant_ties(engine)):
            assert compare(engine, replay(workload, schedule)).agrees


@pytest.mark.parametrize("name", ["polgar", "countasync"])
def test_the_article_s_scenarios_agree_in_asyncio_s_own_order(name):
    """polgar has no same-instant ties; countasync has one at 1 s (all three games ask
    for their zero-length last step together) that changes nothing: each ends at 1 s."""
    scenario = load_file(SCENARIOS / f"{name}.yaml")
    for row in against_asyncio(workload_of(scenario), scenario.schedules):
        assert row.agrees, row.label


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios(integer_durations, max_hosts=3, max_count=3))
def test_with_the_tie_rule_imposed_asyncio_equals_the_engine_step_for_step(scenario):
    """Integer durations and zero steps: ties everywhere. With hosts handed out by the
    tie rule once each instant is settled, asyncio's loop reproduces every step's ready,
    start, end and host: the order of same-instant requests is the only difference."""
    workload = workload_of(scenario)
    schedule = Schedule.of("cooperative")
    engine, settled = play(workload, schedule), replay(workload, schedule, tie_rule=True)
    for column in ("ready", "start", "end", "host"):
        assert getattr(engine, column).tolist() == getattr(settled, column).tolist(), column


@pytest.mark.parametrize("kind", ["synchronous", "cooperative"])
def test_full_precision_durations_agree_over_long_games(kind):
    """Durations drawn as full 53-bit floats, 30 rounds of 4 steps, 10 games: no clock
    tick divides them. looptime's default tick (1 µs) would round every sleep; with a
    tick of 1e-15 s the loop's `time() + d` follows SimPy's `now + d` float for float."""
    rng = np.random.default_rng(7)
    groups = [
        {
            "name": f"p{g}",
            "moves": 30,
            "steps": [{"host": x}, {"wait": y}, {"host": z}, {"wait": v}],
        }
        for g, (x, y, z, v) in enumerate(rng.random((10, 4)).tolist())
    ]
    engine, loop = both_traces(Scenario(host={"count": 2}, players=groups), kind)
    assert not len(same_instant_ties(engine))
    assert np.abs(engine.game_ends() - loop.game_ends()).max() <= 1e-9


def test_polgar_has_no_same_instant_ties():
    """All 24 games ask at 0 with their first move (file order on both sides). After
    that Judit is never idle: game i moves at 120r + 5i and asks again 5 + 55 s later,
    at 120r + 5i + 60, a different instant for every (r, i) since 5i < 120."""
    engine, _ = both_traces(polgar_like(24), "cooperative")
    assert same_instant_ties(engine).tolist() == []


def test_asyncio_serves_a_same_instant_tie_in_resume_order_not_file_order():
    """Both games ask for the one host at 2 s. The engine: a first (file order), 2–3,
    then b 3–4. asyncio: b's sleep(2) began at 0, a's second sleep(1) at 1, so b's
    task resumes first and takes the semaphore: b 2–3, a 3–4. Makespan 4 s on both."""
    engine, loop = both_traces(Scenario(**TIE), "cooperative")
    assert engine.game_ends().tolist() == [3.0, 4.0]
    assert loop.game_ends().tolist() == [4.0, 3.0]
    agreement = compare(engine, loop)
    assert not agreement.agrees and agreement.difference == 0
    assert agreement.first_game == 0
    split = agreement.divergence
    assert (split.player, split.move, split.step) == ("a", 1, 3)
    assert (split.engine_start, split.other_start) == (2.0, 3.0)
    assert agreement.ties.tolist() == [2.0]


def test_a_zero_wait_before_a_host_step_is_a_tie_at_zero():
    """a: [wait 0, host 1], b: [host 1]. Both ask at 0, but a only after a zero wait:
    the engine serves a first (file order); asyncio runs b while a's sleep(0) yields."""
    scenario = Scenario(
        players=[
            {"name": "a", "steps": [{"wait": 0}, {"host": 1}]},
            {"name": "b", "steps": [{"host": 1}]},
        ]
    )
    engine, loop = both_traces(scenario, "cooperative")
    assert same_instant_ties(engine).tolist() == [0.0]
    assert engine.game_ends().tolist() == [1.0, 2.0]
    assert loop.game_ends().tolist() == [2.0, 1.0]


def test_asyncio_semaphore_grants_in_the_order_acquire_was_called():
    """The exact check rests on this. Two units, held by A and B until 1 s; C, D, E queue
    at 0. At 1 s A and B release in one instant, and before the granted C and D have
    run, A asks again and F (whose sleep also ended at 1 s) asks: neither may pass a
    queued waiter. Asked: A, B, C, D, E at 0; at 1 s, A (again) then F, since A's sleep
    was started before F's. Granted: the same order."""
    import looptime

    asked: list[str] = []
    granted: list[str] = []

    async def main() -> None:
        semaphore = asyncio.Semaphore(2)

        async def hold(name: str, again: bool = False) -> None:
            asked.append(name)
            async with semaphore:
                granted.append(name)
                await asyncio.sleep(1)
            if again:
                await hold(name)

        async def late(name: str) -> None:
            await asyncio.sleep(1)
            await hold(name)

        await asyncio.gather(
            hold("A", again=True), hold("B"), hold("C"), hold("D"), hold("E"), late("F")
        )

    loop = looptime.new_event_loop(start=0.0)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert asked == ["A", "B", "C", "D", "E", "A", "F"]
    assert granted == asked


def test_replay_refuses_a_schedule_asyncio_has_no_counterpart_of():
    workload = Workload.of(polgar_like(2, 1))
    with pytest.raises(ValueError, match="parallel: no asyncio counterpart"):
        replay(workload, Schedule.of("parallel"))
    with pytest.raises(ValueError, match=r"cooperative\(order=asyncio\): played by asyncio itself"):
        replay(workload, Schedule.of("cooperative", order="asyncio"))


def test_replay_works_inside_a_running_event_loop():
    """From a notebook's loop: the replay runs its own loop in a thread of its own."""

    async def inside() -> float:
        return replay(Workload.of(polgar_like(3, 2)), Schedule.of("cooperative")).makespan

    # 3 games, 2 rounds of 5 + 55: one game alone takes 120 s, and the last game starts at 10 s
    assert asyncio.run(inside()) == 2 * 60 + 2 * 5


def test_cli_verify_agrees_on_every_shipped_scenario_with_the_tie_rule():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        result = CliRunner().invoke(app, ["verify", str(path), "--tie-rule"])
        assert result.exit_code == 0, result.output
        assert "same instant, to 1e-9 s" in result.stdout


@pytest.mark.parametrize("name", ["polgar", "countasync"])
def test_cli_verify_agrees_on_the_article_s_scenarios(name):
    result = CliRunner().invoke(app, ["verify", name])
    assert result.exit_code == 0, result.output
    assert "same instant, to 1e-9 s" in result.stdout and "0 s" in result.stdout


def test_cli_verify_prints_both_makespans_of_polgar():
    """43 200 s synchronous and 3 655 s cooperative, on both sides, difference 0."""
    result = CliRunner().invoke(app, ["verify", "polgar"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "synchronous" in line or "coop" in line]
    assert rows[0].count("43 200 s") == 2 and "24/24" in rows[0]
    assert rows[1].count("3 655 s") == 2 and "24/24" in rows[1]


#: docs/design.md's worked example: two hosts, four games. The engine, by the tie rule:
#: a 0–3, b 0–2, c 2–5, d 3–4; at 4 a and b ask together and a wins (file order):
#: a 4–6, b 5–7. asyncio resumes b first (its sleep began at 2 s, a's at 3 s): b 4–6,
#: a 5–7. Ends a 6/7 s, b 7/6 s, c 5 s, d 4 s: 2 of 4 differ, makespan 7 s on both.
DESIGN_TIE = """\
name: tie
host: {count: 2}
players:
  - {name: a, steps: [{host: 3}, {wait: 1}, {host: 2}]}
  - {name: b, steps: [{host: 2}, {wait: 2}, {host: 2}]}
  - {name: c, steps: [{wait: 1}, {host: 3}]}
  - {name: d, steps: [{wait: 2}, {host: 1}]}
"""

#: Two hosts, nine games. The w's and v ask at 0 with their first step, in file order on
#: both sides: w-1, w-2 0–1; w-3, w-4 1–2; w-5 2–3 (host 1), v 2–4 (host 2). p, r and q
#: all ask at 3 (1 + 2, 3, 2 + 1). The engine, file order: p 3–5 (host 1, free at 3),
#: r 4–6 (host 2, free at 4), q 5–7 (host 1 again). asyncio's timer heap resumes r, q,
#: p: r 3–5, q 4–6, p 5–7. Ends p 5/7 s, r 6/5 s, q 7/6 s: 6 of 9 agree, makespan 7 s.
NINE_TIE = """\
name: nine
host: {count: 2}
players:
  - {name: w, count: 5, steps: [{host: 1}]}
  - {name: v, steps: [{host: 2}]}
  - {name: p, steps: [{wait: 1}, {wait: 2}, {host: 2}]}
  - {name: r, steps: [{wait: 3}, {host: 2}]}
  - {name: q, steps: [{wait: 2}, {wait: 1}, {host: 2}]}
schedules: [cooperative]
"""


def verify_file(tmp_path, text: str, *options: str):
    file = tmp_path / "scenario.yaml"
    file.write_text(text)
    return CliRunner().invoke(app, ["verify", str(file), *options])


@pytest.mark.parametrize(
    ("text", "agreeing", "first", "tie"),
    [
        (DESIGN_TIE, "2/4, 4/4 by the tie rule", "a: it ends at 6 s in the engine, 7 s", "4 s"),
        (NINE_TIE, "6/9, 9/9 by the tie rule", "p: it ends at 5 s in the engine, 7 s", "3 s"),
    ],
    ids=["design", "nine"],
)
def test_cli_verify_passes_when_only_the_order_of_same_instant_requests_differs(
    tmp_path, text, agreeing, first, tie
):
    """Makespans equal, games differing, every game agreeing with the tie rule imposed:
    exit 0, saying that the order of same-instant requests is the whole difference."""
    result = verify_file(tmp_path, text)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert agreeing in result.stdout
    note = next(line for line in result.stdout.splitlines() if line.startswith("cooperative:"))
    assert f"(first {first} on asyncio)" in note
    assert "only because asyncio serves same-instant requests in another order" in note
    assert f"a same-instant tie at {tie}" in note
    assert "The makespan is the same (7 s)" in note
    assert "with the tie rule imposed on asyncio (--tie-rule) every game agrees" in note
    assert "the engine agrees with asyncio: every makespan to 1e-9 s" in result.stdout
    all_agree = agreeing.split(", ")[1].removesuffix(" by the tie rule")  # 4/4, 9/9
    settled = verify_file(tmp_path, text, "--tie-rule")
    assert settled.exit_code == 0, settled.output
    assert f" {all_agree} │" in settled.stdout and "(hosts by the tie rule)" in settled.stdout


def test_the_one_host_tie_is_a_difference_of_order_alone():
    """TIE: a 2–3, b 3–4 in the engine, b 2–3, a 3–4 on asyncio; makespan 4 s on both,
    and with the tie rule imposed both games agree: the verdict passes."""
    scenario = Scenario(**TIE)
    (row,) = against_asyncio(workload_of(scenario), scenario.schedules)
    assert not row.agrees and row.order_only and row.passes
    assert row.settled is not None and row.settled.agrees


def test_cli_verify_exits_1_when_asyncio_s_order_changes_the_makespan(tmp_path):
    """One host. b holds it 0–2 and asks again at 2, when a asks too. The engine serves a
    first (file order): a 2–3, b 3–6, then b's wait to 7. asyncio resumes b first (its
    sleep began at 0, a's second at 1) and b takes the host straight back: b 2–5, wait to
    6, a 5–6. The tie rule accounts for every game, but the makespan differs: exit 1."""
    text = (
        "players:\n"
        "  - {name: a, steps: [{wait: 1}, {wait: 1}, {host: 1}]}\n"
        "  - {name: b, steps: [{host: 2}, {host: 3}, {wait: 1}]}\n"
        "schedules: [cooperative]\n"
    )
    result = verify_file(tmp_path, text)
    assert result.exit_code == 1, result.output
    assert "7 s │     6 s │       −1 s │ 0/2, 2/2 by the tie rule" in result.stdout
    assert "first differing game a: it ends at 3 s in the engine, 6 s on asyncio" in result.stderr
    assert "a same-instant tie at 2 s" in result.stderr
    assert "every game agrees, but in asyncio's own order the makespan differs by −1 s" in (
        result.stderr
    )
    assert "the engine agrees" not in result.stdout


@pytest.mark.parametrize(
    ("row", "makespan"),
    [(0, "7 s │     7 s │        0 s"), (8, "8 s │     7 s │       −1 s")],
    ids=["w-1, makespan unchanged", "q, the last game"],
)
def test_cli_verify_exits_1_when_the_engine_is_off(tmp_path, monkeypatch, row, makespan):
    """The engine made wrong on purpose: one step 1 s late. The tie rule cannot explain
    that, so exit 1 whether or not the makespan moves with it."""
    import sim.verify.compare

    def late(workload, schedule):
        trace = play(workload, schedule)
        start, end = trace.start.copy(), trace.end.copy()
        last = workload.first_step[row + 1] - 1  # the game's last step
        start[last] += 1
        end[last] += 1
        return replace(trace, start=start, end=end)

    monkeypatch.setattr(sim.verify.compare, "play", late)
    result = verify_file(tmp_path, NINE_TIE)
    assert result.exit_code == 1, result.output
    assert makespan in result.stdout and "by the tie rule" in result.stdout
    assert "with the tie rule imposed on asyncio (--tie-rule) it still differs" in result.stderr
    assert "only because" not in result.output and "the engine agrees" not in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["verify", "no-such-scenario"], "no scenario file or name 'no-such-scenario'"),
        (["verify", "polgar", "--scale", "10"], "--scale: only with --real"),
        (["verify", "polgar", "--schedule", "coperative"], "unknown schedule 'coperative'"),
        (["verify", "polgar", "--real", "--schedule", "fibers"], "unknown execution model"),
        (["verify", "polgar", "--real", "--scale", "0"], "--scale"),
        (["verify", "polgar", "--real", "--repeat", "0"], "--repeat"),
        (["verify", "polgar", "--real", "--tie-rule"], "--tie-rule: only without --real"),
    ],
)
def test_cli_verify_bad_input_exits_2(arguments, message):
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_verify_help_has_examples():
    result = CliRunner().invoke(app, ["verify", "--help"])
    assert result.exit_code == 0
    assert "sim verify polgar" in result.stdout and "--real" in result.stdout


@pytest.mark.parametrize("kind", ["synchronous", "cooperative"])
def test_the_replay_charges_switch_costs_as_the_engine_does(kind):
    """3 games of 2 rounds (5 s host, 55 s wait), 1 s to move to another game. Synchronous:
    3 × 120 s plus 2 switches = 362 s. Cooperative: every host step after the first is a
    switch; the replay pays them on asyncio's loop and must end every game with the engine."""
    scenario = Scenario(
        host={"switch_cost": 1},
        players=[{"name": "a", "count": 3, "moves": 2, "host_move": 5, "player_move": 55}],
    )
    engine, loop = both_traces(scenario, kind)
    assert compare(engine, loop).agrees
    if kind == "synchronous":
        assert loop.makespan == 3 * 120 + 2


def test_real_runs_are_simulated_without_switch_costs():
    from sim.verify.wallclock import without_switch_cost

    scenario = Scenario(host={"switch_cost": 1}, players=[{"name": "a", "host_move": 1}])
    workload = without_switch_cost(workload_of(scenario))
    assert workload.scenario.host.switch_cost == 0
    assert workload.duration.tolist() == [1.0]


def test_a_block_step_holds_the_loop_in_the_replay():
    """a: [block 2], b: [wait 1, host 1]. The blocking call holds the loop 0–2, so b's
    host step waits from 1 to 2 and ends at 3, on both sides; synchronous 2 + 2 = 4."""
    scenario = Scenario(
        players=[
            {"name": "a", "steps": [{"block": 2}]},
            {"name": "b", "steps": [{"wait": 1}, {"host": 1}]},
        ]
    )
    engine, loop = both_traces(scenario, "cooperative")
    assert loop.game_ends().tolist() == [2.0, 3.0] == engine.game_ends().tolist()
    assert both_traces(scenario, "synchronous")[1].makespan == 4.0


def test_cli_verify_takes_overrides_like_run():
    """48 amateurs, 2 Judits. Synchronous: 24 games each × 30 × 60 s = 43 200 s.
    Cooperative: 48 × 30 × 5 s of moves shared by two, 3 600 s, plus the last answer,
    55 s: 3 655 s. Both on asyncio's loop too."""
    arguments = ["verify", "polgar", "--set", "players.amateur.count=48", "--set", "host.count=2"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "48/48" in line]
    assert rows[0].count("43 200 s") == 2 and rows[1].count("3 655 s") == 2


# --- games that share resources, queues and fan-out ---------------------------------------

#: The shared example, in whole seconds (a thousand times its milliseconds), so that every
#: sum of durations is exact and instants meet exactly where they should.
EXAMPLE = """\
resources:
  connections: 10
queues:
  jobs: {maxsize: 5}
players:
  - name: page
    count: 200
    steps:
      - with: connections
        steps: [{wait: 40}]
      - host: 2
      - gather:
          count: 3
          steps: [{wait: 20}, {host: 1}]
  - name: producer
    moves: 200
    steps: [{host: 3}, {put: jobs}]
  - name: consumer
    count: 5
    serves: jobs
    steps: [{wait: 30}, {host: 1}]
"""

#: Small scenarios, integer durations, ties everywhere; each replayable synchronously.
SHARING = {
    # two hosts; a's take one unit of db, b's two at once, all asking at 0 and 1 s
    "semaphore": """\
host: {count: 2}
resources: {db: 2}
players:
  - {name: a, count: 3, moves: 2, steps: [{with: db, steps: [{host: 1}, {wait: 2}]}, {host: 1}]}
  - {name: b, count: 2, steps: [{wait: 1}, {with: {resource: db, units: 2}, steps: [{host: 2}]}]}
""",
    # a bounded queue, two producers, three consumers (three hosts: synchronous gets through)
    "queue": """\
host: {count: 3}
queues: {jobs: {maxsize: 2}}
players:
  - {name: producer, count: 2, moves: 4, steps: [{host: 1}, {put: jobs}]}
  - {name: consumer, count: 3, serves: jobs, steps: [{wait: 3}, {host: 1}]}
""",
    "nested with": """\
host: {count: 2}
resources: {pool: 2, lock: 1}
players:
  - name: w
    count: 4
    moves: 2
    steps:
      - with: pool
        steps: [{wait: 1}, {with: lock, steps: [{host: 1}]}, {wait: 1}]
""",
    "gather inside with": """\
resources: {sem: 2}
players:
  - name: g
    count: 3
    steps:
      - with: sem
        steps: [{gather: {count: 3, steps: [{wait: 2}, {host: 1}]}}]
      - host: 1
""",
    # the workers serve raw and put into done, which the sink serves
    "pipeline of two queues": """\
host: {count: 3}
queues: {raw: {}, done: {maxsize: 1}}
players:
  - {name: source, moves: 5, steps: [{host: 1}, {put: raw}]}
  - {name: worker, count: 2, serves: raw, steps: [{wait: 2}, {put: done}]}
  - {name: sink, serves: done, steps: [{host: 1}]}
""",
}


def same_rows(engine, other) -> None:
    """The same rows played, at the same instants, on the same hosts."""
    for column in ("game", "move", "step", "kind", "shared", "duration"):
        assert (
            getattr(engine.workload, column).tolist() == getattr(other.workload, column).tolist()
        ), column
    for column in ("ready", "start", "end"):
        gap = np.abs(getattr(engine, column) - getattr(other, column))
        assert gap.max(initial=0) <= 1e-9, column
    assert engine.host.tolist() == other.host.tolist()


@pytest.mark.parametrize("kind", ["cooperative", "synchronous"])
@pytest.mark.parametrize("text", SHARING.values(), ids=SHARING.keys())
def test_shared_scenarios_replay_row_for_row_under_the_tie_rule(text, kind):
    """Real asyncio.Semaphore, asyncio.Queue and asyncio.gather, requests served by the
    tie rule: every row the engine played, at the same instants; every game agrees."""
    workload = workload_of(from_yaml(text))
    schedule = Schedule.of(kind)
    engine = play(workload, schedule)
    settled = replay(workload, schedule, tie_rule=True)
    same_rows(engine, settled)
    assert compare(engine, settled).agrees
    (row,) = against_asyncio(workload, [schedule])
    assert row.passes, kind


def test_the_shared_example_agrees_under_the_tie_rule_and_deadlocks_alike():
    """Cooperative: with requests served by the tie rule, the 206 games play the engine's
    rows to the bit (makespan 2 204 s). In asyncio's own order the 200 pages' requests at
    40 s come off the timer heap in heap order, and the makespan is 2 201 s: a difference
    of order alone, but of the makespan, so it fails. Synchronous: the producer fills the
    bounded queue before a consumer can have the one host, and both sides deadlock at
    21 018 s (200 pages × 105 s, then 6 × 3 s) with the same six tasks waiting."""
    workload = workload_of(from_yaml(EXAMPLE))
    cooperative, synchronous = Schedule.of("cooperative"), Schedule.of("synchronous")
    engine = play(workload, cooperative)
    assert engine.makespan == 2204
    same_rows(engine, replay(workload, cooperative, tie_rule=True))
    coop, sync = against_asyncio(workload, [cooperative, synchronous])
    assert coop.other_makespan == 2201 and coop.settled.agrees and not coop.passes
    assert isinstance(sync, Deadlocked) and sync.agrees and sync.passes
    assert sync.engine.at == sync.other.at == 21018
    assert waiting(sync.other) == ["consumer-1", "consumer-2", "consumer-3", "consumer-4",
                                   "consumer-5", "producer"]  # fmt: skip


def test_two_float_paths_to_one_instant_are_one_instant():
    """The example in milliseconds: 0.04 + 0.002 is 0.042, another path to 42 ms gives
    0.041999999999999996; the engine rounds its instants (`runners.DIGITS`), so both are
    one instant, as asyncio's loop takes them, and every game agrees with the tie rule
    (exact float sums left 30 of 206 games elsewhere)."""
    workload = workload_of(from_yaml("unit: ms\n" + EXAMPLE))
    schedule = Schedule.of("cooperative")
    assert compare(play(workload, schedule), replay(workload, schedule, tie_rule=True)).agrees


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=shared_scenarios(), kind=both)
def test_random_shared_scenarios_replay_row_for_row_or_deadlock_alike(scenario, kind):
    """Resources (1–3 units, several at once), bounded and unbounded queues with consumers
    and pipelines, nested withs and gathers, integer durations with zeros, 1–3 hosts:
    with the tie rule the replay plays the engine's rows, or both deadlock at the same
    instant with the same tasks waiting."""
    assume(scenario.shares)
    workload = Workload.of(scenario)
    schedule = Schedule.of(kind)
    engine = outcome(lambda: play(workload, schedule))
    other = outcome(lambda: replay(workload, schedule, tie_rule=True))
    if isinstance(engine, Deadlock) or isinstance(other, Deadlock):
        assert compared(engine, other, kind).agrees
    else:
        same_rows(engine, other)


def outcome(play_it):
    try:
        return play_it()
    except Deadlock as deadlock:
        return deadlock


def test_a_deadlock_on_one_side_only_is_a_disagreement():
    """An engine that finished against a replay that deadlocked fails, and says which."""
    from sim.verify.findings import disagreements

    workload = workload_of(from_yaml(SHARING["queue"]))
    schedule = Schedule.of("cooperative")
    stuck = Deadlock(schedule.label, 3.0, ["consumer-1 waits to take from jobs"])
    row = compared(play(workload, schedule), stuck, schedule.label)
    assert not row.passes
    (sentence,) = disagreements(from_yaml(SHARING["queue"]), [row])
    assert "the engine ends every game, at 13 s" in sentence
    assert "asyncio deadlocks at 3 s (consumer-1 waits to take from jobs)" in sentence


def test_a_multi_unit_request_holds_later_ones_back_on_asyncio_too():
    """db has 2 units. a holds one 0–3; b asks for 2 at 1 s, c for 1 at 2 s. b is first in
    line: c may not pass it though a unit is free, on asyncio as in the engine (a Semaphore
    behind a Lock). b 3–4, then c 4–5."""
    text = """\
resources: {db: 2}
players:
  - {name: a, steps: [{with: db, steps: [{wait: 3}]}]}
  - {name: b, steps: [{wait: 1}, {with: {resource: db, units: 2}, steps: [{wait: 1}]}]}
  - {name: c, steps: [{wait: 2}, {with: db, steps: [{wait: 1}]}]}
"""
    workload = workload_of(from_yaml(text))
    schedule = Schedule.of("cooperative")
    loop = replay(workload, schedule)
    assert loop.game_ends().tolist() == [3.0, 4.0, 5.0]
    assert compare(play(workload, schedule), loop).agrees


def test_consumers_end_when_their_queue_closes_on_asyncio():
    """Two consumers, one producer of 3 items. Each consumer's last get is the instant the
    queue closed (the producer ended, the queue empty), and it ends there, on asyncio as
    in the engine: the rounds taken in all are the 3 items."""
    text = """\
queues: {jobs: {}}
players:
  - {name: producer, moves: 3, steps: [{wait: 1}, {put: jobs}]}
  - {name: consumer, count: 2, serves: jobs, steps: [{wait: 5}]}
"""
    workload = workload_of(from_yaml(text))
    schedule = Schedule.of("cooperative")
    loop = replay(workload, schedule)
    engine = play(workload, schedule)
    assert compare(engine, loop).agrees
    gets = loop.workload.kind == STEP_KINDS.index("get")
    assert int(gets.sum()) == 3 + 2  # an item each round, then the closing get each
    assert loop.game_ends().tolist() == engine.game_ends().tolist() == [3.0, 11.0, 7.0]


def test_cli_verify_says_both_deadlock_alike(tmp_path):
    """The example under synchronous: a row for the deadlock, a sentence naming it."""
    result = verify_file(tmp_path, EXAMPLE, "--schedule", "synchronous")
    assert result.exit_code == 0, result.output
    assert "same deadlock" in result.stdout
    assert "both deadlock at 21 018 s, the same 6 tasks waiting (producer waits to put" in (
        result.stdout.replace("\n", " ")
    )
    assert "where one deadlocks so does the other, alike" in result.stdout


def test_cli_verify_a_shared_scenario_with_the_tie_rule(tmp_path):
    result = verify_file(tmp_path, SHARING["gather inside with"], "--tie-rule")
    assert result.exit_code == 0, result.output
    assert "(hosts, resources and queues by the tie rule)" in result.stdout
    assert "3/3" in result.stdout


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("tie_rule", [False, True])
@pytest.mark.parametrize("kind", REPLAYABLE)
def test_the_replay_runs_no_coroutine_for_hosts_no_game_can_use(kind, tie_rule, shared):
    """Two games of a 1 s host step and a 2 s wait, twice, on 5 000 000 hosts: each game
    has a host to itself (a game ends at 1 + 2 + 1 + 2 = 6 s). The replay runs on the
    two hosts the games can use, as the engine plays, not five million host coroutines
    (gigabytes); with a resource that never waits, the same."""
    limit = "resources: {db: 2}\n" if shared else ""
    steps = (
        "[{with: db, steps: [{host: 1s}]}, {wait: 2s}]" if shared else "[{host: 1s}, {wait: 2s}]"
    )
    scenario = from_yaml(
        f"name: wide\nhost: {{count: 5000000}}\n{limit}"
        f"players: [{{name: p, count: 2, moves: 2, steps: {steps}}}]\n"
        "schedules: [cooperative, synchronous]\n"
    )
    workload = Workload.of(scenario, np.random.default_rng(0))
    tracemalloc.start()
    try:
        trace = replay(workload, Schedule.of(kind), tie_rule=tie_rule)
        assert tracemalloc.get_traced_memory()[1] < 20_000_000  # bytes, at the peak
    finally:
        tracemalloc.stop()
    assert trace.workload.hosts == 5_000_000
    assert trace.game_ends().tolist() == [6.0, 6.0]
