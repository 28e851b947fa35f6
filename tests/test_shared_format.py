"""Small scenarios that share, each schedule's figures worked out by hand.

Durations are whole seconds and `threaded` runs with a switch interval
longer than any step (10 s), so the GIL never preempts: a thread keeps it
through a host step and every figure is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import play
from sim.engine.trace import Trace
from sim.engine.workload import Workload
from sim.results import tables
from sim.scenario.loader import from_yaml
from sim.scenario.model import STEP_KINDS
from sim.scenario.schedules import Schedule

PUT = STEP_KINDS.index("put")
WITH = STEP_KINDS.index("with")
NO_PREEMPTION = {"switch_interval": 10.0}


def played(text: str, kind: str, seed: int = 0, **params) -> Trace:
    return play(
        Workload.of(from_yaml(text)), Schedule.of(kind, **params), np.random.default_rng(seed)
    )


def rows(trace: Trace, kind: int, player: str) -> list[tuple[float, float, float]]:
    """(ready, start, end) of `player`'s rows of one kind, in order."""
    workload = trace.workload
    return [
        (float(trace.ready[i]), float(trace.start[i]), float(trace.end[i]))
        for i in np.nonzero(workload.kind == kind)[0]
        if workload.players[workload.game[i]] == player
    ]


# --- a resource of 2 units, 4 games, one host ---------------------------------------------

POOL = """
resources: {db: 2}
players:
  - name: g
    count: 4
    steps:
      - with: db
        steps: [{wait: 1}, {host: 1}]
"""


def test_two_units_four_games_cooperative():
    """0: g1, g2 take db, g3, g4 queue; g1, g2 wait 0–1. 1: both ask the host: g1 1–2,
    g2 waits. 2: g1 gives db back (ends 2), g3 takes it and waits 2–3; g2 host 2–3.
    3: g2 ends, g4 takes db, waits 3–4; g3 host 3–4 (ends 4). 4: g4 host 4–5.
    Ends 2, 3, 4, 5: makespan 5 = 1 s of waiting + 4 × 1 s of host work."""
    trace = played(POOL, "cooperative")
    assert trace.game_ends().tolist() == [2.0, 3.0, 4.0, 5.0]


def test_two_units_four_games_synchronous():
    """One game at a time holds the host through its wait: 4 × (1 + 1) s = 8 s; db is
    never contended, each game takes it at the instant it gets the host (its `with`
    row, the game's first, is ready from that turn on: the wait before it is a wait for
    the host, 0 + 2 + 4 + 6 = 12 s of it, none for db)."""
    trace = played(POOL, "synchronous")
    assert trace.game_ends().tolist() == [2.0, 4.0, 6.0, 8.0]
    withs = trace.workload.kind == STEP_KINDS.index("with")
    assert trace.ready[withs].tolist() == [0.0, 2.0, 4.0, 6.0]
    assert trace.start[withs].tolist() == [0.0, 2.0, 4.0, 6.0]
    games = tables.games([trace])
    assert games["wait_for_host_s"].tolist() == [0.0, 2.0, 4.0, 6.0]
    assert games["wait_for_db_s"].tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("seed", range(3))
def test_two_units_four_games_threaded(seed):
    """Which two threads reach db first is drawn; the figures are not: they wait 0–1,
    run 1–2 and 2–3 on the GIL; each release at 2 and 3 lets one more in, which waits
    1 s and runs 3–4 and 4–5. Ends {2, 3, 4, 5}, makespan 5."""
    trace = played(POOL, "threaded", seed, **NO_PREEMPTION)
    assert sorted(trace.game_ends().tolist()) == [2.0, 3.0, 4.0, 5.0]


def test_two_units_four_games_parallel():
    """One process (host.count = 1): synchronous, 8 s. Two processes on the one CPU:
    g1, g2 wait 0–1 and share the CPU for 1 s each at half speed, 1–3; then g3, g4 the
    same from 3: ends 3, 3, 6, 6."""
    assert played(POOL, "parallel").game_ends().tolist() == [2.0, 4.0, 6.0, 8.0]
    two = played(POOL, "parallel", processes=2)
    assert two.game_ends().tolist() == [3.0, 3.0, 6.0, 6.0]


# --- a producer and a consumer, maxsize 1 -------------------------------------------------

PIPE = """
queues: {jobs: {maxsize: MAXSIZE}}
host: {count: HOSTS}
players:
  - name: p
    moves: 3
    steps: [{host: 1}, {put: jobs}]
  - name: c
    serves: jobs
    steps: [{wait: 3}]
"""


def pipe(maxsize: int = 1, hosts: int = 1) -> str:
    return PIPE.replace("MAXSIZE", str(maxsize)).replace("HOSTS", str(hosts))


@pytest.mark.parametrize(
    ("kind", "params", "hosts"),
    [
        ("cooperative", {}, 1),
        ("threaded", NO_PREEMPTION, 1),
        ("parallel", {"processes": 2}, 1),
        ("synchronous", {}, 2),
    ],
)
def test_a_full_queue_holds_the_producer_back(kind, params, hosts):
    """p: host 0–1, put at 1 (c takes it at once and waits 1–4); host 1–2, put at 2
    (jobs holds 1 of 1); host 2–3, put asked at 3 while jobs is full. At 4 c takes the
    2nd item, the 3rd goes in: p ends at 4. c: 4–7, takes the 3rd at 7, 7–10; its last
    get at 10 finds jobs closed (p ended, nothing left). Makespan 10 = 1 + 3 × 3 s.
    p alone uses the CPU, so threads and processes give the same; synchronous needs a
    host each (on one it deadlocks: tests/test_deadlock.py)."""
    trace = played(pipe(hosts=hosts), kind, **params)
    assert trace.game_ends().tolist() == [4.0, 10.0]
    assert rows(trace, PUT, "p") == [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (3.0, 4.0, 4.0)]
    gets = rows(trace, STEP_KINDS.index("get"), "c")
    assert [start for _, start, _ in gets] == [1.0, 4.0, 7.0, 10.0]


def test_an_unbounded_queue_lets_the_producer_finish_first():
    """maxsize 0: the 3rd put goes in at 3, p ends at 3; c still ends at 1 + 3 × 3 = 10."""
    trace = played(pipe(maxsize=0), "cooperative")
    assert trace.game_ends().tolist() == [3.0, 10.0]
    assert rows(trace, PUT, "p")[-1] == (3.0, 3.0, 3.0)


# --- a gather of three waits, then a host step --------------------------------------------

FAN_OUT = """
players:
  - name: g
    count: 2
    steps:
      - gather: {count: 3, steps: [{wait: 2}]}
      - host: 1
"""


def test_gather_cooperative_children_wait_together():
    """Both games fork at 0; their six children wait 0–2 side by side; both gathers
    end at 2; the host serves g1 2–3, then g2 3–4."""
    trace = played(FAN_OUT, "cooperative")
    assert trace.game_ends().tolist() == [3.0, 4.0]
    gathers = trace.workload.kind == STEP_KINDS.index("gather")
    assert trace.start[gathers].tolist() == [0.0, 0.0]
    assert trace.end[gathers].tolist() == [2.0, 2.0]


def test_gather_synchronous_children_one_after_another():
    """Children play in turn on the game's host: 3 × 2 s + 1 s = 7 s a game, 14 s."""
    trace = played(FAN_OUT, "synchronous")
    assert trace.game_ends().tolist() == [7.0, 14.0]
    waits = trace.workload.kind == STEP_KINDS.index("wait")
    assert trace.start[waits].tolist() == [0.0, 2.0, 4.0, 7.0, 9.0, 11.0]


def test_gather_threaded_children_are_threads():
    """Six child threads wait 0–2 together; then the two games run 2–3 and 3–4."""
    trace = played(FAN_OUT, "threaded", **NO_PREEMPTION)
    assert sorted(trace.game_ends().tolist()) == [3.0, 4.0]


def test_gather_parallel_children_in_the_worker():
    """One process: 14 s as synchronous. Two: each worker plays its game's children in
    turn 0–6, then both host steps share the one CPU 6–8."""
    assert played(FAN_OUT, "parallel").game_ends().tolist() == [7.0, 14.0]
    assert played(FAN_OUT, "parallel", processes=2).game_ends().tolist() == [8.0, 8.0]


# --- same-instant requests after a grant --------------------------------------------------

TIE = """
resources: {r: 10}
queues: {q: {maxsize: 1}}
players:
  - {name: f, steps: [{put: q}]}
  - name: a
    steps: [{with: r, steps: [{put: q}]}, {wait: 20}]
  - {name: b, steps: [{put: q}]}
  - {name: c, serves: q, steps: [{wait: 5}]}
"""


def test_a_free_with_before_a_put_keeps_the_tie_rule_order():
    """Every request here is made at 0; by the tie rule's key (time asked, game) they are
    served f, a, b: f's item goes in, c takes it (busy 0–5), a's item goes in (jobs 1 of
    1), b waits. At 5 c takes a's item and b's goes in; c ends at 15. a waits 0–20:
    makespan 20. asyncio agrees (`async with r` on a free semaphore does not suspend, so
    a's put is queued before b's). r has 10 units and 2 users: it changes nothing, and
    without the `with` the engine gives exactly this."""
    trace = played(TIE, "cooperative")
    assert rows(trace, PUT, "a") == [(0.0, 0.0, 0.0)]
    assert rows(trace, PUT, "b") == [(0.0, 5.0, 5.0)]
    assert trace.makespan == 20.0
    plain = played(TIE.replace("{with: r, steps: [{put: q}]}", "{put: q}"), "cooperative")
    assert rows(plain, PUT, "a") == [(0.0, 0.0, 0.0)] and plain.makespan == 20.0


# --- validation errors through the command line -------------------------------------------

BAD = {
    "unknown resource": (
        "resources: {db: 2}\nplayers:\n  - name: a\n    steps:\n"
        "      - with: dbx\n        steps: [{host: 1}]\n",
        5,
        "players[0].steps[0].with",
        ["unknown resource 'dbx'", "declared: db"],
    ),
    "unknown resource in a gather in a with": (
        "resources: {db: 2}\nplayers:\n  - name: a\n    steps:\n      - with: db\n"
        "        steps:\n          - gather:\n              count: 2\n              steps:\n"
        "                - with: {resource: pool}\n                  steps: [{host: 1}]\n",
        10,
        "players[0].steps[0].steps[0].gather.steps[0].with",
        ["unknown resource 'pool'"],
    ),
    "unknown queue": (
        "queues: {jobs: {maxsize: 1}}\nplayers:\n  - name: a\n    steps:\n      - put: job\n",
        5,
        "players[0].steps[0].put",
        ["unknown queue 'job'", "declared: jobs"],
    ),
    "serves an unknown queue": (
        "queues: {jobs: {}}\nplayers:\n  - {name: a, steps: [{put: jobs}]}\n"
        "  - name: c\n    serves: work\n    steps: [{host: 1}]\n",
        5,
        "players[1].serves",
        ["unknown queue 'work'"],
    ),
    "more units than the capacity": (
        "resources: {db: 2}\nplayers:\n  - name: a\n    steps:\n"
        "      - with: {resource: db, units: 3}\n        steps: [{host: 1}]\n",
        5,
        "players[0].steps[0].with",
        ["3 units of 'db', which has 2"],
    ),
    "capacity below 1": (
        "resources:\n  db: 0\nplayers:\n  - name: a\n    steps:\n"
        "      - with: db\n        steps: [{host: 1}]\n",
        2,
        "resources.db",
        ["≥ 1, got 0"],
    ),
    "serves a queue nobody puts to": (
        "queues: {jobs: {}}\nplayers:\n  - {name: a, steps: [{host: 1}]}\n"
        "  - name: c\n    serves: jobs\n    steps: [{host: 1}]\n",
        5,
        "players[1].serves",
        ["no step puts into queue 'jobs'"],
    ),
    "moves with serves": (
        "queues: {jobs: {}}\nplayers:\n  - {name: a, steps: [{put: jobs}]}\n"
        "  - name: c\n    serves: jobs\n    moves: 3\n    steps: [{host: 1}]\n",
        6,
        "players[1].moves",
        ["leave moves out"],
    ),
    "a queue feeding itself through its consumers": (
        "queues:\n  a: {}\n  b: {}\nplayers:\n  - {name: p, steps: [{put: a}]}\n"
        "  - {name: ca, serves: a, steps: [{put: b}]}\n"
        "  - {name: cb, serves: b, steps: [{put: a}]}\n",
        2,
        "queues.a",
        ["feeds itself", "a → b → a"],
    ),
    "one name for a resource and a queue": (
        "resources: {db: 1}\nqueues:\n  db: {}\nplayers:\n  - {name: a, steps: [{host: 1}]}\n",
        3,
        "queues.db",
        ["'db' names both a resource and a queue"],
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_shared_scenario_is_one_line_naming_file_line_and_field(case, tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    text, line, path, words = BAD[case]
    file = tmp_path / "x.yaml"
    file.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2
    (message,) = result.stderr.splitlines()
    assert message.startswith(f"{file}:{line}: {path}: "), message
    for word in words:
        assert word in message, message


# --- two float paths to one instant ------------------------------------------------------

TWO_PATHS = """
resources: {r: 1}
players:
  - name: a
    steps: [{wait: 0.04}, {wait: 0.002}, {with: r, steps: [{wait: 1}]}]
  - name: b
    steps: [{wait: 0.03}, {wait: 0.012}, {with: r, steps: [{wait: 1}]}]
"""


@pytest.mark.parametrize("kind", ["cooperative", "synchronous"])
def test_two_float_paths_to_one_instant_ask_at_one_instant(kind):
    """0.04 + 0.002 is 0.042 and 0.03 + 0.012 is 0.041999999999999996 as floats, yet both
    are 42 ms: a and b ask for r at one instant, and a, first in the file, takes it
    (under synchronous b only starts once a is done: a ends at 1.042, b at 2.084)."""
    assert 0.03 + 0.012 < 0.04 + 0.002  # the floats differ, the instant does not
    trace = played(TWO_PATHS, kind)
    withs = rows(trace, WITH, "a") + rows(trace, WITH, "b")
    if kind == "cooperative":
        assert withs == [(0.042, 0.042, 1.042), (0.042, 1.042, 2.042)]
    else:
        assert trace.game_ends().tolist() == [1.042, 2.084]
