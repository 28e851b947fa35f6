"""The timeline and sweep pictures, checked from the figure objects and the PNG header."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from sim.experiment.runs import run
from sim.output import plots
from sim.output.plots.timeline import busy_integral
from sim.scenario.loader import from_yaml, load_file
from sim.scenario.model import STEP_KINDS, Scenario
from tests.conftest import SCENARIOS, cpu_bound, polgar_like, real_durations, scenarios


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def panels(fig, prefix: str = "timeline:") -> list[str]:
    return [ax.get_gid().removeprefix(prefix) for ax in fig.axes if ax.get_gid().startswith(prefix)]


def rows(fig, label: str) -> list[str]:
    ax = next(ax for ax in fig.axes if ax.get_gid() == f"timeline:{label}")
    return [tick.get_text() for tick in ax.get_yticklabels()]


def test_polgar_timeline_has_a_panel_per_schedule_a_row_per_player_and_every_step():
    """2 schedules → 2 panels; 24 players → 24 rows; 24 × 30 host and wait bars each.

    Waiting for the host: synchronous, amateurs 2…24 wait for their turn (23 bars);
    cooperative, every host step but amateur-1's first waits, because Judit has
    23 × 5 = 115 s of other moves to make while an amateur thinks 55 s (720 − 1 = 719).
    PNG: 1 200 px wide; 120 px frame + 2 × (24 rows × 16 px + 60 px) = 1 008 px high.
    """
    result = run(load_file(SCENARIOS / "polgar.yaml"))
    fig = plots.timeline(result.traces)
    assert panels(fig) == ["synchronous", "cooperative"]
    assert rows(fig, "cooperative") == [f"amateur-{i}" for i in range(1, 25)]
    assert plots.bar_counts(fig) == {
        "synchronous": {"host": 720, "wait": 720, plots.WAIT_FOR_HOST: 23},
        "cooperative": {"host": 720, "wait": 720, plots.WAIT_FOR_HOST: 719},
    }
    assert png_size(plots.to_png(fig)) == (1200, 1008) == plots.timeline_size(24, 2)
    assert fig.axes[-1].get_xlabel() == "time (h)"  # 12 h: read in hours


def test_cpu_bound_timeline_shows_the_second_wave_waiting_for_a_host():
    """8 one-second tasks on 4 hosts: 8 host bars a panel; tasks 5–8 wait 1 s for a host
    (4 bars) under both schedules; makespan 2 s. 120 + 2 × (8 × 16 + 60) = 496 px high."""
    result = run(cpu_bound(), ["synchronous", "cooperative"])
    fig = plots.timeline(result.traces)
    expected = {"host": 8, plots.WAIT_FOR_HOST: 4}
    assert plots.bar_counts(fig) == {"synchronous": expected, "cooperative": expected}
    assert len(rows(fig, "synchronous")) == 8
    assert png_size(plots.to_png(fig)) == (1200, 496)
    assert [trace.makespan for trace in result.traces] == [2.0, 2.0]


def test_past_sixty_players_a_panel_shows_first_and_last_rows_and_a_busy_strip():
    """200 players: rows 1–10, a gap row for the 180 others, rows 191–200 (21 rows);
    bars only for shown games: 20 games × 2 rounds = 40 host bars a panel.
    Height: 120 + 2 × (21 × 16 + 60 + 70) = 1 052 px."""
    result = run(polgar_like(200, rounds=2))
    fig = plots.timeline(result.traces)
    labels = rows(fig, "cooperative")
    assert len(labels) == 21
    assert labels[:2] == ["p-1", "p-2"] and labels[10] == "⋮ 180 more" and labels[-1] == "p-200"
    assert panels(fig, "host busy:") == ["synchronous", "cooperative"]
    assert all(count["host"] == 40 for count in plots.bar_counts(fig).values())
    assert png_size(plots.to_png(fig)) == (1200, 1052)


def test_busy_strip_of_a_saturated_host_reads_full_until_the_last_move():
    """Cooperative, 100 players of 5 s / 55 s on one host: busy from 0 to 100 × 2 × 5 = 1 000 s
    (100 × 5 ≥ 60, never idle), then 55 s of the last answer: the strip's integral over
    its bins equals the host work, 1 000 host-seconds."""
    result = run(polgar_like(100, rounds=2), ["cooperative"])
    fig = plots.timeline(result.traces)
    strip = next(ax for ax in fig.axes if ax.get_gid() == "host busy:cooperative")
    share, edges, _ = strip.patches[0].get_data()
    seconds = edges * 60  # the axis is in minutes: 1 055 s ≥ 2 min
    assert float(np.sum(share * np.diff(seconds))) == pytest.approx(1_000)
    assert share[np.flatnonzero(seconds[1:] <= 1_000)].min() == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 100, allow_nan=False), st.floats(0, 50, allow_nan=False)),
        max_size=20,
    ),
    st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=10),
)
def test_busy_integral_is_the_sum_of_clipped_step_times(steps, points):
    """∫₀ᵗ busy = Σ over steps of clip(t − start, 0, length), checked step by step."""
    starts = np.array([start for start, _ in steps], dtype=float)
    ends = np.array([start + length for start, length in steps], dtype=float)
    at = np.array(points)
    expected = [
        sum(min(max(t - s, 0.0), e - s) for s, e in zip(starts, ends, strict=True)) for t in at
    ]
    assert busy_integral(starts, ends, at) == pytest.approx(expected, abs=1e-9)


#: One host; g0 a 5 s host step; g1 ×3, 4 rounds of host 1.062 s, wait 2.301 s, wait 9 s.
#: Cooperative: g1-3's third host step is ready at 8.186 + 2 × 11.301 = 31.85 s, the instant
#: g1-2's ends (29.726 + 1.062 = 30.788, + 1.062 = 31.85), but the trace reaches the two by
#: different sums and has them one bit apart (start 31.850000000000005).
ONE_BIT_APART = Scenario(
    host={"count": 1},
    players=[
        {"name": "g0", "count": 1, "moves": 1, "steps": [{"host": 5.0}]},
        {
            "name": "g1",
            "count": 3,
            "moves": 4,
            "steps": [{"host": 1.062}, {"wait": 2.301}, {"wait": 9.0}],
        },
    ],
    schedules=["synchronous", "cooperative"],
)


@settings(max_examples=15, deadline=None)
@given(scenarios(real_durations))
@example(ONE_BIT_APART)
def test_every_positive_step_and_wait_for_a_host_is_one_bar(scenario):
    """Whatever the scenario: per panel and kind, one bar per step of that kind that
    lasts, and one per step that waited for a host, counted straight from the trace.

    Every duration is a whole number of milliseconds (`real_durations`), so is every
    instant and every wait: a start less than half a millisecond after the step was
    ready is the same instant reached by two sums, not a wait (`ONE_BIT_APART`)."""
    result = run(scenario)
    counts = plots.bar_counts(plots.timeline(result.traces))
    for trace in result.traces:
        workload = trace.workload
        lasting = trace.end > trace.start
        expected = {
            kind: int((lasting & (workload.kind == code)).sum())
            for code, kind in enumerate(STEP_KINDS)
        }
        expected[plots.WAIT_FOR_HOST] = int((trace.start - trace.ready >= 0.0005).sum())
        assert counts[trace.schedule.label] == {k: n for k, n in expected.items() if n}


def test_an_instant_reached_by_two_sums_is_no_wait_whatever_the_time_unit():
    """`ONE_BIT_APART`: host steps wait 5, 6.062 and 7.124 s for the host under both
    schedules (g1-1, g1-2, g1-3 behind g0 in turn; synchronous 5, 5 + 49.452 = 54.452 and
    103.904 s, a g1 game lasting 4 × 12.363 = 49.452 s). Cooperative, from g1-1's second
    round on each host step is ready when the one before it ends (17.363 = 6.062 + 11.301
    after 8.186; then 18.425, 19.487, …): no more waits. So 3 such bars a panel, beside
    1 + 3 × 4 = 13 host and 3 × 4 × 2 = 24 wait bars, drawn in minutes (makespan
    153.356 s) or, in a close-up of the first 40 s, in seconds."""
    result = run(ONE_BIT_APART)
    cooperative = result.trace("cooperative")
    assert cooperative.ready[31] == 31.85 and cooperative.start[31] == pytest.approx(31.85)
    assert cooperative.start[31] > cooperative.ready[31]  # the two sums, one bit apart
    assert result.trace("synchronous").makespan == pytest.approx(5 + 3 * 49.452)
    three = {plots.WAIT_FOR_HOST: 3, "host": 13, "wait": 24}
    for until, unit in ((None, "time (min)"), (40.0, "time (s)")):
        fig = plots.timeline(result.traces, until=until)
        assert fig.axes[-1].get_xlabel() == unit
        assert plots.bar_counts(fig) == {"synchronous": three, "cooperative": three}


def test_close_up_shows_the_first_three_rounds_of_the_fastest_schedule():
    """Cooperative polgar: 3 655 s × 3 / 30 rounds = 365.5 s, read in minutes."""
    result = run(load_file(SCENARIOS / "polgar.yaml"))
    span = plots.close_up_span(result.traces)
    assert span == pytest.approx(365.5)
    fig = plots.timeline(result.traces, until=span)
    assert fig.axes[0].get_xlim() == pytest.approx((0, 365.5 / 60))
    assert fig.axes[-1].get_xlabel() == "time (min)"


@pytest.mark.parametrize(
    ("seconds", "unit"),
    [(43_200, "h"), (7_200, "h"), (3_655, "min"), (365.5, "min"), (3, "s"), (0.5, "ms"), (0, "s")],
)
def test_time_axis_unit_follows_the_makespan(seconds, unit):
    """Hours from 2 h, minutes from 2 min, seconds from 2 s, else ms."""
    assert plots.time_unit(seconds)[0] == unit


def test_every_step_kind_has_its_own_colour():
    colours = [plots.style.colour(kind) for kind in dict.fromkeys((*STEP_KINDS, "block"))]
    assert len(set(colours)) == len(colours)
    assert plots.style.colour("block") == plots.KIND_COLOURS["block"]


def test_same_run_draws_byte_identical_png():
    result = run(load_file(SCENARIOS / "countasync.yaml"))
    assert plots.to_png(plots.timeline(result.traces)) == plots.to_png(
        plots.timeline(result.traces)
    )


#: 4 games, each holding one of 2 db connections through a 1 s wait and a 1 s host step.
DB = """
resources: {db: 2}
players:
  - {name: p, count: 4, steps: [{with: db, steps: [{wait: 1}, {host: 1}]}]}
schedules: [cooperative]
"""


def test_waits_for_a_resource_and_what_it_held_are_bars_of_their_own():
    """Cooperative (tests/test_shared_tables.py works it out): p-3 waits 0–2 and p-4 0–3
    for a connection (2 hatched bars), p-2 1–2 for the host (1 bar); each game holds a
    connection for its two steps (4 strips along the bottom of its row, a quarter of the
    bar's height), and 4 wait and 4 host bars. The title says how busy db was: 90 %."""
    result = run(from_yaml(DB))
    fig = plots.timeline(result.traces)
    assert plots.bar_counts(fig) == {
        "cooperative": {
            "host": 4, "wait": 4, plots.WAIT_FOR_HOST: 1, "waiting for db": 2, "holding db": 4,
        }
    }  # fmt: skip
    ax = fig.axes[0]
    assert ax.get_title(loc="left").endswith("host busy 80.0 %, db busy 90.0 %")
    bars = {str(c.get_label()): c for c in ax.collections}
    waits = bars["waiting for db"]
    assert waits.get_hatch() == "////"
    assert [path.vertices[:, 0].min() for path in waits.get_paths()] == [0.0, 0.0]
    assert [path.vertices[:, 0].max() for path in waits.get_paths()] == [2.0, 3.0]
    strip = bars["holding db"].get_paths()[0].vertices[:, 1]
    assert strip.max() - strip.min() == pytest.approx(0.36 * 2 / 4)
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == [
        "host", "wait", plots.WAIT_FOR_HOST, "holding db", "waiting for db", "makespan",
    ]  # fmt: skip


def test_the_children_of_a_gather_split_their_game_s_row():
    """A gather of 3 children, each a 1 s wait then a 1 s host step: the three waits play
    at once (0–1), each in a third of the row: bars 2 × 0.36 / 3 high, side by side."""
    text = """
players:
  - {name: g, steps: [{gather: {count: 3, steps: [{wait: 1}, {host: 1}]}}]}
schedules: [cooperative]
"""
    fig = plots.timeline(run(from_yaml(text)).traces)
    bars = {str(c.get_label()): c for c in fig.axes[0].collections}
    spans = sorted(
        edge
        for path in bars["wait"].get_paths()
        for edge in (path.vertices[:, 1].min(), path.vertices[:, 1].max())
    )
    assert spans == pytest.approx([-0.36, -0.12, -0.12, 0.12, 0.12, 0.36])  # thirds of ±0.36
    assert "gather" not in bars  # its children show it


def knee_sweep(replications: bool = False) -> pd.DataFrame:
    """The polgar count sweep from its closed forms: synchronous 1 800·n; cooperative
    max(150·n + 55, 1 800 + 5·(n − 1)), flat until the knee at n = 12."""
    rows = []
    for n in range(1, 49):
        for schedule, makespan in (
            ("synchronous", 1_800.0 * n),
            ("cooperative", max(150.0 * n + 55, 1_800 + 5.0 * (n - 1))),
        ):
            row = {"players.amateur.count": n, "schedule": schedule, "makespan_s": makespan}
            row["closed_form_s"] = makespan
            if replications:
                row |= {"makespan_ci_low_s": makespan * 0.95, "makespan_ci_high_s": makespan * 1.05}
            rows.append(row)
    return pd.DataFrame(rows)


def test_sweep_draws_a_line_per_schedule_with_the_closed_form_dashed():
    """48 points a schedule; the closed form as a dashed line beside each; counts 1 … 48
    span 48× (< 100×): linear x; makespans 1 800 s … 86 400 s span 48× (≥ 20×): log y."""
    fig = plots.sweep_chart(knee_sweep(), ["players.amateur.count"])
    ax = fig.axes[0]
    solid = [line for line in ax.lines if line.get_linestyle() == "-"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert [line.get_label() for line in solid] == ["synchronous", "cooperative"]
    assert [len(line.get_xdata()) for line in solid] == [48, 48]
    assert len(dashed) == 2
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "log")
    assert ax.get_ylabel() == "makespan (h)"  # 86 400 s = 24 h


def test_sweep_shades_confidence_bands_and_goes_logarithmic_over_two_decades():
    """x from 1 to 1 000 (1 000×) and makespans from 1 800 s to 1.8 M s: both axes log;
    one band per schedule."""
    frame = knee_sweep(replications=True)
    frame["players.amateur.count"] = frame["players.amateur.count"] ** 2 * 1000 // 2304
    frame = frame[frame["players.amateur.count"] > 0]
    frame.loc[frame["schedule"] == "synchronous", "makespan_s"] *= 20
    fig = plots.sweep_chart(
        frame, ["players.amateur.count"], band=("makespan_ci_low_s", "makespan_ci_high_s")
    )
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert len(ax.collections) == 2


def test_sweep_over_two_fields_gives_a_panel_per_value_of_the_second():
    """count × host.count ∈ {1, 2, 4}: three panels, each a line per schedule."""
    frame = pd.concat(
        [knee_sweep().assign(**{"host.count": hosts}) for hosts in (1, 2, 4)], ignore_index=True
    )
    fig = plots.sweep_chart(frame, ["players.amateur.count", "host.count"])
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == [f"host.count = {k}" for k in (1, 2, 4)]
    assert all(len(ax.lines) == 4 for ax in shown)  # 2 schedules, each with its closed form


def test_sweep_over_values_that_are_not_numbers_gives_one_tick_each():
    """A varied distribution is written as text: three values, three ticks, in order."""
    values = ["5", "{dist: exponential, mean: 5}", "{dist: uniform, low: 0, high: 10}"]
    frame = pd.DataFrame(
        [
            {"host_move": value, "schedule": schedule, "makespan_s": 100.0 + i}
            for i, value in enumerate(values)
            for schedule in ("synchronous", "cooperative")
        ]
    )
    ax = plots.sweep_chart(frame, ["host_move"]).axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == values
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2]
