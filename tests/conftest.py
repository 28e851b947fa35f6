"""Shared builders: scenarios from plain arguments, hypothesis strategies, fixtures."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from sim.scenario.loader import load_file
from sim.scenario.model import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`sim list` keeps its rows in a folder of the test run's own, not the user's
    (set in the environment, so commands the tests start use it too)."""
    os.environ["SIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


#: The schedules of the foundation's figures; the others are asked for by name.
CLASSIC = ("synchronous", "cooperative")


@pytest.fixture
def small_scenario(tmp_path: Path) -> Path:
    """Two games of three rounds (5 s and 55 s moves): a run of a fraction of a second."""
    path = tmp_path / "small.yaml"
    path.write_text(
        "players:\n  - name: p\n    count: 2\n    moves: 3\n    host_move: 5\n    player_move: 55\n"
    )
    return path


@pytest.fixture
def polgar_copy(tmp_path: Path) -> Path:
    """scenarios/polgar.yaml under another name, in a folder of the test's own."""
    copy = tmp_path / "exhibition.yaml"
    shutil.copy(SCENARIOS / "polgar.yaml", copy)
    return copy


def polgar_like(
    n: int,
    rounds: int = 30,
    c: float = 5,
    w: float = 55,
    hosts: int = 1,
    schedules: tuple = CLASSIC,
    switch_cost: float = 0.0,
) -> Scenario:
    """n identical games of `rounds` rounds: host step c, then wait step w."""
    group = {"name": "p", "count": n, "moves": rounds, "host_move": c, "player_move": w}
    return Scenario(
        host={"count": hosts, "switch_cost": switch_cost},
        players=[group],
        schedules=list(schedules),
    )


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


def step_lists(
    durations: st.SearchStrategy[float], kinds: tuple[str, ...] = ("host", "wait")
) -> st.SearchStrategy[list[dict]]:
    kinds = st.sampled_from(kinds)
    return st.lists(st.builds(lambda k, d: {k: d}, kinds, durations), min_size=1, max_size=4)


def scenarios(
    durations: st.SearchStrategy[float],
    max_hosts: int = 3,
    max_count: int = 5,
    kinds: tuple[str, ...] = ("host", "wait"),
    min_hosts: int = 1,
) -> st.SearchStrategy[Scenario]:
    """Random heterogeneous scenarios: 1–4 groups, general step lists, 1–max_hosts hosts."""
    group = st.fixed_dictionaries(
        {
            "count": st.integers(1, max_count),
            "moves": st.integers(1, 4),
            "steps": step_lists(durations, kinds),
        }
    )
    return st.builds(
        lambda groups, hosts: Scenario(
            host={"count": hosts},
            players=[{"name": f"g{i}", **g} for i, g in enumerate(groups)],
            schedules=list(CLASSIC),
        ),
        st.lists(group, min_size=1, max_size=4),
        st.integers(min_hosts, max_hosts),
    )


#: Integer seconds, zero included: same-instant ties everywhere.
integer_durations = st.integers(0, 5).map(float)
#: Non-integer seconds: ties only by accident.
real_durations = st.floats(0.0, 10.0, allow_nan=False).map(lambda x: round(x, 3))


def with_steps_renamed(scenario: Scenario, old: str, new: str) -> Scenario:
    """The same scenario with every `old` step (in `steps` lists) turned into a `new` one."""
    data = scenario.model_dump(exclude_none=True)
    for group in data["players"]:
        group["steps"] = [
            {new if kind == old else kind: d for kind, d in step.items()}
            for step in group.get("steps", [])
        ] or group.pop("steps", None)
    return Scenario.model_validate(data)


def busy_time(starts: np.ndarray, ends: np.ndarray, capacity: int) -> float:
    """∫ min(number of intervals covering t, capacity) dt: what `capacity` CPUs can do."""
    moments = np.unique(np.concatenate([starts, ends]))
    total = 0.0
    for lo, hi in itertools.pairwise(moments):
        covering = np.count_nonzero((starts <= lo) & (ends >= hi))
        total += min(covering, capacity) * (hi - lo)
    return total
