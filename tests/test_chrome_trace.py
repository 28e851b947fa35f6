"""trace.json follows the trace event format and gives back every step of the run."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from hypothesis import given, settings

from sim.experiment.runs import run
from sim.output import chrome_trace
from sim.scenario.loader import from_yaml, load_file
from sim.scenario.model import STEP_KINDS
from tests.conftest import SCENARIOS, integer_durations, scenarios

REQUIRED = {"M": {"name", "ph", "pid", "tid", "args"}, "B": {"name", "ph", "ts", "pid", "tid"}}
REQUIRED |= {"E": {"ph", "ts", "pid", "tid"}, "i": {"name", "ph", "ts", "pid", "tid", "s"}}


def load(traces) -> dict:
    return json.loads("".join(chrome_trace.chunks(traces)))


def check_format(document: dict) -> dict[tuple[int, int], list[dict]]:
    """Assert the format's rules; return each track's begin/end spans and instants.

    Every event has its phase's required keys; timestamps are numbers in µs; on each
    track (pid, tid) they never go back; every E closes the latest open B, none stays open.
    """
    assert isinstance(document["traceEvents"], list)
    open_spans: dict[tuple[int, int], list[dict]] = defaultdict(list)
    last: dict[tuple[int, int], float] = {}
    done: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for event in document["traceEvents"]:
        phase = event["ph"]
        assert REQUIRED[phase] <= event.keys(), event
        track = (event["pid"], event["tid"])
        assert all(isinstance(event[key], int) for key in ("pid", "tid"))
        if phase == "M":
            continue
        ts = event["ts"]
        assert isinstance(ts, int | float) and ts >= last.get(track, 0), event
        last[track] = ts
        if phase == "B":
            open_spans[track].append(event)
        elif phase == "E":
            begin = open_spans[track].pop()
            done[track].append({**begin, "dur": ts - begin["ts"]})
        else:
            assert event["s"] == "t"
            done[track].append({**event, "dur": 0})
    assert not any(open_spans.values())
    return done


def steps_by_track(document: dict) -> dict[tuple[int, int], int]:
    return {
        track: sum(1 for span in spans if span.get("cat") in STEP_KINDS)
        for track, spans in check_format(document).items()
    }


def track_names(document: dict) -> dict[tuple[int, int], str]:
    return {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in document["traceEvents"]
        if e["ph"] == "M" and e["name"] in ("thread_name", "process_name")
    }


def test_polgar_trace_has_a_track_per_host_and_player_with_every_step():
    """Per schedule 24 × 30 × 2 = 1 440 steps: 60 on each amateur's track. Judit's track
    holds all 1 440 under synchronous (she sits through the waits), only the
    24 × 30 = 720 host steps under cooperative. Timestamps in µs: the synchronous
    makespan 43 200 s ends at 43 200 × 10⁶ µs, the cooperative 3 655 s at 3.655 × 10⁹."""
    result = run(load_file(SCENARIOS / "polgar.yaml"))
    document = load(result.traces)
    names = track_names(document)
    counts = steps_by_track(document)
    assert names[(1, 0)] == "synchronous" and names[(2, 0)] == "cooperative"
    assert names[(1, 1)] == "Judit" and names[(1, 2)] == "amateur-1"
    assert names[(2, 25)] == "amateur-24"
    for pid in (1, 2):
        assert [counts[(pid, tid)] for tid in range(2, 26)] == [60] * 24
    assert counts[(1, 1)] == 1_440 and counts[(2, 1)] == 720
    ends = defaultdict(float)
    for event in document["traceEvents"]:
        if event["ph"] == "E":
            ends[event["pid"]] = max(ends[event["pid"]], event["ts"])
    assert dict(ends) == {1: 43_200 * 10**6, 2: 3_655 * 10**6}


def test_idle_hosts_get_tracks_only_up_to_a_few_dozen():
    """Two games on a million hosts use hosts 1 and 2 (synchronous, one game a host):
    two host tracks, then the games', not a million empty ones. A few idle hosts keep
    theirs (4 hosts, 2 games: 4 tracks)."""
    for hosts, tracks in ((1_000_000, 2), (4, 4)):
        scenario = from_yaml(
            f"name: many\nhost: {{name: cpu, count: {hosts}}}\n"
            "players: [{name: p, count: 2, moves: 1, steps: [{host: 1s}]}]\n"
        )
        result = run(scenario, schedules=["synchronous"])
        names = track_names(load(result.traces))
        host_names = [name for (pid, tid), name in names.items() if name.startswith("cpu")]
        assert len(host_names) == tracks
        assert chrome_trace.host_tracks(result.traces[0]) == tracks


def test_waiting_for_the_host_is_its_own_span_on_the_player_track():
    """Cooperative polgar, amateur-24's first move: ready at 0, Judit reaches it after
    23 × 5 s = 115 s, so a 'waiting for the host' span of 115 × 10⁶ µs opens at 0."""
    result = run(load_file(SCENARIOS / "polgar.yaml"), ["cooperative"])
    spans = check_format(load(result.traces))[(1, 25)]
    first = spans[0]
    assert first["name"] == chrome_trace.WAIT_FOR_HOST
    assert (first["ts"], first["dur"]) == (0, 115 * 10**6)
    assert spans[1]["name"] == "host" and spans[1]["args"] == {"move": 1, "step": 1}


def test_zero_length_steps_are_instants_and_still_counted():
    """countasync: 3 games of [host 0, wait 1 s, host 0] → 9 steps a schedule, 6 of them
    instants (the zero-length host steps), 3 waits of 10⁶ µs."""
    document = load(run(load_file(SCENARIOS / "countasync.yaml")).traces)
    phases = Counter((e["pid"], e["ph"], e.get("cat")) for e in document["traceEvents"])
    assert sum(steps_by_track(document)[(1, tid)] for tid in (2, 3, 4)) == 9
    assert phases[(1, "i", "host")] == 6 + 6  # on the player tracks and on the host track
    durations = [s["dur"] for s in check_format(document)[(2, 2)] if s.get("cat") == "wait"]
    assert durations == [10**6]


@settings(max_examples=25, deadline=None)
@given(scenarios(integer_durations))
def test_any_run_round_trips_its_step_count_and_nests_on_every_track(scenario):
    """Whatever the scenario: every step appears once on its player's track, every step
    that held a host once on that host's track, and begin/end pairs nest everywhere."""
    result = run(scenario)
    counts = steps_by_track(load(result.traces))
    for pid, trace in enumerate(result.traces, start=1):
        workload = trace.workload
        players = [chrome_trace.player_track(trace, g) for g in range(workload.games)]
        assert sum(counts.get((pid, tid), 0) for tid in players) == len(workload.kind)
        hosts = [chrome_trace.host_track(h) for h in range(workload.hosts)]
        assert sum(counts.get((pid, tid), 0) for tid in hosts) == int((trace.host >= 0).sum())


#: 4 games, each holding one of 2 db connections through a 1 s wait and a 1 s host step.
DB = """
resources: {db: 2}
players:
  - {name: p, count: 4, steps: [{with: db, steps: [{wait: 1}, {host: 1}]}]}
schedules: [cooperative]
"""


def test_a_with_is_a_slice_around_its_steps_after_its_wait_for_the_resource():
    """Cooperative (tests/test_shared_tables.py works it out): p-4 (track 1 + 4) waits
    0–3 s for a connection, holds it 3–5 s around its wait 3–4 and host step 4–5."""
    document = load(run(from_yaml(DB)).traces)
    spans = check_format(document)[(1, 5)]
    assert track_names(document)[(1, 5)] == "p-4"
    shown = [(s["name"], s.get("cat"), s["ts"], s["dur"]) for s in spans]
    assert shown == [
        ("waiting for db", "wait for resource", 0, 3 * 10**6),
        ("wait", "wait", 3 * 10**6, 10**6),
        ("host", "host", 4 * 10**6, 10**6),
        ("with db", "with", 3 * 10**6, 2 * 10**6),
    ]  # ends in order: the steps inside close before the with around them
    host = [(s["name"], s["ts"]) for s in check_format(document)[(1, 1)]]
    assert host == [("p-1", 10**6), ("p-2", 2 * 10**6), ("p-3", 3 * 10**6), ("p-4", 4 * 10**6)]


def test_a_gather_s_children_have_tracks_of_their_own_and_puts_are_instants():
    """A game that gathers 2 children (wait 1 s each, at once) then puts into a queue a
    consumer serves: tracks g, g/1, g/2, c; the gather spans 0–1 s on g's track."""
    text = """
queues: {jobs: {}}
players:
  - {name: g, steps: [{gather: {count: 2, steps: [{wait: 1}]}}, {put: jobs}]}
  - {name: c, serves: jobs, steps: [{host: 1}]}
schedules: [cooperative]
"""
    result = run(from_yaml(text))
    document = load(result.traces)
    names = track_names(document)
    assert [names[(1, tid)] for tid in range(2, 6)] == ["g", "g/1", "g/2", "c"]
    trace = result.traces[0]
    assert [chrome_trace.player_track(trace, game) for game in (0, 1)] == [2, 5]
    spans = check_format(document)
    assert [(s["name"], s["ts"], s["dur"]) for s in spans[(1, 2)]] == [
        ("gather", 0, 10**6),
        ("put jobs", 10**6, 0),
    ]
    assert [(s["name"], s["dur"]) for s in spans[(1, 3)]] == [("wait", 10**6)]
    assert [(s["name"], s["dur"]) for s in spans[(1, 4)]] == [("wait", 10**6)]
    consumer = [(s["name"], s.get("cat"), s["ts"], s["dur"]) for s in spans[(1, 5)]]
    assert consumer[:2] == [
        ("waiting for jobs", "wait for queue", 0, 10**6),
        ("get jobs", "get", 10**6, 0),
    ]


@settings(max_examples=15, deadline=None)
@given(scenarios(integer_durations))
def test_a_scenario_that_shares_nothing_numbers_its_tracks_by_game(scenario):
    """No gather, no child tracks: game i is track hosts + 1 + i, as always."""
    result = run(scenario)
    for trace in result.traces:
        tracks = [chrome_trace.player_track(trace, g) for g in range(trace.workload.games)]
        assert tracks == list(range(chrome_trace.host_tracks(trace) + 1, tracks[-1] + 1))
