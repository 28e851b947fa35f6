"""Shared builders: scenarios from plain arguments, and hypothesis strategies."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from sim.loader import load_file
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def polgar_like(n: int, rounds: int = 30, c: float = 5, w: float = 55, hosts: int = 1) -> Scenario:
    """n identical games of `rounds` rounds: host step c, then wait step w."""
    group = {"name": "p", "count": n, "moves": rounds, "host_move": c, "player_move": w}
    return Scenario(host={"count": hosts}, players=[group])


def cpu_bound() -> Scenario:
    """Eight tasks, each one 1 s host step, on four hosts (scenarios/cpu_bound.yaml's shape)."""
    path = SCENARIOS / "cpu_bound.yaml"
    if path.is_file():
        return load_file(path)
    return Scenario(
        name="cpu_bound",
        host={"count": 4},
        players=[{"name": "task", "count": 8, "steps": [{"host": 1}]}],
    )


def step_lists(durations: st.SearchStrategy[float]) -> st.SearchStrategy[list[dict]]:
    kinds = st.sampled_from(["host", "wait"])
    return st.lists(st.builds(lambda k, d: {k: d}, kinds, durations), min_size=1, max_size=4)


def scenarios(
    durations: st.SearchStrategy[float], max_hosts: int = 3, max_count: int = 5
) -> st.SearchStrategy[Scenario]:
    """Random heterogeneous scenarios: 1–4 groups, general step lists, 1–max_hosts hosts."""
    group = st.fixed_dictionaries(
        {
            "count": st.integers(1, max_count),
            "moves": st.integers(1, 4),
            "steps": step_lists(durations),
        }
    )
    return st.builds(
        lambda groups, hosts: Scenario(
            host={"count": hosts},
            players=[{"name": f"g{i}", **g} for i, g in enumerate(groups)],
        ),
        st.lists(group, min_size=1, max_size=4),
        st.integers(1, max_hosts),
    )


#: Integer seconds, zero included: same-instant ties everywhere.
integer_durations = st.integers(0, 5).map(float)
#: Non-integer seconds: ties only by accident.
real_durations = st.floats(0.0, 10.0, allow_nan=False).map(lambda x: round(x, 3))
