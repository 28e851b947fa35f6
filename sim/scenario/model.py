"""The scenario: a host, groups of players and the schedules to play them under.

These frozen models are the only form of a scenario that the layers below see;
`sim.scenario.loader` turns YAML into them, code can build them directly. Durations are
held in seconds: bare numbers are read in the scenario's `unit` while it is
validated.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from sim.scenario.distributions import Duration, Law, law_of, mean_of
from sim.scenario.frozen import (
    Count,
    Frozen,
    Seconds,
    fail,
    fail_at,
    hosts_in_scenario,
    unit_of_bare_numbers,
)
from sim.scenario.grid import Axis
from sim.scenario.schedules import DEFAULT_SCHEDULES, Schedule
from sim.scenario.units import UNITS

__all__ = ["STEP_KINDS", "Host", "PlayerGroup", "Scenario", "Step", "StepKind"]

StepKind = Literal["host", "wait", "block"]
#: Step kinds in the order of their codes in the columnar arrays (`kind == 0` is a host step).
#: New kinds are appended: the codes are part of every trace.
STEP_KINDS: tuple[StepKind, ...] = ("host", "wait", "block")

Unit = Literal["us", "ms", "s", "min", "h"]
Loc = tuple[str | int, ...]
assert set(Unit.__args__) == set(UNITS)  # one list of units, checked at import


class Step(Frozen):
    """One step of a round: `{host: 5}` holds a host 5 s, `{wait: 55}` holds nothing.

    `{block: 1}` is a blocking call (`time.sleep`, a synchronous HTTP request):
    it uses no CPU but holds whatever runs it, so under cooperative it holds
    the event loop like a host step, while a thread or a process gives the
    CPU (and the GIL) away during it. Any duration may be a distribution
    (`{wait: {dist: exponential, mean: 1s}}`).
    """

    noun: ClassVar[str] = "step kind"

    host: Duration | None = None
    wait: Duration | None = None
    block: Duration | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        given = [kind for kind in STEP_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            kinds = ", ".join(STEP_KINDS)
            fail(f"expected exactly one step kind (one of {kinds}), e.g. {{host: 5}}")
        return self

    @property
    def kind(self) -> StepKind:
        return next(kind for kind in STEP_KINDS if getattr(self, kind) is not None)

    @property
    def duration(self) -> float:
        """Seconds; for a random step, the expected seconds."""
        return mean_of(getattr(self, self.kind))

    @property
    def law(self) -> Law | None:
        """The distribution each play of this step is drawn from; None when fixed."""
        return law_of(getattr(self, self.kind))


class PlayerGroup(Frozen):
    """`count` identical players, each playing a game of `moves` rounds.

    A round is `host_move` then `player_move` (either may be left out), or the
    general `steps` list.
    """

    name: str = Field(min_length=1)
    count: Count = 1
    moves: Count = 1
    host_move: Duration | None = None
    player_move: Duration | None = None
    steps: tuple[Step, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _round_given_once(self) -> PlayerGroup:
        pair = self.host_move is not None or self.player_move is not None
        if pair and self.steps is not None:
            fail("give either host_move/player_move or steps, not both")
        if not pair and self.steps is None:
            fail("missing the round: give host_move and player_move, or steps")
        return self

    @cached_property
    def round(self) -> tuple[Step, ...]:
        """The steps of one round, whichever way the file spelled them."""
        if self.steps is not None:
            return self.steps
        # already in seconds: built without validation, so no unit applies twice
        pair = {"host": self.host_move, "wait": self.player_move}
        return tuple(Step.model_construct(**{k: v}) for k, v in pair.items() if v is not None)

    def player_names(self) -> Iterator[str]:
        """Player names: the group's name, numbered when the group has several."""
        if self.count == 1:
            yield self.name
        else:
            yield from (f"{self.name}-{i}" for i in range(1, self.count + 1))


class Host(Frozen):
    """Who serves: Judit, an event loop's thread, CPU cores (`count` side by side).

    `switch_cost` is the time a host spends moving from one game to a different
    one before it can work on it: Judit walking to the next board, a context
    switch between threads. It is paid where a host really changes games (see
    docs/design.md, "Schedules", for where it does not apply).
    """

    name: str = Field(default="host", min_length=1)
    count: Count = 1
    switch_cost: Seconds = 0.0


class Scenario(Frozen):
    """Everything one run needs; see docs/design.md, "Scenarios".

    Load one (`sim.load`), parse YAML (`sim.from_yaml`), or build it in code
    with the file's fields; durations given as numbers are in `unit`:

    >>> from sim import Scenario
    >>> s = Scenario(
    ...     name="polgar48",
    ...     host={"name": "Judit"},
    ...     players=[{"name": "amateur", "count": 48, "moves": 30,
    ...               "host_move": 5, "player_move": "55s"}],
    ... )
    >>> s.games, s.step_count
    (48, 2880)
    """

    name: str = Field(default="scenario", min_length=1)
    description: str = ""
    unit: Unit = "s"
    host: Host = Host()
    players: tuple[PlayerGroup, ...] = Field(min_length=1)
    schedules: tuple[Schedule, ...] = Field(default=DEFAULT_SCHEDULES, min_length=1)
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    replications: Count = 1
    sweep: dict[Annotated[str, Field(min_length=1)], Axis] = Field(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _bare_numbers_in_unit(cls, data: Any, handler: Any) -> Scenario:
        """Validate with the file's `unit` in force, so `55` under `unit: ms` is 0.055 s.

        The schedules also see `host.count`, to refuse a schedule asking for more hosts.
        """
        unit = data.get("unit", "s") if isinstance(data, dict) else "s"
        host = data.get("host") if isinstance(data, dict) else None
        count = host.get("count", 1) if isinstance(host, dict) else 1 if host is None else None
        unit_token = unit_of_bare_numbers.set(
            unit if isinstance(unit, str) and unit in UNITS else "s"
        )
        hosts_token = hosts_in_scenario.set(
            count if isinstance(count, int) and not isinstance(count, bool) and count >= 1 else None
        )
        try:
            return handler(data)
        finally:
            unit_of_bare_numbers.reset(unit_token)
            hosts_in_scenario.reset(hosts_token)

    @model_validator(mode="before")
    @classmethod
    def _name_groups(cls, data: Any) -> Any:
        """Unnamed groups are called `group-1`, `group-2`, … by their place in the file."""
        if isinstance(data, dict) and isinstance(data.get("players"), list):
            players = [
                {"name": f"group-{i}", **group}
                if isinstance(group, dict) and "name" not in group
                else group
                for i, group in enumerate(data["players"], start=1)
            ]
            data = {**data, "players": players}
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        groups = [(("players", i, "name"), group.name) for i, group in enumerate(self.players)]
        _refuse_repeats("player group name", groups)
        _refuse_repeats("player name", _names_that_may_clash(self.players))
        labels = [(("schedules", i), schedule.label) for i, schedule in enumerate(self.schedules)]
        _refuse_repeats("schedule", labels)
        return self

    @property
    def games(self) -> int:
        return sum(group.count for group in self.players)

    @property
    def random(self) -> bool:
        """True when some step's duration is drawn from a distribution."""
        return any(step.law is not None for group in self.players for step in group.round)

    @property
    def step_count(self) -> int:
        """Steps over all games: the size of the trace."""
        return sum(group.count * group.moves * len(group.round) for group in self.players)


def _names_that_may_clash(groups: tuple[PlayerGroup, ...]) -> list[tuple[Loc, str]]:
    """Player names that could repeat, each with its group's place, found without listing all.

    Listing every player would take as long as the count is large (a few zeros
    too many in `count` would hang validation). Numbered names `g-1` … `g-n`
    cannot clash with another group's numbered names, group names being unique;
    only a one-player group's name can equal `g-k` of a numbered group.
    """
    numbered = {group.name: i for i, group in enumerate(groups) if group.count > 1}
    names = []
    for i, group in enumerate(groups):
        if group.count > 1:
            continue
        names.append((("players", i, "name"), group.name))
        stem, _, number = group.name.rpartition("-")
        digits = number.isascii() and number.isdigit() and not number.startswith("0")
        if (
            digits
            and stem in numbered
            and len(number) < 4000
            and int(number) <= groups[numbered[stem]].count
        ):
            names.append((("players", numbered[stem], "name"), group.name))
    return sorted(names)


def _refuse_repeats(what: str, names: list[tuple[Loc, str]]) -> None:
    """Refuse the second of two equal names, pointing at it."""
    seen: set[str] = set()
    for loc, name in names:
        if name in seen:
            fail_at(loc, f"{what} {name!r} appears twice; each must be unique", name)
        seen.add(name)
