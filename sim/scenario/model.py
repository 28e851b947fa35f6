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

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from sim.scenario.distributions import Duration, Law, law_of, mean_of
from sim.scenario.errors import named
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
from sim.scenario.names import Label, Text
from sim.scenario.schedules import DEFAULT_SCHEDULES, Schedule
from sim.scenario.units import UNITS

__all__ = [
    "NAME_PATTERN",
    "STEP_KINDS",
    "TIMED_KINDS",
    "Gather",
    "Hold",
    "Host",
    "PlayerGroup",
    "QueueSpec",
    "Scenario",
    "Step",
    "StepKind",
]

StepKind = Literal["host", "wait", "block", "with", "gather", "put", "get", "native"]
#: Row kinds in the order of their codes in the columnar arrays (`kind == 0` is a host step).
#: New kinds are appended: the codes are part of every trace. `get` is no step of the
#: file: a consumer's round begins with it (`serves`).
STEP_KINDS: tuple[StepKind, ...] = (
    "host",
    "wait",
    "block",
    "with",
    "gather",
    "put",
    "get",
    "native",
)
#: Kinds that last a duration of their own; the others are spans around or waits for others.
TIMED_KINDS: tuple[StepKind, ...] = ("host", "wait", "block", "native")
#: Kinds a step of the file is spelt with, in the order error messages list them.
_FILE_KINDS: tuple[StepKind, ...] = ("host", "wait", "block", "native", "with", "gather", "put")
#: What a job on an executor may hold: Python, which needs the GIL (the loop's host),
#: and time off it (a blocking call, C code that releases the GIL: a `wait`).
_JOB_KINDS: frozenset[StepKind] = frozenset({"host", "wait"})
#: Names of resources and queues: they become column names, so words, digits, `_ . -`.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]

Unit = Literal["us", "ms", "s", "min", "h"]
Loc = tuple[str | int, ...]
assert set(Unit.__args__) == set(UNITS)  # one list of units, checked at import


def _named(value: Any) -> Any:
    """`with: connections` is short for `with: {resource: connections}`."""
    return {"resource": value} if isinstance(value, str) else value


def _name_or_hold(schema: dict[str, Any]) -> None:
    """`sim schema`: a `with` may also be written as the resource's name alone."""
    schema["anyOf"].insert(1, {"type": "string", "pattern": NAME_PATTERN})


class Hold(Frozen):
    """What a `with` block takes: `units` of one resource, held until the block ends."""

    noun: ClassVar[str] = "field"

    resource: Name
    units: Count = 1


class Gather(Frozen):
    """`count` children started at once, each playing `steps`; the game goes on when all
    are done (`asyncio.gather`, threads joined, a pool's map)."""

    count: Count = 1
    steps: tuple[Step, ...] = Field(min_length=1)


class Step(Frozen):
    """One step of a round: `{host: 5}` holds a host 5 s, `{wait: 55}` holds nothing.

    `{block: 1}` is a blocking call (`time.sleep`, a synchronous HTTP request):
    it uses no CPU but holds whatever runs it, so under cooperative it holds
    the event loop like a host step, while a thread or a process gives the
    CPU (and the GIL) away during it. `{native: 1}` is CPU work in C code
    that releases the GIL (numpy, hashlib, zlib): a CPU step everywhere, but
    under the GIL threads run several at once on the CPUs while one of them
    runs Python. Any duration may be a distribution
    (`{wait: {dist: exponential, mean: 1s}}`).

    Three kinds share what the games share (docs/design.md, "Shared limits,
    queues and fan-out"): `{with: db, steps: [...]}` holds a unit of resource
    `db` for the steps inside; `{put: jobs}` puts an item into queue `jobs`,
    waiting while it is full; `{gather: {count: 3, steps: [...]}}` starts three
    children and goes on when all are done.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    noun: ClassVar[str] = "step kind"
    spelt: ClassVar[tuple[str, ...]] = (*_FILE_KINDS, "steps")

    host: Duration | None = None
    wait: Duration | None = None
    block: Duration | None = None
    native: Duration | None = None
    with_: Annotated[Hold, BeforeValidator(_named)] | None = Field(
        default=None, alias="with", json_schema_extra=lambda schema: _name_or_hold(schema)
    )
    gather: Gather | None = None
    put: Name | None = None
    steps: tuple[Step, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        given = [kind for kind in _FILE_KINDS if self._given(kind) is not None]
        if len(given) != 1:
            kinds = ", ".join(_FILE_KINDS)
            fail(f"expected exactly one step kind (one of {kinds}), e.g. {{host: 5}}")
        if given == ["with"] and self.steps is None:
            fail("a `with` step holds its resource for the steps inside: give them as `steps`")
        if given != ["with"] and self.steps is not None:
            fail("only a `with` step has steps inside; a fan-out is `gather: {count, steps}`")
        return self

    def _given(self, kind: str) -> Any:
        return self.with_ if kind == "with" else getattr(self, kind)

    @property
    def kind(self) -> StepKind:
        return next(kind for kind in _FILE_KINDS if self._given(kind) is not None)

    @property
    def duration(self) -> float:
        """Seconds; for a random step, the expected seconds; 0 for the kinds without one."""
        kind = self.kind
        return mean_of(getattr(self, kind)) if kind in TIMED_KINDS else 0.0

    @property
    def law(self) -> Law | None:
        """The distribution each play of this step is drawn from; None when fixed."""
        kind = self.kind
        return law_of(getattr(self, kind)) if kind in TIMED_KINDS else None

    @property
    def inner(self) -> tuple[Step, ...]:
        """The steps inside a `with` or a `gather` (once per child); none for the others."""
        if self.gather is not None:
            return self.gather.steps
        return self.steps or ()

    def walk(self) -> Iterator[Step]:
        """This step, then every step inside it, depth first."""
        yield self
        for step in self.inner:
            yield from step.walk()

    @property
    def rows(self) -> int:
        """Rows one play of this step adds to the steps table: itself and those inside."""
        inside = sum(step.rows for step in self.inner)
        return 1 + (self.gather.count * inside if self.gather is not None else inside)

    def puts(self, queue: str) -> int:
        """Items one play of this step puts into `queue`."""
        if self.put is not None:
            return int(self.put == queue)
        inside = sum(step.puts(queue) for step in self.inner)
        return self.gather.count * inside if self.gather is not None else inside


class PlayerGroup(Frozen):
    """`count` identical players, each playing a game of `moves` rounds.

    A round is `host_move` then `player_move` (either may be left out), or the
    general `steps` list.
    """

    name: Label
    count: Count = 1
    moves: Count = 1
    host_move: Duration | None = None
    player_move: Duration | None = None
    steps: tuple[Step, ...] | None = Field(default=None, min_length=1)
    serves: Name | None = None

    @model_validator(mode="after")
    def _round_given_once(self) -> PlayerGroup:
        pair = self.host_move is not None or self.player_move is not None
        if pair and self.steps is not None:
            fail("give either host_move/player_move or steps, not both")
        if not pair and self.steps is None:
            fail("missing the round: give host_move and player_move, or steps")
        if self.serves is not None and "moves" in self.model_fields_set:
            fail_at(
                ("moves",),
                "a group that serves a queue plays one round per item it takes: leave moves out",
                self.moves,
            )
        return self

    @cached_property
    def round(self) -> tuple[Step, ...]:
        """The steps of one round, whichever way the file spelled them."""
        if self.steps is not None:
            return self.steps
        # already in seconds: built without validation, so no unit applies twice
        pair = {"host": self.host_move, "wait": self.player_move}
        return tuple(Step.model_construct(**{k: v}) for k, v in pair.items() if v is not None)

    @property
    def rows_per_round(self) -> int:
        """Rows one round adds to the steps table (a consumer's `get` included)."""
        return sum(step.rows for step in self.round) + (self.serves is not None)

    def puts(self, queue: str) -> int:
        """Items one round puts into `queue`."""
        return sum(step.puts(queue) for step in self.round)

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

    name: Label = "host"
    count: Count = 1
    switch_cost: Seconds = 0.0


class QueueSpec(Frozen):
    """A queue between games: `maxsize` items at most (0: unbounded), like `asyncio.Queue`."""

    maxsize: Annotated[int, Field(strict=True, ge=0)] = 0


def _unbounded(value: Any) -> Any:
    """`jobs:` with nothing after it is an unbounded queue."""
    return {} if value is None else value


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

    name: Label = "scenario"
    description: Text = ""
    unit: Unit = "s"
    host: Host = Host()
    players: tuple[PlayerGroup, ...] = Field(min_length=1)
    schedules: tuple[Schedule, ...] = Field(default=DEFAULT_SCHEDULES, min_length=1)
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    replications: Count = 1
    sweep: dict[Annotated[str, Field(min_length=1)], Axis] = Field(default_factory=dict)
    resources: dict[Name, Count] = Field(default_factory=dict)
    executors: dict[Name, Count] = Field(default_factory=dict)
    queues: dict[Name, Annotated[QueueSpec, BeforeValidator(_unbounded)]] = Field(
        default_factory=dict
    )

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

    @model_validator(mode="after")
    def _shared_names_declared(self) -> Scenario:
        """Every resource and queue a step names is declared, and can be granted."""
        for name in self.resources.keys() & self.executors.keys():
            fail_at(("executors", name), f"{name!r} names both a resource and an executor", name)
        for name in self.limits.keys() & self.queues.keys():
            what = "a resource" if name in self.resources else "an executor"
            fail_at(("queues", name), f"{name!r} names both {what} and a queue", name)
        for i, group in enumerate(self.players):
            for loc, step in _steps_with_places(group.round, ("players", i, "steps")):
                self._check_step(loc, step)
            if group.serves is not None:
                loc = ("players", i, "serves")
                if group.serves not in self.queues:
                    fail_at(loc, _undeclared("queue", group.serves, self.queues), group.serves)
                if not any(other.puts(group.serves) for other in self.players):
                    message = f"no step puts into queue {group.serves!r}: nothing would be served"
                    fail_at(loc, message, group.serves)
        self.items()  # refuses a queue fed by its own consumers
        return self

    def _check_step(self, loc: Loc, step: Step) -> None:
        if step.with_ is not None:
            name, units = step.with_.resource, step.with_.units
            if name not in self.limits:
                fail_at((*loc, "with"), _undeclared("resource", name, self.limits), name)
            if units > self.limits[name]:
                message = (
                    f"takes {units} units of {name!r}, which has {self.limits[name]}: "
                    "it could never be granted"
                )
                fail_at((*loc, "with"), message, units)
            if name in self.executors:
                if units != 1:
                    message = f"a job takes one worker of executor {name!r}, not {units}"
                    fail_at((*loc, "with", "units"), message, units)
                for j, inner in enumerate(step.inner):
                    if inner.kind not in _JOB_KINDS:
                        message = (
                            f"a job on executor {name!r} holds host and wait steps only, not "
                            f"{inner.kind!r}: in a worker thread, a blocking call or C code "
                            "that releases the GIL holds neither the GIL nor the loop: a `wait`"
                        )
                        fail_at((*loc, "steps", j), message, inner.kind)
        if step.put is not None and step.put not in self.queues:
            fail_at((*loc, "put"), _undeclared("queue", step.put, self.queues), step.put)

    @property
    def limits(self) -> dict[str, int]:
        """Every name a `with` may take units of, with its capacity: the resources, then
        the executors (an executor is a resource whose units are worker threads)."""
        return {**self.resources, **self.executors}

    @property
    def shares(self) -> bool:
        """True when games share more than the hosts: resources, queues or a fan-out."""
        return bool(self.limits or self.queues) or any(
            step.kind not in TIMED_KINDS or group.serves is not None
            for group in self.players
            for top in group.round
            for step in top.walk()
        )

    def items(self) -> dict[str, int]:
        """Items put into each queue over the whole run (a consumer's puts included).

        A consumer plays one round per item it takes, so what it puts depends on
        what is put into the queue it serves; a queue fed, through its consumers,
        by itself would have no count and is refused.
        """
        counted: dict[str, int] = {}

        def count(queue: str, seen: tuple[str, ...]) -> int:
            if queue in seen:
                path = " → ".join((*seen[seen.index(queue) :], queue))
                fail_at(("queues", queue), f"queue {queue!r} feeds itself ({path})", queue)
            if queue not in counted:
                counted[queue] = sum(
                    self.rounds(group, lambda q: count(q, (*seen, queue))) * group.puts(queue)
                    for group in self.players
                    if group.puts(queue)
                )
            return counted[queue]

        for queue in self.queues:
            count(queue, ())
        return counted

    @staticmethod
    def rounds(group: PlayerGroup, items: Any) -> int:
        """Rounds the group plays in all: `count × moves`, or at most the items it serves."""
        return items(group.serves) if group.serves is not None else group.count * group.moves

    @property
    def games(self) -> int:
        return sum(group.count for group in self.players)

    @property
    def kinds(self) -> frozenset[StepKind]:
        """The kinds of the steps its rounds spell, those inside `with` and `gather` too."""
        return frozenset(
            step.kind for group in self.players for top in group.round for step in top.walk()
        )

    @property
    def random(self) -> bool:
        """True when some step's duration is drawn from a distribution."""
        return any(
            step.law is not None
            for group in self.players
            for top in group.round
            for step in top.walk()
        )

    @property
    def step_count(self) -> int:
        """Steps over all games: the size of the trace (at most, when queues are served)."""
        return sum(self.rows_by_group())

    def rows_by_group(self) -> list[int]:
        """Steps each group adds to the trace. A group serving a queue is counted as if
        its players took every item, plus a last `get` each."""
        if not self.shares:
            return [group.count * group.moves * len(group.round) for group in self.players]
        items = self.items()
        return [
            self.rounds(group, items.__getitem__) * group.rows_per_round
            + (group.count if group.serves is not None else 0)
            for group in self.players
        ]


def _steps_with_places(steps: tuple[Step, ...], loc: Loc) -> Iterator[tuple[Loc, Step]]:
    """Every step inside `steps`, depth first, with its place in the file."""
    for j, step in enumerate(steps):
        yield (*loc, j), step
        if step.with_ is not None:
            yield from _steps_with_places(step.inner, (*loc, j, "steps"))
        elif step.gather is not None:
            yield from _steps_with_places(step.inner, (*loc, j, "gather", "steps"))


def _undeclared(what: str, name: str, declared: dict) -> str:
    known = ", ".join(sorted(declared)) or "none"
    where = "`resources:` or `executors:`" if what == "resource" else "`queues:`"
    return f"unknown {what} {name!r}: declare it under {where} (declared: {known})"


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
            fail_at(loc, f"{what} {named(name)} appears twice; each must be unique", name)
        seen.add(name)
